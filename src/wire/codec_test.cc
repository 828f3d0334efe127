// Tests for the wire codec: round trips for every message and refusal of broken frames.
#include "wire/codec.h"

#include <flatbuffers/flatbuffers.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "schema/wojak_generated.h"

namespace wojak {
namespace {

using ::testing::HasSubstr;

OrderRequest SampleOrder() {
  OrderRequest o;
  o.client_order_id = "s1-000042";
  o.account = "ACC1";
  o.strategy = "short-straddle";
  o.exchange = "NFO";
  o.symbol = "NIFTY26JAN24000CE";
  o.side = Side::kSell;
  o.quantity = 75;
  o.order_type = OrderType::kStopLoss;
  o.product = Product::kMis;
  o.price = Paise::FromPaise(12050);
  o.trigger_price = Paise::FromPaise(12000);
  o.validity = Validity::kIoc;
  return o;
}

Decision SampleDuplicate() {
  Decision d;
  d.kind = DecisionKind::kDuplicate;
  d.client_order_id = "s1-000042";
  d.account = "ACC1";
  d.order_id = "W-000000000123";
  d.seq = 123;
  d.reasons = {{ReasonCode::k_DUPLICATE, "already decided", ""}};
  d.original_kind = DecisionKind::kRejected;
  d.original_reasons = {
      {ReasonCode::k_QTY_NOT_LOT_MULTIPLE, "quantity 70 is not a multiple of lot size 75", ""},
      {ReasonCode::k_INVALID_ORDER, "missing", "symbol"}};
  return d;
}

DecodedRequest RoundTrip(const Request& request, uint64_t request_id = 7) {
  StatusOr<DecodedRequest> decoded = DecodeRequest(EncodeRequest(request_id, request));
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  if (!decoded.ok()) return {};
  EXPECT_EQ(decoded->request_id, request_id);
  return *decoded;
}

// Builds an envelope by hand so tests can produce what the encoder never would.
std::string RawEnvelope(uint16_t version, uint64_t request_id, wire::Body type,
                        flatbuffers::FlatBufferBuilder& b, flatbuffers::Offset<void> body) {
  b.Finish(wire::CreateEnvelope(b, version, request_id, type, body));
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

std::string ExpectInvalid(std::string_view bytes) {
  StatusOr<DecodedRequest> decoded = DecodeRequest(bytes);
  EXPECT_FALSE(decoded.ok());
  if (decoded.ok()) return "";
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  return decoded.status().message();
}

TEST(CodecTest, NewOrderRoundTripsEveryField) {
  EXPECT_EQ(std::get<OrderRequest>(RoundTrip(SampleOrder()).request), SampleOrder());
}

TEST(CodecTest, MarketOrderWithoutPricesRoundTrips) {
  OrderRequest o = SampleOrder();
  o.order_type = OrderType::kMarket;
  o.price.reset();
  o.trigger_price.reset();
  o.strategy.clear();
  EXPECT_EQ(std::get<OrderRequest>(RoundTrip(o).request), o);
}

TEST(CodecTest, ZeroPriceIsDistinctFromNoPrice) {
  OrderRequest o = SampleOrder();
  o.price = Paise::FromPaise(0);
  o.trigger_price.reset();
  OrderRequest decoded = std::get<OrderRequest>(RoundTrip(o).request);
  ASSERT_TRUE(decoded.price.has_value());
  EXPECT_EQ(decoded.price->value(), 0);
  EXPECT_FALSE(decoded.trigger_price.has_value());
}

TEST(CodecTest, CancelRoundTrips) {
  CancelRequest c{"ACC1", "s1-1"};
  EXPECT_EQ(std::get<CancelRequest>(RoundTrip(c).request), c);
}

TEST(CodecTest, ModifyRoundTripsWithSomeFieldsAbsent) {
  ModifyRequest m{"ACC1", "s1-1", 150, std::nullopt, Paise::FromPaise(995)};
  EXPECT_EQ(std::get<ModifyRequest>(RoundTrip(m).request), m);
}

TEST(CodecTest, VerdictRoundTrips) {
  EscalationVerdict v{"W-000000000009", false, "too large"};
  EXPECT_EQ(std::get<EscalationVerdict>(RoundTrip(v).request), v);
}

TEST(CodecTest, AdminRoundTrips) {
  AdminRequest a{AdminAction::kReduceOnly, AdminScope::kStrategy, "short-straddle"};
  EXPECT_EQ(std::get<AdminRequest>(RoundTrip(a).request), a);
}

TEST(CodecTest, PingRoundTrips) {
  EXPECT_TRUE(std::holds_alternative<PingRequest>(RoundTrip(PingRequest{}, 99).request));
}

TEST(CodecTest, LargestRequestIdSurvives) {
  EXPECT_EQ(RoundTrip(PingRequest{}, UINT64_MAX).request_id, UINT64_MAX);
}

TEST(CodecTest, DecisionReplyRoundTripsIncludingDuplicateOriginal) {
  StatusOr<Reply> reply = DecodeReply(EncodeDecisionReply(5, SampleDuplicate()));
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->request_id, 5u);
  EXPECT_FALSE(reply->is_pong);
  EXPECT_TRUE(reply->error.empty());
  EXPECT_EQ(reply->decision, SampleDuplicate());
}

TEST(CodecTest, RetryDecisionKeepsRetryAfter) {
  Decision d;
  d.kind = DecisionKind::kRetry;
  d.retry_after_ms = 50;
  d.reasons = {{ReasonCode::k_ENGINE_BUSY, "queue full", ""}};
  StatusOr<Reply> reply = DecodeReply(EncodeDecisionReply(1, d));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->decision, d);
}

TEST(CodecTest, PongDecodes) {
  StatusOr<Reply> reply = DecodeReply(EncodePong(11));
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->is_pong);
  EXPECT_EQ(reply->request_id, 11u);
}

