// The journal: the only door to durable state. An entry is durable when AppendBatch returns OK.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace wojak {

using Seq = uint64_t;
using Hash = std::array<uint8_t, 32>;  // SHA-256

// What an entry records; the payload's encoding (schema/wojak.fbs JournalRecord) depends on it.
enum class EntryKind : uint8_t {
  kNewOrder = 1,      // input order + the gate's decision
  kCancel = 2,        // cancel request + result
  kModify = 3,        // modify request + decision
  kVerdict = 4,       // RMS verdict on an escalated order
  kAdmin = 5,         // halt / resume / reload
  kExecution = 6,     // executor result (fill / failure)
  kExpiry = 7,        // escalation deadline passed
};

struct Entry {
  Seq seq = 0;          // assigned by the sequencer, strictly increasing by 1
  Nanos time_ns = 0;    // the clock value the sequencer used for this decision
  EntryKind kind = EntryKind::kNewOrder;
  std::string account;          // idempotency key part (may be empty for admin entries)
  std::string client_order_id;  // idempotency key part
  std::string payload;          // opaque to the journal (FlatBuffers JournalRecord)
  Hash prev_hash{};             // filled by the journal on append; verified on replay
  Hash hash{};                  // SHA-256 over prev_hash and the fields above
};

// Read models derived from entries, written in the same transaction as the entries that caused
// them so a reader never sees a decision without its order row (or the reverse).
struct OrderRow {
  std::string order_id;
  Seq seq = 0;  // entry that created the order
  Seq last_seq = 0;  // entry that last changed it
  std::string account, strategy, client_order_id, symbol, side, order_type, product, validity;
  int64_t quantity = 0;
  int64_t filled_quantity = 0;
  std::optional<int64_t> price_paise, trigger_price_paise;
  int64_t average_price_paise = 0;
  std::string status;        // OrderStateName
  std::string decision_json;  // the decision as clients saw it; empty on updates = unchanged
  Nanos created_ns = 0, updated_ns = 0;
};
struct TradeRow {
  std::string trade_id;  // "T-<seq>"
  Seq seq = 0;
  std::string order_id, account, strategy, symbol, side;
  int64_t quantity = 0;
  int64_t price_paise = 0;
  Nanos time_ns = 0;
};
struct PositionRow {
  std::string account, symbol;
  int64_t net_quantity = 0;
  int64_t buy_quantity = 0, sell_quantity = 0;
  int64_t buy_value_paise = 0, sell_value_paise = 0;
  int64_t realised_pnl_paise = 0;
  Seq last_seq = 0;
};
struct OutboxRow {
  Seq outbox_seq = 0;  // idempotency key for the sink
  Seq entry_seq = 0;
  std::string topic;    // "escalation", "execution"
  std::string payload;  // JSON
};
struct ProjectionBatch {
  std::vector<OrderRow> orders;        // upserts by order_id
  std::vector<TradeRow> trades;        // inserts
  std::vector<PositionRow> positions;  // upserts by (account, symbol)
  std::vector<OutboxRow> outbox;       // inserts
  void Clear() {
    orders.clear();
    trades.clear();
    positions.clear();
    outbox.clear();
  }
};

struct JournalStats {
  Seq last_seq = 0;
  Hash last_hash{};
  uint64_t entries = 0;
};

class Journal {
 public:
  virtual ~Journal() = default;
  // Appends entries (seq must continue last_seq) and projections in one durable transaction.
  // Fills each entry's prev_hash/hash. On any error nothing of the batch is durable, and the
  // journal refuses further appends (the caller must restart and replay: never retry an fsync).
  virtual Status AppendBatch(std::span<Entry> entries, const ProjectionBatch& projections) = 0;
  // Calls apply for every entry with seq >= from, in order, after checking its hash chain link.
  virtual Status Replay(Seq from, const std::function<Status(const Entry&)>& apply) = 0;
  virtual JournalStats stats() const = 0;
};

}  // namespace wojak
