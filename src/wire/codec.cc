// Wire codec: builds and verifies FlatBuffers envelopes and journal records.
#include "wire/codec.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>
#include <type_traits>
#include <vector>

#include "schema/wojak_generated.h"

namespace wojak {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;  // clang < 17 lacks aggregate deduction

// ---- Enum mapping. Model → wire switches are exhaustive, so adding a model enumerator without
// a wire one fails to compile; wire → model is a range check plus these pinned equalities.

#define WOJAK_SAME_VALUE(model, wire_value) \
  static_assert(static_cast<int>(model) == static_cast<int>(wire_value))
WOJAK_SAME_VALUE(Side::kBuy, wire::Side::BUY);
WOJAK_SAME_VALUE(Side::kSell, wire::Side::SELL);
WOJAK_SAME_VALUE(OrderType::kMarket, wire::OrderType::MARKET);
WOJAK_SAME_VALUE(OrderType::kLimit, wire::OrderType::LIMIT);
WOJAK_SAME_VALUE(OrderType::kStopLoss, wire::OrderType::SL);
WOJAK_SAME_VALUE(OrderType::kStopLossMarket, wire::OrderType::SL_M);
WOJAK_SAME_VALUE(Product::kNrml, wire::Product::NRML);
WOJAK_SAME_VALUE(Product::kMis, wire::Product::MIS);
WOJAK_SAME_VALUE(Validity::kDay, wire::Validity::DAY);
WOJAK_SAME_VALUE(Validity::kIoc, wire::Validity::IOC);
WOJAK_SAME_VALUE(DecisionKind::kAccepted, wire::DecisionKind::ACCEPTED);
WOJAK_SAME_VALUE(DecisionKind::kRejected, wire::DecisionKind::REJECTED);
WOJAK_SAME_VALUE(DecisionKind::kEscalated, wire::DecisionKind::ESCALATED);
WOJAK_SAME_VALUE(DecisionKind::kDuplicate, wire::DecisionKind::DUPLICATE);
WOJAK_SAME_VALUE(DecisionKind::kRetry, wire::DecisionKind::RETRY);
WOJAK_SAME_VALUE(AdminAction::kHalt, wire::AdminAction::HALT);
WOJAK_SAME_VALUE(AdminAction::kResume, wire::AdminAction::RESUME);
WOJAK_SAME_VALUE(AdminAction::kReduceOnly, wire::AdminAction::REDUCE_ONLY);
WOJAK_SAME_VALUE(AdminScope::kGlobal, wire::AdminScope::GLOBAL);
WOJAK_SAME_VALUE(AdminScope::kAccount, wire::AdminScope::ACCOUNT);
WOJAK_SAME_VALUE(AdminScope::kStrategy, wire::AdminScope::STRATEGY);
WOJAK_SAME_VALUE(ExecutionStatus::kFilled, wire::ExecutionStatus::FILLED);
WOJAK_SAME_VALUE(ExecutionStatus::kPartiallyFilled, wire::ExecutionStatus::PARTIALLY_FILLED);
WOJAK_SAME_VALUE(ExecutionStatus::kFailed, wire::ExecutionStatus::FAILED);
WOJAK_SAME_VALUE(ReferenceSource::kNone, wire::ReferenceSource::NONE);
WOJAK_SAME_VALUE(ReferenceSource::kLtp, wire::ReferenceSource::LTP);
WOJAK_SAME_VALUE(ReferenceSource::kMaster, wire::ReferenceSource::MASTER);
#undef WOJAK_SAME_VALUE

wire::Side ToWire(Side v) {
  switch (v) {
    case Side::kBuy:
      return wire::Side::BUY;
    case Side::kSell:
      return wire::Side::SELL;
  }
  return wire::Side::BUY;
}
wire::OrderType ToWire(OrderType v) {
  switch (v) {
    case OrderType::kMarket:
      return wire::OrderType::MARKET;
    case OrderType::kLimit:
      return wire::OrderType::LIMIT;
    case OrderType::kStopLoss:
      return wire::OrderType::SL;
    case OrderType::kStopLossMarket:
      return wire::OrderType::SL_M;
  }
  return wire::OrderType::LIMIT;
}
wire::Product ToWire(Product v) {
  switch (v) {
    case Product::kNrml:
      return wire::Product::NRML;
    case Product::kMis:
      return wire::Product::MIS;
  }
  return wire::Product::NRML;
}
wire::Validity ToWire(Validity v) {
  switch (v) {
    case Validity::kDay:
      return wire::Validity::DAY;
    case Validity::kIoc:
      return wire::Validity::IOC;
  }
  return wire::Validity::DAY;
}
wire::DecisionKind ToWire(DecisionKind v) {
  switch (v) {
    case DecisionKind::kAccepted:
      return wire::DecisionKind::ACCEPTED;
    case DecisionKind::kRejected:
      return wire::DecisionKind::REJECTED;
    case DecisionKind::kEscalated:
      return wire::DecisionKind::ESCALATED;
    case DecisionKind::kDuplicate:
      return wire::DecisionKind::DUPLICATE;
    case DecisionKind::kRetry:
      return wire::DecisionKind::RETRY;
  }
  return wire::DecisionKind::RETRY;
}
wire::AdminAction ToWire(AdminAction v) {
  switch (v) {
    case AdminAction::kHalt:
      return wire::AdminAction::HALT;
    case AdminAction::kResume:
      return wire::AdminAction::RESUME;
    case AdminAction::kReduceOnly:
      return wire::AdminAction::REDUCE_ONLY;
  }
  return wire::AdminAction::HALT;
}
wire::AdminScope ToWire(AdminScope v) {
  switch (v) {
    case AdminScope::kGlobal:
      return wire::AdminScope::GLOBAL;
    case AdminScope::kAccount:
      return wire::AdminScope::ACCOUNT;
    case AdminScope::kStrategy:
      return wire::AdminScope::STRATEGY;
  }
  return wire::AdminScope::GLOBAL;
}
wire::ExecutionStatus ToWire(ExecutionStatus v) {
  switch (v) {
    case ExecutionStatus::kFilled:
      return wire::ExecutionStatus::FILLED;
    case ExecutionStatus::kPartiallyFilled:
      return wire::ExecutionStatus::PARTIALLY_FILLED;
    case ExecutionStatus::kFailed:
      return wire::ExecutionStatus::FAILED;
  }
  return wire::ExecutionStatus::FAILED;
}
wire::ReferenceSource ToWire(ReferenceSource v) {
  switch (v) {
    case ReferenceSource::kNone:
      return wire::ReferenceSource::NONE;
    case ReferenceSource::kLtp:
      return wire::ReferenceSource::LTP;
    case ReferenceSource::kMaster:
      return wire::ReferenceSource::MASTER;
  }
  return wire::ReferenceSource::NONE;
}

// ---- Encoding helpers.

// One builder per thread, reused, so encoding allocates only the returned string once warm.
FlatBufferBuilder& ClearedBuilder() {
  thread_local FlatBufferBuilder builder(1024);
  builder.Clear();
  return builder;
}

std::string Bytes(const FlatBufferBuilder& builder) {
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
}

// Optional strings are left out when empty; the decoder reads an absent string as "".
Offset<flatbuffers::String> OptionalString(FlatBufferBuilder& b, const std::string& s) {
  return s.empty() ? Offset<flatbuffers::String>() : b.CreateString(s);
}

flatbuffers::Optional<int64_t> OptionalPaise(const std::optional<Paise>& p) {
  if (!p) return flatbuffers::nullopt;
  return p->value();
}

Offset<wire::NewOrder> BuildNewOrder(FlatBufferBuilder& b, const OrderRequest& o) {
  return wire::CreateNewOrder(b, b.CreateString(o.client_order_id), b.CreateString(o.account),
                              OptionalString(b, o.strategy), b.CreateString(o.exchange),
                              b.CreateString(o.symbol), ToWire(o.side), o.quantity,
                              ToWire(o.order_type), ToWire(o.product), OptionalPaise(o.price),
                              OptionalPaise(o.trigger_price), ToWire(o.validity));
}

Offset<wire::CancelOrder> BuildCancel(FlatBufferBuilder& b, const CancelRequest& c) {
  return wire::CreateCancelOrder(b, b.CreateString(c.account), b.CreateString(c.client_order_id));
}

Offset<wire::ModifyOrder> BuildModify(FlatBufferBuilder& b, const ModifyRequest& m) {
  flatbuffers::Optional<int64_t> quantity = flatbuffers::nullopt;
  if (m.quantity) quantity = *m.quantity;
  return wire::CreateModifyOrder(b, b.CreateString(m.account), b.CreateString(m.client_order_id),
                                 quantity, OptionalPaise(m.price), OptionalPaise(m.trigger_price));
}

Offset<wire::EscalationVerdict> BuildVerdict(FlatBufferBuilder& b, const EscalationVerdict& v) {
  return wire::CreateEscalationVerdict(b, b.CreateString(v.order_id), v.approve,
                                       OptionalString(b, v.reason));
}

Offset<wire::Admin> BuildAdmin(FlatBufferBuilder& b, const AdminRequest& a) {
  return wire::CreateAdmin(b, ToWire(a.action), ToWire(a.scope), OptionalString(b, a.target));
}

Offset<wire::ExecutionReport> BuildExecution(FlatBufferBuilder& b, const ExecutionReport& e) {
  return wire::CreateExecutionReport(b, b.CreateString(e.order_id), ToWire(e.status),
                                     e.filled_quantity, e.fill_price.value(),
                                     OptionalString(b, e.reason), OptionalString(b, e.executor));
}

Offset<flatbuffers::Vector<Offset<wire::Reason>>> BuildReasons(FlatBufferBuilder& b,
                                                               const std::vector<Reason>& reasons) {
  if (reasons.empty()) return 0;
  return b.CreateVector<Offset<wire::Reason>>(reasons.size(), [&](size_t i) {
    const Reason& r = reasons[i];
    auto code = b.CreateString(ReasonCodeName(r.code).data(), ReasonCodeName(r.code).size());
    return wire::CreateReason(b, code, OptionalString(b, r.message), OptionalString(b, r.field));
  });
}

Offset<wire::DecisionReply> BuildDecision(FlatBufferBuilder& b, const Decision& d) {
  auto client_order_id = OptionalString(b, d.client_order_id);
  auto account = OptionalString(b, d.account);
  auto order_id = OptionalString(b, d.order_id);
  auto reasons = BuildReasons(b, d.reasons);
  auto original_reasons = BuildReasons(b, d.original_reasons);
  flatbuffers::Optional<wire::DecisionKind> original_kind = flatbuffers::nullopt;
  if (d.original_kind) original_kind = ToWire(*d.original_kind);
  return wire::CreateDecisionReply(b, ToWire(d.kind), client_order_id, account, order_id, d.seq,
                                   reasons, d.retry_after_ms, original_kind, original_reasons);
}

std::string FinishEnvelope(FlatBufferBuilder& b, uint64_t request_id, wire::Body type,
                           Offset<void> body) {
  b.Finish(wire::CreateEnvelope(b, kWireVersion, request_id, type, body));
  return Bytes(b);
}

// ---- Decoding helpers. Every failure names the table and field.

std::string Where(std::string_view table, std::string_view field) {
  std::string where(table);
  where += '.';
  where += field;
  return where;
}

Status RequiredString(const flatbuffers::String* s, std::string_view table, std::string_view field,
                      std::string& out) {
  if (s == nullptr) return InvalidArgument(Where(table, field) + " is missing");
  out.assign(s->data(), s->size());
  return OkStatus();
}

void OptionalString(const flatbuffers::String* s, std::string& out) {
  if (s == nullptr) {
    out.clear();
  } else {
    out.assign(s->data(), s->size());
  }
}

template <typename WireEnum, typename ModelEnum>
Status EnumValue(WireEnum value, std::string_view table, std::string_view field, ModelEnum& out) {
  auto raw = static_cast<std::underlying_type_t<WireEnum>>(value);
  if (raw > static_cast<std::underlying_type_t<WireEnum>>(WireEnum::MAX)) {
    return InvalidArgument(Where(table, field) + " has unknown value " + std::to_string(raw));
  }
  out = static_cast<ModelEnum>(raw);
  return OkStatus();
}

std::optional<Paise> ToPaise(flatbuffers::Optional<int64_t> v) {
  if (!v) return std::nullopt;
  return Paise::FromPaise(*v);
}

Status DecodeNewOrder(const wire::NewOrder& in, OrderRequest& o) {
  constexpr std::string_view kTable = "NewOrder";
  WOJAK_RETURN_IF_ERROR(
      RequiredString(in.client_order_id(), kTable, "client_order_id", o.client_order_id));
  WOJAK_RETURN_IF_ERROR(RequiredString(in.account(), kTable, "account", o.account));
  OptionalString(in.strategy(), o.strategy);
  WOJAK_RETURN_IF_ERROR(RequiredString(in.exchange(), kTable, "exchange", o.exchange));
  WOJAK_RETURN_IF_ERROR(RequiredString(in.symbol(), kTable, "symbol", o.symbol));
  WOJAK_RETURN_IF_ERROR(EnumValue(in.side(), kTable, "side", o.side));
  o.quantity = in.quantity();
  WOJAK_RETURN_IF_ERROR(EnumValue(in.order_type(), kTable, "order_type", o.order_type));
  WOJAK_RETURN_IF_ERROR(EnumValue(in.product(), kTable, "product", o.product));
  o.price = ToPaise(in.price());
  o.trigger_price = ToPaise(in.trigger_price());
  return EnumValue(in.validity(), kTable, "validity", o.validity);
}

Status DecodeCancel(const wire::CancelOrder& in, CancelRequest& c) {
  WOJAK_RETURN_IF_ERROR(RequiredString(in.account(), "CancelOrder", "account", c.account));
  return RequiredString(in.client_order_id(), "CancelOrder", "client_order_id", c.client_order_id);
}

Status DecodeModify(const wire::ModifyOrder& in, ModifyRequest& m) {
  WOJAK_RETURN_IF_ERROR(RequiredString(in.account(), "ModifyOrder", "account", m.account));
  WOJAK_RETURN_IF_ERROR(
      RequiredString(in.client_order_id(), "ModifyOrder", "client_order_id", m.client_order_id));
  m.quantity = in.quantity() ? std::optional<Qty>(*in.quantity()) : std::nullopt;
  m.price = ToPaise(in.price());
  m.trigger_price = ToPaise(in.trigger_price());
  return OkStatus();
}

Status DecodeVerdict(const wire::EscalationVerdict& in, EscalationVerdict& v) {
  WOJAK_RETURN_IF_ERROR(RequiredString(in.order_id(), "EscalationVerdict", "order_id", v.order_id));
  v.approve = in.approve();
  OptionalString(in.reason(), v.reason);
  return OkStatus();
}

Status DecodeAdmin(const wire::Admin& in, AdminRequest& a) {
  WOJAK_RETURN_IF_ERROR(EnumValue(in.action(), "Admin", "action", a.action));
  WOJAK_RETURN_IF_ERROR(EnumValue(in.scope(), "Admin", "scope", a.scope));
  OptionalString(in.target(), a.target);
  return OkStatus();
}

Status DecodeExecution(const wire::ExecutionReport& in, ExecutionReport& e) {
  WOJAK_RETURN_IF_ERROR(RequiredString(in.order_id(), "ExecutionReport", "order_id", e.order_id));
  WOJAK_RETURN_IF_ERROR(EnumValue(in.status(), "ExecutionReport", "status", e.status));
  e.filled_quantity = in.filled_quantity();
  e.fill_price = Paise::FromPaise(in.fill_price());
  OptionalString(in.reason(), e.reason);
  OptionalString(in.executor(), e.executor);
  return OkStatus();
}

Status DecodeReasons(const flatbuffers::Vector<Offset<wire::Reason>>* in, std::string_view field,
                     std::vector<Reason>& out) {
  out.clear();
  if (in == nullptr) return OkStatus();
  out.resize(in->size());
  for (flatbuffers::uoffset_t i = 0; i < in->size(); ++i) {
    const wire::Reason* r = in->Get(i);
    std::string where = Where("DecisionReply", field) + "[" + std::to_string(i) + "]";
    if (r->code() == nullptr) return InvalidArgument(where + ".code is missing");
    std::string_view code(r->code()->data(), r->code()->size());
    std::optional<ReasonCode> parsed = ParseReasonCode(code);
    if (!parsed) return InvalidArgument(where + ".code \"" + std::string(code) + "\" is unknown");
    out[i].code = *parsed;
    OptionalString(r->message(), out[i].message);
    OptionalString(r->field(), out[i].field);
  }
  return OkStatus();
}

Status DecodeDecision(const wire::DecisionReply& in, Decision& d) {
  WOJAK_RETURN_IF_ERROR(EnumValue(in.kind(), "DecisionReply", "kind", d.kind));
  OptionalString(in.client_order_id(), d.client_order_id);
  OptionalString(in.account(), d.account);
  OptionalString(in.order_id(), d.order_id);
  d.seq = in.seq();
  WOJAK_RETURN_IF_ERROR(DecodeReasons(in.reasons(), "reasons", d.reasons));
  d.retry_after_ms = in.retry_after_ms();
  d.original_kind.reset();
  if (in.original_kind()) {
    DecisionKind original;
    WOJAK_RETURN_IF_ERROR(
        EnumValue(*in.original_kind(), "DecisionReply", "original_kind", original));
    d.original_kind = original;
  }
  return DecodeReasons(in.original_reasons(), "original_reasons", d.original_reasons);
}

// FlatBuffers checks scalar alignment; a frame at an unaligned address (a slice of a larger
// buffer) is copied once into aligned storage rather than refused.
class AlignedView {
 public:
  explicit AlignedView(std::string_view bytes) {
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) == 0) {
      data_ = reinterpret_cast<const uint8_t*>(bytes.data());
    } else {
      copy_.resize((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
      std::memcpy(copy_.data(), bytes.data(), bytes.size());
      data_ = reinterpret_cast<const uint8_t*>(copy_.data());
    }
    size_ = bytes.size();
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::vector<uint64_t> copy_;
};

// Reads the envelope's root table and header fields without trusting the rest of the frame.
// Null when even that much is unreadable.
const wire::Envelope* EnvelopeHeader(const AlignedView& view) {
  if (view.size() < sizeof(flatbuffers::uoffset_t) || view.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return nullptr;
  }
  flatbuffers::Verifier verifier(view.data(), view.size());
  if (!verifier.VerifyOffset(0)) return nullptr;
  const auto* envelope = flatbuffers::GetRoot<wire::Envelope>(view.data());
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(envelope);
  if (!table->VerifyTableStart(verifier) ||
      !table->VerifyField<uint16_t>(verifier, wire::Envelope::VT_VERSION, sizeof(uint16_t)) ||
      !table->VerifyField<uint64_t>(verifier, wire::Envelope::VT_REQUEST_ID, sizeof(uint64_t)) ||
      !table->VerifyField<uint8_t>(verifier, wire::Envelope::VT_BODY_TYPE, sizeof(uint8_t))) {
    return nullptr;
  }
  return envelope;
}

// A fully verified envelope of a version this build speaks, with a body of a known type.
StatusOr<const wire::Envelope*> VerifiedEnvelope(const AlignedView& view) {
  const wire::Envelope* envelope = EnvelopeHeader(view);
  if (envelope == nullptr) {
    return InvalidArgument("frame of " + std::to_string(view.size()) +
                           " bytes is not a Wojak envelope (truncated or corrupt)");
  }
  if (envelope->version() == 0) return InvalidArgument("envelope version is missing");
  if (envelope->version() != kWireVersion) {
    return InvalidArgument("envelope version " + std::to_string(envelope->version()) +
                           " is not supported (this build speaks version " +
                           std::to_string(kWireVersion) + ")");
  }
  flatbuffers::Verifier verifier(view.data(), view.size());
  if (!wire::VerifyEnvelopeBuffer(verifier)) {
    return InvalidArgument("envelope of " + std::to_string(view.size()) +
                           " bytes failed verification (truncated or corrupt)");
  }
  auto type = static_cast<uint8_t>(envelope->body_type());
  if (type > static_cast<uint8_t>(wire::Body::MAX)) {
    return InvalidArgument("envelope body type " + std::to_string(type) + " is unknown");
  }
  if (envelope->body_type() == wire::Body::NONE || envelope->body() == nullptr) {
    return InvalidArgument("envelope has no body");
  }
  return envelope;
}

std::string BodyName(wire::Body type) { return wire::EnumNameBody(type); }

}  // namespace

// ---- Requests.

std::string EncodeRequest(uint64_t request_id, const Request& request) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto [type, body] =
      std::visit(Overloaded{
                     [&](const OrderRequest& o) {
                       return std::pair(wire::Body::NewOrder, BuildNewOrder(b, o).Union());
                     },
                     [&](const CancelRequest& c) {
                       return std::pair(wire::Body::CancelOrder, BuildCancel(b, c).Union());
                     },
                     [&](const ModifyRequest& m) {
                       return std::pair(wire::Body::ModifyOrder, BuildModify(b, m).Union());
                     },
                     [&](const EscalationVerdict& v) {
                       return std::pair(wire::Body::EscalationVerdict, BuildVerdict(b, v).Union());
                     },
                     [&](const AdminRequest& a) {
                       return std::pair(wire::Body::Admin, BuildAdmin(b, a).Union());
                     },
                     [&](const PingRequest&) {
                       return std::pair(wire::Body::Ping, wire::CreatePing(b).Union());
                     },
                 },
                 request);
  return FinishEnvelope(b, request_id, type, body);
}

