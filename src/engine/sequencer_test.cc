// Sequencer: decisions become journal entries with replies and dispatches, duplicates answer the
// original, cancels/fills/verdicts/expiry move orders, and replay rebuilds identical state.
#include "engine/sequencer.h"

#include <gtest/gtest.h>

#include "engine/market.h"
#include "risk/risk_testing.h"

namespace wojak {
namespace {

using risk_testing::TestInstruments;
using risk_testing::TestNow;

RiskConfig OpenConfig() {
  RiskConfig config;
  config.session.enforce = false;
  config.account_defaults = AccountLimits{};  // every account limit off
  return config;
}

OrderRequest Order(const std::string& id, Qty quantity = 75, int64_t rupees = 26065) {
  OrderRequest o;
  o.client_order_id = id;
  o.account = "ACC1";
  o.strategy = "s1";
  o.exchange = "NFO";
  o.symbol = "NIFTY26DECFUT";
  o.side = Side::kBuy;
  o.quantity = quantity;
  o.order_type = OrderType::kLimit;
  o.price = Paise::FromRupees(rupees);
  return o;
}

class SequencerTest : public ::testing::Test {
 protected:
  explicit SequencerTest(RiskConfig config = OpenConfig())
      : instruments_(TestInstruments()),
        gate_(config),
        market_(instruments_, config.reference_price),
        sequencer_(options_, instruments_, gate_, market_) {}

  CommitBatch Run(JournalInput input, Nanos now = TestNow()) {
    CommitBatch batch;
    sequencer_.Handle({"client", ++request_id_, std::move(input)}, now, batch);
    for (const Entry& e : batch.entries) journal_.push_back(e);
    return batch;
  }
  CommitBatch Execute(const std::string& order_id, ExecutionStatus status, Qty quantity,
                      int64_t rupees, Nanos now = TestNow()) {
    ExecutionReport report{order_id, status, quantity, Paise::FromRupees(rupees), "", "sandbox"};
    CommitBatch batch;
    sequencer_.Handle({"", 0, report}, now, batch);
    for (const Entry& e : batch.entries) journal_.push_back(e);
    return batch;
  }

