// Wire codec: C++ model types to and from the FlatBuffers envelopes and journal records of
// schema/wojak.fbs. Decoders verify every byte and never trust their input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "model/money.h"
#include "model/order.h"
#include "model/requests.h"
#include "wojak/client.h"

namespace wojak {

// The envelope major version this build writes and accepts (see schema/wojak.fbs).
inline constexpr uint16_t kWireVersion = 1;

// ---- Requests (client → engine) ----

struct DecodedRequest {
  uint64_t request_id = 0;
  Request request;
};

std::string EncodeRequest(uint64_t request_id, const Request& request);
// INVALID_ARGUMENT naming what is wrong (corrupt/truncated frame, unsupported version, missing
// body or required string, unknown enum value, a body that is not a request).
StatusOr<DecodedRequest> DecodeRequest(std::string_view bytes);
// The request id of a frame that DecodeRequest refused, so the error reply can still be matched
// by the client; 0 when the envelope is too broken to read one.
uint64_t PeekRequestId(std::string_view bytes);

// ---- Replies (engine → client) ----

std::string EncodeDecisionReply(uint64_t request_id, const Decision& decision);
std::string EncodePong(uint64_t request_id);
std::string EncodeErrorReply(uint64_t request_id, std::string_view message);
// Reply.error is never empty for an ErrorReply (a placeholder names a missing message).
StatusOr<Reply> DecodeReply(std::string_view bytes);

// ---- Journal records (the payload of a journal entry) ----

// Where the reference price a decision used came from.
enum class ReferenceSource : uint8_t { kNone = 0, kLtp = 1, kMaster = 2 };

using JournalInput = std::variant<OrderRequest, CancelRequest, ModifyRequest, EscalationVerdict,
                                  AdminRequest, ExecutionReport>;

struct JournalRecord {
  JournalInput input;
  Decision decision;
  std::string order_id;                  // the order the entry created or changed
  std::optional<Paise> reference_price;  // the price the risk gate used
  ReferenceSource reference_source = ReferenceSource::kNone;
  std::optional<Paise> effective_price;  // a MARKET order's price as checked
  bool operator==(const JournalRecord&) const = default;
};

std::string EncodeJournalRecord(const JournalRecord& record);
// DATA_LOSS when the payload is not a valid JournalRecord (the journal's hash chain should have
// caught corruption first, so this means a bug or an incompatible writer).
StatusOr<JournalRecord> DecodeJournalRecord(std::string_view bytes);

// ---- Ticks (tick feed → engine) ----

// One market data update; the instrument is named by instrument_token (non-zero) or symbol.
struct TickUpdate {
  uint32_t instrument_token = 0;
  std::string symbol;
  Paise ltp;
  Nanos timestamp_ns = 0;  // exchange time
  std::optional<Paise> bid;
  std::optional<Paise> ask;
  std::optional<int64_t> open_interest;
  bool operator==(const TickUpdate&) const = default;
};

std::string EncodeTickBatch(uint64_t request_id, std::span<const TickUpdate> ticks);
StatusOr<std::vector<TickUpdate>> DecodeTickBatch(std::string_view bytes);

// ---- Outbox (the engine's outbox relay → a sidecar that publishes to its broker) ----

// One outbox row as the sidecar publishes it.
struct OutboxDelivery {
  uint64_t outbox_seq = 0;
  uint64_t entry_seq = 0;
  std::string topic;    // "escalation" or "execution"
  std::string account;  // partition / routing key
  std::string body;     // the webhook body, byte for byte
  bool operator==(const OutboxDelivery&) const = default;
};

// The sidecar's answer: ok only once its broker confirmed the row.
struct OutboxReceipt {
  uint64_t outbox_seq = 0;
  bool ok = false;
  std::string error;  // why not, when !ok
  bool operator==(const OutboxReceipt&) const = default;
};

std::string EncodeOutboxDelivery(uint64_t request_id, const OutboxDelivery& delivery);
// INVALID_ARGUMENT for a broken frame, another body, or a missing required string.
StatusOr<OutboxDelivery> DecodeOutboxDelivery(std::string_view bytes);
std::string EncodeOutboxReceipt(uint64_t request_id, const OutboxReceipt& receipt);
StatusOr<OutboxReceipt> DecodeOutboxReceipt(std::string_view bytes);

}  // namespace wojak