StatusOr<DecodedRequest> DecodeRequest(std::string_view bytes) {
  AlignedView view(bytes);
  WOJAK_ASSIGN_OR_RETURN(const wire::Envelope* envelope, VerifiedEnvelope(view));
  DecodedRequest out;
  out.request_id = envelope->request_id();
  Status status;
  switch (envelope->body_type()) {
    case wire::Body::NewOrder:
      status = DecodeNewOrder(*envelope->body_as_NewOrder(), out.request.emplace<OrderRequest>());
      break;
    case wire::Body::CancelOrder:
      status = DecodeCancel(*envelope->body_as_CancelOrder(), out.request.emplace<CancelRequest>());
      break;
    case wire::Body::ModifyOrder:
      status = DecodeModify(*envelope->body_as_ModifyOrder(), out.request.emplace<ModifyRequest>());
      break;
    case wire::Body::EscalationVerdict:
      status = DecodeVerdict(*envelope->body_as_EscalationVerdict(),
                             out.request.emplace<EscalationVerdict>());
      break;
    case wire::Body::Admin:
      status = DecodeAdmin(*envelope->body_as_Admin(), out.request.emplace<AdminRequest>());
      break;
    case wire::Body::Ping:
      out.request.emplace<PingRequest>();
      break;
    default:
      return InvalidArgument("envelope body " + BodyName(envelope->body_type()) +
                             " is not a request");
  }
  if (!status.ok()) return status;
  return out;
}