  SequencerOptions options_;
  InstrumentMaster instruments_;
  RiskGate gate_;
  EngineMarket market_;
  Sequencer sequencer_;
  std::vector<Entry> journal_;
  uint64_t request_id_ = 0;
};

TEST_F(SequencerTest, AcceptedOrderIsOneEntryOneReplyAndOneDispatch) {
  CommitBatch batch = Run(Order("a"));
  ASSERT_EQ(batch.entries.size(), 1u);
  ASSERT_EQ(batch.replies.size(), 1u);
  ASSERT_EQ(batch.dispatches.size(), 1u);
  const Decision& d = batch.replies[0].decision;
  EXPECT_EQ(d.kind, DecisionKind::kAccepted) << ::testing::PrintToString(d.reasons.size());
  EXPECT_EQ(d.seq, 1u);
  EXPECT_EQ(d.order_id, "W-000000000001");
  EXPECT_EQ(batch.replies[0].routing_id, "client");
  EXPECT_EQ(batch.dispatches[0].order_id, "W-000000000001");
  EXPECT_EQ(batch.dispatches[0].price, Paise::FromRupees(26065));
  ASSERT_EQ(batch.projections.orders.size(), 1u);
  EXPECT_EQ(batch.projections.orders[0].status, "SENT");
  EXPECT_EQ(batch.entries[0].account, "ACC1");
  EXPECT_EQ(batch.entries[0].client_order_id, "a");
}

TEST_F(SequencerTest, DuplicateAnswersTheOriginalDecisionWithoutANewEntry) {
  Decision original = Run(Order("a", 70)).replies[0].decision;
  ASSERT_EQ(original.kind, DecisionKind::kRejected);
  CommitBatch again = Run(Order("a", 70));
  EXPECT_TRUE(again.entries.empty());
  EXPECT_TRUE(again.dispatches.empty());
  ASSERT_EQ(again.replies.size(), 1u);
  const Decision& d = again.replies[0].decision;
  EXPECT_EQ(d.kind, DecisionKind::kDuplicate);
  EXPECT_EQ(d.original_kind, DecisionKind::kRejected);
  EXPECT_EQ(d.original_reasons, original.reasons);
  EXPECT_EQ(d.order_id, original.order_id);
  EXPECT_EQ(d.seq, original.seq);
}

TEST_F(SequencerTest, RejectedOrderListsItsReasonsAndIsNotDispatched) {
  CommitBatch batch = Run(Order("a", 70, 30000));  // not a lot multiple, far outside the band
  const Decision& d = batch.replies[0].decision;
  EXPECT_EQ(d.kind, DecisionKind::kRejected);
  EXPECT_GE(d.reasons.size(), 2u);
  EXPECT_TRUE(batch.dispatches.empty());
  EXPECT_EQ(batch.projections.orders[0].status, "REJECTED");
}

TEST_F(SequencerTest, CancelClosesAnOpenOrderAndAResentCancelIsADuplicate) {
  Run(Order("a"));
  CommitBatch cancel = Run(CancelRequest{"ACC1", "a"});
  ASSERT_EQ(cancel.replies.size(), 1u);
  EXPECT_EQ(cancel.replies[0].decision.kind, DecisionKind::kAccepted);
  EXPECT_EQ(cancel.projections.orders.back().status, "CANCELLED");
  CommitBatch again = Run(CancelRequest{"ACC1", "a"});
  EXPECT_TRUE(again.entries.empty());
  EXPECT_EQ(again.replies[0].decision.kind, DecisionKind::kDuplicate);
  // The executor's late fill for the cancelled order changes nothing.
  EXPECT_TRUE(Execute("W-000000000001", ExecutionStatus::kFilled, 75, 26065).entries.empty());
}

TEST_F(SequencerTest, CancelOrHaltOfASentOrderWithdrawsItFromTheExecutor) {
  Run(Order("a"));
  Run(Order("b"));
  CommitBatch cancel = Run(CancelRequest{"ACC1", "a"});
  EXPECT_EQ(cancel.withdrawals, std::vector<std::string>{"W-000000000001"});
  CommitBatch halt = Run(AdminRequest{AdminAction::kHalt, AdminScope::kAccount, "ACC1"});
  EXPECT_EQ(halt.withdrawals, std::vector<std::string>{"W-000000000002"});
  // A fill closes an order without a withdrawal: the executor finished it.
  Run(AdminRequest{AdminAction::kResume, AdminScope::kAccount, "ACC1"});
  ASSERT_EQ(Run(Order("c")).dispatches.at(0).order_id, "W-000000000006");
  CommitBatch fill = Execute("W-000000000006", ExecutionStatus::kFilled, 75, 26065);
  EXPECT_EQ(fill.projections.orders.back().status, "FILLED");
  EXPECT_TRUE(fill.withdrawals.empty());
}

TEST_F(SequencerTest, CancelOfUnknownOrderIsRejectedWithReason) {
  CommitBatch batch = Run(CancelRequest{"ACC1", "nope"});
  EXPECT_EQ(batch.replies[0].decision.kind, DecisionKind::kRejected);
  EXPECT_EQ(batch.replies[0].decision.reasons[0].code, ReasonCode::k_UNKNOWN_ORDER);
}

TEST_F(SequencerTest, FillRecordsATradeAndMovesThePosition) {
  Run(Order("a"));
  CommitBatch fill = Execute("W-000000000001", ExecutionStatus::kFilled, 75, 26065);
  ASSERT_EQ(fill.entries.size(), 1u);
  EXPECT_TRUE(fill.replies.empty());
  ASSERT_EQ(fill.projections.trades.size(), 1u);
  EXPECT_EQ(fill.projections.trades[0].quantity, 75);
  ASSERT_EQ(fill.projections.positions.size(), 1u);
  EXPECT_EQ(fill.projections.positions[0].net_quantity, 75);
  EXPECT_EQ(fill.projections.orders.back().status, "FILLED");
  // A second report for the same order (reconciliation re-send) is ignored.
  EXPECT_TRUE(Execute("W-000000000001", ExecutionStatus::kFilled, 75, 26065).entries.empty());
}

TEST_F(SequencerTest, ReplayRebuildsExactlyTheSameState) {
  Run(Order("a"));
  Run(Order("b", 70));
  Run(Order("c"));
  Execute("W-000000000001", ExecutionStatus::kFilled, 75, 26065);
  Execute("W-000000000003", ExecutionStatus::kFailed, 0, 0);
  Run(Order("d"));
  Run(CancelRequest{"ACC1", "d"});
  Run(AdminRequest{AdminAction::kHalt, AdminScope::kAccount, "ACC2"});

  Sequencer replayed(options_, instruments_, gate_, market_);
  for (const Entry& e : journal_) ASSERT_TRUE(replayed.Replay(e).ok());
  EXPECT_EQ(replayed.last_seq(), sequencer_.last_seq());
  EXPECT_EQ(replayed.risk_state(), sequencer_.risk_state())
      << replayed.risk_state().Dump() << "\nvs\n"
      << sequencer_.risk_state().Dump();
  EXPECT_EQ(replayed.trades(), sequencer_.trades());
  for (Seq seq = 1; seq <= 5; ++seq) {
    const OrderRecord* a = replayed.orders().Find(seq);
    const OrderRecord* b = sequencer_.orders().Find(seq);
    if (b == nullptr) continue;
    ASSERT_NE(a, nullptr) << seq;
    EXPECT_EQ(a->state, b->state) << seq;
    EXPECT_EQ(a->FirstDecision(), b->FirstDecision()) << seq;
    EXPECT_EQ(a->filled_quantity, b->filled_quantity) << seq;
  }
  // After replay the next request continues the sequence and still sees the duplicates.
  CommitBatch batch;
  replayed.Handle({"client", 1, Order("a")}, TestNow(), batch);
  EXPECT_EQ(batch.replies[0].decision.kind, DecisionKind::kDuplicate);
}

TEST_F(SequencerTest, ReplayRefusesASequenceGap) {
  Run(Order("a"));
  Run(Order("b"));
  Sequencer replayed(options_, instruments_, gate_, market_);
  EXPECT_FALSE(replayed.Replay(journal_[1]).ok());
}

TEST_F(SequencerTest, PendingExecutionsAreTheAcceptedOrdersWithoutAResult) {
  Run(Order("a"));
  Run(Order("b"));
  Execute("W-000000000001", ExecutionStatus::kFilled, 75, 26065);
  auto pending = sequencer_.PendingExecutions();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].order_id, "W-000000000002");
}