TEST(CodecTest, ErrorReplyDecodesWithMessage) {
  StatusOr<Reply> reply = DecodeReply(EncodeErrorReply(12, "bad frame"));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->error, "bad frame");
  EXPECT_EQ(reply->request_id, 12u);
}

TEST(CodecTest, ErrorReplyWithoutMessageStillReadsAsError) {
  StatusOr<Reply> reply = DecodeReply(EncodeErrorReply(12, ""));
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->error.empty());
}

TEST(CodecTest, RequestIsNotAReply) {
  StatusOr<Reply> reply = DecodeReply(EncodeRequest(1, PingRequest{}));
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(), HasSubstr("Ping is not a reply"));
}

TEST(CodecTest, ReplyIsNotARequest) {
  EXPECT_THAT(ExpectInvalid(EncodePong(1)), HasSubstr("Pong is not a request"));
}

TEST(CodecTest, EmptyFrameIsRefused) {
  EXPECT_THAT(ExpectInvalid(""), HasSubstr("not a Wojak envelope"));
}

TEST(CodecTest, TruncationIsRefusedUnlessOnlyTrailingPaddingIsLost) {
  std::string bytes = EncodeRequest(3, SampleOrder());
  size_t refused = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    StatusOr<DecodedRequest> decoded = DecodeRequest(std::string_view(bytes).substr(0, n));
    if (!decoded.ok()) {
      ++refused;
      continue;
    }
    // The builder pads the end of the buffer for alignment; losing only padding loses nothing.
    EXPECT_EQ(std::get<OrderRequest>(decoded->request), SampleOrder()) << "length " << n;
  }
  EXPECT_GE(refused + 8, bytes.size());
}

TEST(CodecTest, GarbageNeverCrashesTheDecoders) {
  std::mt19937 rng(20240601);
  int refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 256, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    refused += DecodeRequest(bytes).ok() ? 0 : 1;
    DecodeReply(bytes).status().IgnoreError();
    DecodeJournalRecord(bytes).status().IgnoreError();
    DecodeTickBatch(bytes).status().IgnoreError();
    PeekRequestId(bytes);
  }
  EXPECT_GT(refused, 19000);
}

TEST(CodecTest, BitFlipsInAValidFrameNeverCrashTheDecoder) {
  std::string original = EncodeRequest(3, SampleOrder());
  for (size_t i = 0; i < original.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bytes = original;
      bytes[i] = static_cast<char>(bytes[i] ^ (1 << bit));
      DecodeRequest(bytes).status().IgnoreError();
    }
  }
  SUCCEED();
}

TEST(CodecTest, UnalignedFrameDecodes) {
  std::string bytes = EncodeRequest(8, SampleOrder());
  std::string shifted = "x" + bytes;
  StatusOr<DecodedRequest> decoded = DecodeRequest(std::string_view(shifted).substr(1));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(std::get<OrderRequest>(decoded->request), SampleOrder());
}

TEST(CodecTest, UnknownVersionIsRefusedByName) {
  flatbuffers::FlatBufferBuilder b;
  std::string bytes = RawEnvelope(2, 77, wire::Body::Ping, b, wire::CreatePing(b).Union());
  EXPECT_THAT(ExpectInvalid(bytes), HasSubstr("version 2 is not supported"));
  EXPECT_EQ(PeekRequestId(bytes), 77u);
}