uint64_t PeekRequestId(std::string_view bytes) {
  AlignedView view(bytes);
  const wire::Envelope* envelope = EnvelopeHeader(view);
  return envelope == nullptr ? 0 : envelope->request_id();
}

// ---- Replies.

std::string EncodeDecisionReply(uint64_t request_id, const Decision& decision) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto body = BuildDecision(b, decision);
  return FinishEnvelope(b, request_id, wire::Body::DecisionReply, body.Union());
}

std::string EncodePong(uint64_t request_id) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto body = wire::CreatePong(b);
  return FinishEnvelope(b, request_id, wire::Body::Pong, body.Union());
}

std::string EncodeErrorReply(uint64_t request_id, std::string_view message) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto body = wire::CreateErrorReply(b, b.CreateString(message.data(), message.size()));
  return FinishEnvelope(b, request_id, wire::Body::ErrorReply, body.Union());
}

StatusOr<Reply> DecodeReply(std::string_view bytes) {
  AlignedView view(bytes);
  WOJAK_ASSIGN_OR_RETURN(const wire::Envelope* envelope, VerifiedEnvelope(view));
  Reply reply;
  reply.request_id = envelope->request_id();
  switch (envelope->body_type()) {
    case wire::Body::DecisionReply:
      WOJAK_RETURN_IF_ERROR(DecodeDecision(*envelope->body_as_DecisionReply(), reply.decision));
      break;
    case wire::Body::Pong:
      reply.is_pong = true;
      break;
    case wire::Body::ErrorReply: {
      OptionalString(envelope->body_as_ErrorReply()->message(), reply.error);
      if (reply.error.empty()) reply.error = "engine sent an ErrorReply without a message";
      break;
    }
    default:
      return InvalidArgument("envelope body " + BodyName(envelope->body_type()) +
                             " is not a reply");
  }
  return reply;
}