TEST_F(SequencerTest, HaltCancelsOpenOrdersInScopeAndBlocksNewOnes) {
  Run(Order("a"));
  CommitBatch halt = Run(AdminRequest{AdminAction::kHalt, AdminScope::kAccount, "ACC1"});
  EXPECT_EQ(halt.projections.orders.back().status, "CANCELLED");
  CommitBatch next = Run(Order("b"));
  EXPECT_EQ(next.replies[0].decision.kind, DecisionKind::kRejected);
  bool halted = false;
  for (const Reason& r : next.replies[0].decision.reasons) {
    halted = halted || r.code == ReasonCode::k_TRADING_HALTED;
  }
  EXPECT_TRUE(halted);
}

RiskConfig EscalatingConfig() {
  RiskConfig config = OpenConfig();
  config.escalate_notional_above = Paise::FromRupees(1000).value();
  return config;
}

class EscalationTest : public SequencerTest {
 protected:
  EscalationTest() : SequencerTest(EscalatingConfig()) {}
};

TEST_F(EscalationTest, EscalatedOrderWritesAnOutboxEntryAndWaitsForTheVerdict) {
  CommitBatch batch = Run(Order("a"));
  EXPECT_EQ(batch.replies[0].decision.kind, DecisionKind::kEscalated);
  EXPECT_TRUE(batch.dispatches.empty());
  ASSERT_EQ(batch.projections.outbox.size(), 1u);
  EXPECT_EQ(batch.projections.outbox[0].topic, "escalation");
  CommitBatch approve = Run(EscalationVerdict{"W-000000000001", true, ""});
  EXPECT_EQ(approve.replies[0].decision.kind, DecisionKind::kAccepted);
  ASSERT_EQ(approve.dispatches.size(), 1u);
  EXPECT_EQ(approve.projections.orders.back().status, "SENT");
}

TEST_F(EscalationTest, RmsRejectionRejectsWithTheRmsReason) {
  Run(Order("a"));
  CommitBatch reject = Run(EscalationVerdict{"W-000000000001", false, "too volatile"});
  EXPECT_EQ(reject.replies[0].decision.kind, DecisionKind::kRejected);
  EXPECT_EQ(reject.replies[0].decision.reasons[0].code, ReasonCode::k_RMS_REJECTED);
  EXPECT_EQ(reject.replies[0].decision.reasons[0].message, "too volatile");
  EXPECT_EQ(reject.projections.orders.back().status, "REJECTED");
}

TEST_F(EscalationTest, NoVerdictBeforeTheDeadlineExpiresTheOrder) {
  Run(Order("a"));
  CommitBatch early;
  sequencer_.ExpireEscalations(TestNow() + options_.escalation_timeout_ns - 1, early);
  EXPECT_TRUE(early.entries.empty());
  CommitBatch due;
  sequencer_.ExpireEscalations(TestNow() + options_.escalation_timeout_ns, due);
  ASSERT_EQ(due.entries.size(), 1u);
  EXPECT_EQ(due.entries[0].kind, EntryKind::kExpiry);
  EXPECT_EQ(due.projections.orders.back().status, "EXPIRED");
  // A verdict arriving after expiry is refused.
  CommitBatch late = Run(EscalationVerdict{"W-000000000001", true, ""});
  EXPECT_EQ(late.replies[0].decision.kind, DecisionKind::kRejected);
}

}  // namespace
}  // namespace wojak