TEST(CodecTest, MissingVersionIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  std::string bytes = RawEnvelope(0, 1, wire::Body::Ping, b, wire::CreatePing(b).Union());
  EXPECT_THAT(ExpectInvalid(bytes), HasSubstr("version is missing"));
}

TEST(CodecTest, MissingBodyIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  std::string bytes = RawEnvelope(kWireVersion, 1, wire::Body::NONE, b, 0);
  EXPECT_THAT(ExpectInvalid(bytes), HasSubstr("no body"));
}

TEST(CodecTest, UnknownBodyTypeIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  std::string bytes =
      RawEnvelope(kWireVersion, 1, static_cast<wire::Body>(200), b, wire::CreatePing(b).Union());
  EXPECT_THAT(ExpectInvalid(bytes), HasSubstr("body type 200 is unknown"));
}

TEST(CodecTest, MissingRequiredStringIsNamed) {
  flatbuffers::FlatBufferBuilder b;
  auto body = wire::CreateCancelOrder(b, b.CreateString("ACC1"), 0);
  std::string bytes = RawEnvelope(kWireVersion, 1, wire::Body::CancelOrder, b, body.Union());
  EXPECT_THAT(ExpectInvalid(bytes), HasSubstr("CancelOrder.client_order_id is missing"));
}

TEST(CodecTest, UnknownEnumValueIsNamed) {
  flatbuffers::FlatBufferBuilder b;
  auto body =
      wire::CreateNewOrder(b, b.CreateString("c"), b.CreateString("a"), 0, b.CreateString("NFO"),
                           b.CreateString("X"), static_cast<wire::Side>(9));
  std::string bytes = RawEnvelope(kWireVersion, 1, wire::Body::NewOrder, b, body.Union());
  EXPECT_THAT(ExpectInvalid(bytes), HasSubstr("NewOrder.side has unknown value 9"));
}

TEST(CodecTest, UnknownReasonCodeIsNamed) {
  flatbuffers::FlatBufferBuilder b;
  auto reason = wire::CreateReason(b, b.CreateString("NOT_A_CODE"));
  auto reasons = b.CreateVector(&reason, 1);
  auto body = wire::CreateDecisionReply(b, wire::DecisionKind::REJECTED, 0, 0, 0, 0, reasons);
  std::string bytes = RawEnvelope(kWireVersion, 1, wire::Body::DecisionReply, b, body.Union());
  StatusOr<Reply> reply = DecodeReply(bytes);
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.status().message(), HasSubstr("\"NOT_A_CODE\" is unknown"));
}

TEST(CodecTest, ExecutionReportIsNotAClientRequest) {
  flatbuffers::FlatBufferBuilder b;
  auto body = wire::CreateExecutionReport(b, b.CreateString("W-1"));
  std::string bytes = RawEnvelope(kWireVersion, 1, wire::Body::ExecutionReport, b, body.Union());
  EXPECT_THAT(ExpectInvalid(bytes), HasSubstr("ExecutionReport is not a request"));
}

TEST(CodecTest, PeekRequestIdOfGarbageIsZero) {
  EXPECT_EQ(PeekRequestId("\x01\x02"), 0u);
  EXPECT_EQ(PeekRequestId(""), 0u);
}

JournalRecord SampleRecord() {
  JournalRecord r;
  r.input = SampleOrder();
  r.decision = SampleDuplicate();
  r.order_id = "W-000000000123";
  r.reference_price = Paise::FromPaise(12010);
  r.reference_source = ReferenceSource::kLtp;
  r.effective_price = Paise::FromPaise(12050);
  return r;
}

TEST(CodecTest, JournalRecordRoundTripsEveryInputKind) {
  std::vector<JournalInput> inputs = {
      SampleOrder(),
      CancelRequest{"ACC1", "s1-1"},
      ModifyRequest{"ACC1", "s1-1", std::nullopt, Paise::FromPaise(1), std::nullopt},
      EscalationVerdict{"W-000000000001", true, ""},
      AdminRequest{AdminAction::kHalt, AdminScope::kAccount, "ACC1"},
      ExecutionReport{"W-000000000001", ExecutionStatus::kPartiallyFilled, 25,
                      Paise::FromPaise(12100), "", "sandbox"},
  };
  for (const JournalInput& input : inputs) {
    JournalRecord record = SampleRecord();
    record.input = input;
    StatusOr<JournalRecord> decoded = DecodeJournalRecord(EncodeJournalRecord(record));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, record) << "input index " << input.index();
  }
}