// ---- Journal records.

std::string EncodeJournalRecord(const JournalRecord& record) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto [input_type, input] = std::visit(
      Overloaded{
          [&](const OrderRequest& o) {
            return std::pair(wire::JournalInput::NewOrder, BuildNewOrder(b, o).Union());
          },
          [&](const CancelRequest& c) {
            return std::pair(wire::JournalInput::CancelOrder, BuildCancel(b, c).Union());
          },
          [&](const ModifyRequest& m) {
            return std::pair(wire::JournalInput::ModifyOrder, BuildModify(b, m).Union());
          },
          [&](const EscalationVerdict& v) {
            return std::pair(wire::JournalInput::EscalationVerdict, BuildVerdict(b, v).Union());
          },
          [&](const AdminRequest& a) {
            return std::pair(wire::JournalInput::Admin, BuildAdmin(b, a).Union());
          },
          [&](const ExecutionReport& e) {
            return std::pair(wire::JournalInput::ExecutionReport, BuildExecution(b, e).Union());
          },
      },
      record.input);
  auto decision = BuildDecision(b, record.decision);
  auto order_id = OptionalString(b, record.order_id);
  b.Finish(wire::CreateJournalRecord(
      b, input_type, input, decision, order_id, OptionalPaise(record.reference_price),
      ToWire(record.reference_source), OptionalPaise(record.effective_price)));
  return Bytes(b);
}

