// Fuzzes the FlatBuffers decoders of envelopes (requests, replies, outbox deliveries and receipts)
// and journal records: no input crashes them, and whatever decodes re-encodes to bytes that decode to an equal value.
#include "fuzz/fuzz_check.h"
#include "wire/codec.h"

namespace wojak {
namespace {

void CheckRequest(std::string_view bytes) {
  auto decoded = DecodeRequest(bytes);
  // PeekRequestId reads only the header; for a frame that fully decodes it must agree.
  const uint64_t peeked = PeekRequestId(bytes);
  if (!decoded.ok()) return;
  fuzz::Check(peeked == decoded->request_id, "PeekRequestId agrees with DecodeRequest");
  auto again = DecodeRequest(EncodeRequest(decoded->request_id, decoded->request));
  fuzz::Check(again.ok(), "a re-encoded request decodes");
  fuzz::Check(again->request_id == decoded->request_id, "request id survives re-encoding");
  fuzz::Check(again->request == decoded->request, "request survives re-encoding");
}

std::string EncodeReply(const Reply& reply) {
  if (reply.is_pong) return EncodePong(reply.request_id);
  if (!reply.error.empty()) return EncodeErrorReply(reply.request_id, reply.error);
  return EncodeDecisionReply(reply.request_id, reply.decision);
}

void CheckReply(std::string_view bytes) {
  auto decoded = DecodeReply(bytes);
  if (!decoded.ok()) return;
  auto again = DecodeReply(EncodeReply(*decoded));
  fuzz::Check(again.ok(), "a re-encoded reply decodes");
  fuzz::Check(again->request_id == decoded->request_id, "request id survives re-encoding");
  fuzz::Check(again->is_pong == decoded->is_pong, "pong flag survives re-encoding");
  fuzz::Check(again->error == decoded->error, "error message survives re-encoding");
  fuzz::Check(again->decision == decoded->decision, "decision survives re-encoding");
}

void CheckJournalRecord(std::string_view bytes) {
  auto decoded = DecodeJournalRecord(bytes);
  if (!decoded.ok()) {
    fuzz::Check(decoded.status().code() == StatusCode::kDataLoss,
                "an undecodable journal record is DATA_LOSS");
    return;
  }
  auto again = DecodeJournalRecord(EncodeJournalRecord(*decoded));
  fuzz::Check(again.ok(), "a re-encoded journal record decodes");
  fuzz::Check(*again == *decoded, "journal record survives re-encoding");
}

// The sidecar's outbox server decodes deliveries; the engine's sidecar sink decodes receipts.
void CheckOutbox(std::string_view bytes) {
  const uint64_t request_id = PeekRequestId(bytes);
  if (auto delivery = DecodeOutboxDelivery(bytes); delivery.ok()) {
    auto again = DecodeOutboxDelivery(EncodeOutboxDelivery(request_id, *delivery));
    fuzz::Check(again.ok() && *again == *delivery, "outbox delivery survives re-encoding");
  }
  if (auto receipt = DecodeOutboxReceipt(bytes); receipt.ok()) {
    auto again = DecodeOutboxReceipt(EncodeOutboxReceipt(request_id, *receipt));
    fuzz::Check(again.ok() && *again == *receipt, "outbox receipt survives re-encoding");
  }
}

}  // namespace
}  // namespace wojak

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = wojak::fuzz::AsText(data, size);
  wojak::CheckRequest(bytes);
  wojak::CheckReply(bytes);
  wojak::CheckJournalRecord(bytes);
  wojak::CheckOutbox(bytes);
  return 0;
}
