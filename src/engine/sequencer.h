// The sequencer: the single writer of trading state. Every input becomes a journal record whose
// decision is a pure function of (state, input, recorded clock value, recorded reference price);
// applying records — live or during replay — is the only way state changes, so replay rebuilds
// exactly the state the engine had.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/order_book.h"
#include "engine/trade_book.h"
#include "executors/executor.h"
#include "instruments/instrument_master.h"
#include "journal/journal.h"
#include "model/requests.h"
#include "risk/gate.h"
#include "wire/codec.h"

namespace wojak {

struct SequencerOptions {
  // An ESCALATED order without a verdict by then expires as REJECTED (fail closed).
  Nanos escalation_timeout_ns = 30 * kNanosPerSecond;
  size_t expected_orders = 1 << 16;  // pre-sizes the order book
};

// One input as the sequencer thread receives it: a client request (with where to reply) or an
// executor result (no reply).
struct SequencerInput {
  std::string routing_id;
  uint64_t request_id = 0;
  JournalInput input;
};

struct PendingReply {
  std::string routing_id;
  uint64_t request_id = 0;
  Decision decision;
};

// Everything one group commit carries: entries and projections go into one transaction; replies
// and executor dispatches are released only after it is durable.
struct CommitBatch {
  std::vector<Entry> entries;
  ProjectionBatch projections;
  std::vector<PendingReply> replies;
  std::vector<ExecutionOrder> dispatches;
  // Ids of orders already handed to the executor and cancelled in this batch.
  std::vector<std::string> withdrawals;
  void Clear() {
    entries.clear();
    projections.Clear();
    replies.clear();
    dispatches.clear();
    withdrawals.clear();
  }
};

class Sequencer {
 public:
  Sequencer(SequencerOptions options, const InstrumentMaster& instruments, const RiskGate& gate,
            const MarketView& market);

  // Decides one input at `now`, records it in batch and applies it to state.
  void Handle(SequencerInput&& input, Nanos now, CommitBatch& batch);
  // Expires escalated orders whose deadline passed.
  void ExpireEscalations(Nanos now, CommitBatch& batch);
  // Re-applies one journaled entry during recovery (the recorded decision, never re-decided).
  Status Replay(const Entry& entry);
  // Accepted orders without an executor result: re-sent on start with the same idempotency key.
  std::vector<ExecutionOrder> PendingExecutions() const;

  // Decisions from now on use `gate` (an admin reload). Sequencer thread only, between batches;
  // the caller keeps `gate` alive.
  void set_gate(const RiskGate& gate) { gate_ = &gate; }

  Seq last_seq() const { return last_seq_; }
  void set_last_seq(Seq seq) { last_seq_ = seq; }
  // The newest outbox row's outbox_seq (0 when none); the outbox relay's backlog is measured
  // against it.
  Seq last_outbox_seq() const { return next_outbox_seq_ - 1; }
  const RiskState& risk_state() const { return risk_; }
  const OrderBook& orders() const { return orders_; }
  const TradeBook& trades() const { return trades_; }

 private:
  JournalRecord DecideNewOrder(const OrderRequest& order, Nanos now);
  JournalRecord DecideCancel(const CancelRequest& cancel, Nanos now);
  JournalRecord DecideModify(const ModifyRequest& modify, Nanos now);
  JournalRecord DecideVerdict(const EscalationVerdict& verdict);
  // Applies a decided record as entry `seq`. With a batch, also emits projections, outbox rows
  // and dispatches (live); without one (replay) only state changes.
  void Apply(const JournalRecord& record, Seq seq, Nanos now, CommitBatch* batch);
  void ApplyExecution(const ExecutionReport& report, Seq seq, Nanos now, CommitBatch* batch);
  void CloseOrder(OrderRecord& order, OrderState state, Seq seq, Nanos now, CommitBatch* batch);
  void Append(EntryKind kind, JournalRecord record, Nanos now, CommitBatch& batch,
              const SequencerInput* reply_to);
  void EmitOrder(const OrderRecord& order, CommitBatch* batch);
  // Outbox rows (topic "escalation" / "execution") for the RMS and systems following fills.
  void EmitEscalation(const OrderRecord& order, const JournalRecord& record, Seq seq, Nanos now,
                      CommitBatch* batch);
  void EmitExecution(const OrderRecord& order, const ExecutionReport& report, Qty applied_quantity,
                     Seq seq, Nanos now, CommitBatch* batch);
  void Dispatch(const OrderRecord& order, CommitBatch* batch);
  PositionRow PositionRowFor(const OrderRecord& order, const TradedTotals& totals) const;
  // Logs (with the order's ids) a risk-state event the state refused.
  void CheckRisk(const Status& status, const OrderRecord& order) const;
  static void RecordPrices(const RiskResult& result, JournalRecord& record);
  void RestrictAccountIfAsked(const std::string& account, Nanos now, CommitBatch& batch);

  SequencerOptions options_;
  const InstrumentMaster& instruments_;
  const RiskGate* gate_;
  const MarketView& market_;
  RiskState risk_;
  RiskResult result_;  // reused: evaluation fills it in place without allocating
  OrderBook orders_;
  TradeBook trades_;
  Seq last_seq_ = 0;
  Seq next_outbox_seq_ = 1;
  // Escalated orders by verdict deadline, so expiry costs nothing while none is due.
  std::multimap<Nanos, Seq> escalation_deadlines_;
};

}  // namespace wojak