namespace {

Status DecodeJournalRecordInto(const AlignedView& view, JournalRecord& out) {
  if (view.size() < sizeof(flatbuffers::uoffset_t) || view.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return InvalidArgument("journal record of " + std::to_string(view.size()) +
                           " bytes is truncated");
  }
  flatbuffers::Verifier verifier(view.data(), view.size());
  if (!verifier.VerifyBuffer<wire::JournalRecord>(nullptr)) {
    return InvalidArgument("journal record of " + std::to_string(view.size()) +
                           " bytes failed verification (truncated or corrupt)");
  }
  const auto* record = flatbuffers::GetRoot<wire::JournalRecord>(view.data());
  if (record->input() == nullptr) return InvalidArgument("JournalRecord.input is missing");
  switch (record->input_type()) {
    case wire::JournalInput::NewOrder:
      WOJAK_RETURN_IF_ERROR(
          DecodeNewOrder(*record->input_as_NewOrder(), out.input.emplace<OrderRequest>()));
      break;
    case wire::JournalInput::CancelOrder:
      WOJAK_RETURN_IF_ERROR(
          DecodeCancel(*record->input_as_CancelOrder(), out.input.emplace<CancelRequest>()));
      break;
    case wire::JournalInput::ModifyOrder:
      WOJAK_RETURN_IF_ERROR(
          DecodeModify(*record->input_as_ModifyOrder(), out.input.emplace<ModifyRequest>()));
      break;
    case wire::JournalInput::EscalationVerdict:
      WOJAK_RETURN_IF_ERROR(DecodeVerdict(*record->input_as_EscalationVerdict(),
                                          out.input.emplace<EscalationVerdict>()));
      break;
    case wire::JournalInput::Admin:
      WOJAK_RETURN_IF_ERROR(
          DecodeAdmin(*record->input_as_Admin(), out.input.emplace<AdminRequest>()));
      break;
    case wire::JournalInput::ExecutionReport:
      WOJAK_RETURN_IF_ERROR(DecodeExecution(*record->input_as_ExecutionReport(),
                                            out.input.emplace<ExecutionReport>()));
      break;
    default:
      return InvalidArgument("JournalRecord.input has unknown type " +
                             std::to_string(static_cast<int>(record->input_type())));
  }
  if (record->decision() == nullptr) return InvalidArgument("JournalRecord.decision is missing");
  WOJAK_RETURN_IF_ERROR(DecodeDecision(*record->decision(), out.decision));
  OptionalString(record->order_id(), out.order_id);
  out.reference_price = ToPaise(record->reference_price());
  WOJAK_RETURN_IF_ERROR(EnumValue(record->reference_source(), "JournalRecord", "reference_source",
                                  out.reference_source));
  out.effective_price = ToPaise(record->effective_price());
  return OkStatus();
}

}  // namespace