TEST(CodecTest, JournalRecordWithoutReferencePriceRoundTrips) {
  JournalRecord record = SampleRecord();
  record.reference_price.reset();
  record.reference_source = ReferenceSource::kNone;
  record.effective_price.reset();
  record.order_id.clear();
  StatusOr<JournalRecord> decoded = DecodeJournalRecord(EncodeJournalRecord(record));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, record);
}

TEST(CodecTest, CorruptJournalRecordIsDataLoss) {
  std::string bytes = EncodeJournalRecord(SampleRecord());
  StatusOr<JournalRecord> decoded =
      DecodeJournalRecord(std::string_view(bytes).substr(0, bytes.size() / 2));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
}

TEST(CodecTest, TickBatchRoundTrips) {
  std::vector<TickUpdate> ticks = {
      {256265, "", Paise::FromPaise(2415005), 1'700'000'000'000'000'000, Paise::FromPaise(2415000),
       Paise::FromPaise(2415010), 1'234'500},
      {0, "NIFTY26JAN24000CE", Paise::FromPaise(12050), 1'700'000'000'000'000'001, std::nullopt,
       std::nullopt, std::nullopt},
  };
  StatusOr<std::vector<TickUpdate>> decoded = DecodeTickBatch(EncodeTickBatch(4, ticks));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, ticks);
}

TEST(CodecTest, EmptyTickBatchRoundTrips) {
  StatusOr<std::vector<TickUpdate>> decoded = DecodeTickBatch(EncodeTickBatch(4, {}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(CodecTest, TickWithoutInstrumentIsRefused) {
  std::vector<TickUpdate> ticks = {{0, "", Paise::FromPaise(1), 1, {}, {}, {}}};
  StatusOr<std::vector<TickUpdate>> decoded = DecodeTickBatch(EncodeTickBatch(4, ticks));
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(), HasSubstr("ticks[0] names no instrument"));
}

TEST(CodecTest, OutboxDeliveryRoundTrips) {
  OutboxDelivery delivery{7, 42, "escalation", "ACC1",
                          R"({"outbox_seq":7,"entry_seq":42,"topic":"escalation","payload":{}})"};
  StatusOr<OutboxDelivery> decoded = DecodeOutboxDelivery(EncodeOutboxDelivery(3, delivery));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, delivery);
}

TEST(CodecTest, OutboxDeliveryWithoutBodyIsRefused) {
  flatbuffers::FlatBufferBuilder b;
  auto body = wire::CreateOutboxDelivery(b, 7, 42, b.CreateString("escalation"),
                                         b.CreateString("ACC1"), 0);
  std::string bytes = RawEnvelope(kWireVersion, 1, wire::Body::OutboxDelivery, b, body.Union());
  StatusOr<OutboxDelivery> decoded = DecodeOutboxDelivery(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(), HasSubstr("OutboxDelivery.body is missing"));
}

TEST(CodecTest, OutboxDeliveryDecoderRefusesOtherBodies) {
  StatusOr<OutboxDelivery> decoded = DecodeOutboxDelivery(EncodePong(1));
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(), HasSubstr("is not an OutboxDelivery"));
}

TEST(CodecTest, OutboxReceiptRoundTripsBothOutcomes) {
  OutboxReceipt accepted{7, true, ""};
  OutboxReceipt refused{8, false, "no PubAck within 5000 ms"};
  StatusOr<OutboxReceipt> decoded_accepted = DecodeOutboxReceipt(EncodeOutboxReceipt(1, accepted));
  StatusOr<OutboxReceipt> decoded_refused = DecodeOutboxReceipt(EncodeOutboxReceipt(2, refused));
  ASSERT_TRUE(decoded_accepted.ok()) << decoded_accepted.status().ToString();
  ASSERT_TRUE(decoded_refused.ok()) << decoded_refused.status().ToString();
  EXPECT_EQ(*decoded_accepted, accepted);
  EXPECT_EQ(*decoded_refused, refused);
}

TEST(CodecTest, RefusedOutboxReceiptAlwaysCarriesAnError) {
  StatusOr<OutboxReceipt> decoded = DecodeOutboxReceipt(EncodeOutboxReceipt(1, {9, false, ""}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->ok);
  EXPECT_FALSE(decoded->error.empty());
}

TEST(CodecTest, EngineRefusesAnOutboxDeliveryAsARequest) {
  StatusOr<DecodedRequest> decoded = DecodeRequest(EncodeOutboxDelivery(1, {1, 1, "t", "a", "b"}));
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(), HasSubstr("is not a request"));
}

}  // namespace
}  // namespace wojak