StatusOr<JournalRecord> DecodeJournalRecord(std::string_view bytes) {
  AlignedView view(bytes);
  JournalRecord record;
  Status status = DecodeJournalRecordInto(view, record);
  if (!status.ok()) return Status(StatusCode::kDataLoss, status.message());
  return record;
}

// ---- Ticks.

std::string EncodeTickBatch(uint64_t request_id, std::span<const TickUpdate> ticks) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto vector = b.CreateVector<Offset<wire::Tick>>(ticks.size(), [&](size_t i) {
    const TickUpdate& t = ticks[i];
    auto symbol = OptionalString(b, t.symbol);
    flatbuffers::Optional<int64_t> open_interest = flatbuffers::nullopt;
    if (t.open_interest) open_interest = *t.open_interest;
    return wire::CreateTick(b, t.instrument_token, symbol, t.ltp.value(), t.timestamp_ns,
                            OptionalPaise(t.bid), OptionalPaise(t.ask), open_interest);
  });
  auto body = wire::CreateTickBatch(b, vector);
  return FinishEnvelope(b, request_id, wire::Body::TickBatch, body.Union());
}

StatusOr<std::vector<TickUpdate>> DecodeTickBatch(std::string_view bytes) {
  AlignedView view(bytes);
  WOJAK_ASSIGN_OR_RETURN(const wire::Envelope* envelope, VerifiedEnvelope(view));
  const wire::TickBatch* batch = envelope->body_as_TickBatch();
  if (batch == nullptr) {
    return InvalidArgument("envelope body " + BodyName(envelope->body_type()) +
                           " is not a TickBatch");
  }
  std::vector<TickUpdate> out;
  if (batch->ticks() == nullptr) return out;
  out.resize(batch->ticks()->size());
  for (flatbuffers::uoffset_t i = 0; i < batch->ticks()->size(); ++i) {
    const wire::Tick* in = batch->ticks()->Get(i);
    TickUpdate& t = out[i];
    t.instrument_token = in->instrument_token();
    OptionalString(in->symbol(), t.symbol);
    if (t.instrument_token == 0 && t.symbol.empty()) {
      return InvalidArgument("TickBatch.ticks[" + std::to_string(i) +
                             "] names no instrument (instrument_token 0 and no symbol)");
    }
    t.ltp = Paise::FromPaise(in->ltp());
    t.timestamp_ns = in->timestamp_ns();
    t.bid = ToPaise(in->bid());
    t.ask = ToPaise(in->ask());
    t.open_interest = in->oi() ? std::optional<int64_t>(*in->oi()) : std::nullopt;
  }
  return out;
}

// ---- Outbox.

std::string EncodeOutboxDelivery(uint64_t request_id, const OutboxDelivery& delivery) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto topic = b.CreateString(delivery.topic);
  auto account = b.CreateString(delivery.account);
  auto body_text = b.CreateString(delivery.body);
  auto body = wire::CreateOutboxDelivery(b, delivery.outbox_seq, delivery.entry_seq, topic,
                                         account, body_text);
  return FinishEnvelope(b, request_id, wire::Body::OutboxDelivery, body.Union());
}

StatusOr<OutboxDelivery> DecodeOutboxDelivery(std::string_view bytes) {
  AlignedView view(bytes);
  WOJAK_ASSIGN_OR_RETURN(const wire::Envelope* envelope, VerifiedEnvelope(view));
  const wire::OutboxDelivery* in = envelope->body_as_OutboxDelivery();
  if (in == nullptr) {
    return InvalidArgument("envelope body " + BodyName(envelope->body_type()) +
                           " is not an OutboxDelivery");
  }
  constexpr std::string_view kTable = "OutboxDelivery";
  OutboxDelivery out;
  out.outbox_seq = in->outbox_seq();
  out.entry_seq = in->entry_seq();
  WOJAK_RETURN_IF_ERROR(RequiredString(in->topic(), kTable, "topic", out.topic));
  WOJAK_RETURN_IF_ERROR(RequiredString(in->account(), kTable, "account", out.account));
  WOJAK_RETURN_IF_ERROR(RequiredString(in->body(), kTable, "body", out.body));
  return out;
}

std::string EncodeOutboxReceipt(uint64_t request_id, const OutboxReceipt& receipt) {
  FlatBufferBuilder& b = ClearedBuilder();
  auto error = OptionalString(b, receipt.error);
  auto body = wire::CreateOutboxReceipt(b, receipt.outbox_seq, receipt.ok, error);
  return FinishEnvelope(b, request_id, wire::Body::OutboxReceipt, body.Union());
}

StatusOr<OutboxReceipt> DecodeOutboxReceipt(std::string_view bytes) {
  AlignedView view(bytes);
  WOJAK_ASSIGN_OR_RETURN(const wire::Envelope* envelope, VerifiedEnvelope(view));
  const wire::OutboxReceipt* in = envelope->body_as_OutboxReceipt();
  if (in == nullptr) {
    return InvalidArgument("envelope body " + BodyName(envelope->body_type()) +
                           " is not an OutboxReceipt");
  }
  OutboxReceipt out;
  out.outbox_seq = in->outbox_seq();
  out.ok = in->ok();
  OptionalString(in->error(), out.error);
  if (!out.ok && out.error.empty()) out.error = "sidecar refused the row without a reason";
  return out;
}

}  // namespace wojak
