// The sequencer's outbox rows: escalations carry what the RMS needs, fills and failures become
// "execution" rows, and replay numbers the rows exactly as the live run did.
#include "engine/outbox_payload.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/market.h"
#include "engine/sequencer.h"
#include "risk/risk_testing.h"

namespace wojak {
namespace {

using json = nlohmann::json;
using risk_testing::TestInstruments;
using risk_testing::TestNow;

RiskConfig EscalateAbove(int64_t rupees) {
  RiskConfig config;
  config.session.enforce = false;
  config.account_defaults = AccountLimits{};
  config.escalate_notional_above = Paise::FromRupees(rupees).value();
  return config;
}

OrderRequest Order(const std::string& id, Qty quantity) {
  OrderRequest o;
  o.client_order_id = id;
  o.account = "ACC1";
  o.strategy = "s1";
  o.exchange = "NFO";
  o.symbol = "NIFTY26DECFUT";
  o.side = Side::kBuy;
  o.quantity = quantity;
  o.order_type = OrderType::kLimit;
  o.price = Paise::FromRupees(26065);
  return o;
}

class OutboxRowsTest : public ::testing::Test {
 protected:
  // Orders above 2 lots' notional escalate; smaller ones are accepted.
  OutboxRowsTest()
      : instruments_(TestInstruments()),
        gate_(EscalateAbove(26065 * 150)),
        market_(instruments_, gate_.config().reference_price),
        sequencer_(options_, instruments_, gate_, market_) {}

  CommitBatch Run(JournalInput input) {
    CommitBatch batch;
    sequencer_.Handle({"client", ++request_id_, std::move(input)}, TestNow(), batch);
    for (const Entry& e : batch.entries) journal_.push_back(e);
    return batch;
  }
  CommitBatch Report(const std::string& order_id, ExecutionStatus status, Qty quantity,
                     std::string reason = "") {
    return Run(ExecutionReport{order_id, status, quantity, Paise::FromRupees(26060),
                               std::move(reason), "sandbox"});
  }

  SequencerOptions options_;
  InstrumentMaster instruments_;
  RiskGate gate_;
  EngineMarket market_;
  Sequencer sequencer_;
  std::vector<Entry> journal_;
  uint64_t request_id_ = 0;
};

TEST_F(OutboxRowsTest, EscalationRowCarriesTheOrderTheDecisionAndTheDeadline) {
  CommitBatch batch = Run(Order("big", 750));
  ASSERT_EQ(batch.replies[0].decision.kind, DecisionKind::kEscalated);
  ASSERT_EQ(batch.projections.outbox.size(), 1u);
  const OutboxRow& row = batch.projections.outbox[0];
  EXPECT_EQ(row.outbox_seq, 1u);
  EXPECT_EQ(row.entry_seq, 1u);
  EXPECT_EQ(row.topic, "escalation");
  json payload = json::parse(row.payload);
  EXPECT_EQ(payload["event"], "escalation");
  EXPECT_EQ(payload["order_id"], "W-000000000001");
  EXPECT_EQ(payload["order"]["account"], "ACC1");
  EXPECT_EQ(payload["order"]["symbol"], "NIFTY26DECFUT");
  EXPECT_EQ(payload["order"]["side"], "BUY");
  EXPECT_EQ(payload["order"]["quantity"], 750);
  EXPECT_EQ(payload["price"], "26065.00");
  EXPECT_EQ(payload["decision"]["decision"], "ESCALATED");
  EXPECT_FALSE(payload["decision"]["reasons"].empty());
  EXPECT_EQ(payload["deadline_ns"], TestNow() + options_.escalation_timeout_ns);
}

TEST_F(OutboxRowsTest, FillsAndFailuresBecomeExecutionRows) {
  Run(Order("a", 75));
  Run(Order("b", 75));
  CommitBatch fill = Report("W-000000000001", ExecutionStatus::kFilled, 75);
  ASSERT_EQ(fill.projections.outbox.size(), 1u);
  EXPECT_EQ(fill.projections.outbox[0].topic, "execution");
  EXPECT_EQ(fill.projections.outbox[0].outbox_seq, 1u);
  json filled = json::parse(fill.projections.outbox[0].payload);
  EXPECT_EQ(filled["status"], "FILLED");
  EXPECT_EQ(filled["order_state"], "FILLED");
  EXPECT_EQ(filled["filled_quantity"], 75);
  EXPECT_EQ(filled["fill_price"], "26060.00");
  EXPECT_EQ(filled["average_price"], "26060.00");
  EXPECT_EQ(filled["client_order_id"], "a");
  EXPECT_EQ(filled["executor"], "sandbox");

  CommitBatch failure = Report("W-000000000002", ExecutionStatus::kFailed, 0, "exchange says no");
  ASSERT_EQ(failure.projections.outbox.size(), 1u);
  EXPECT_EQ(failure.projections.outbox[0].outbox_seq, 2u);
  json failed = json::parse(failure.projections.outbox[0].payload);
  EXPECT_EQ(failed["status"], "FAILED");
  EXPECT_EQ(failed["order_state"], "FAILED");
  EXPECT_EQ(failed["filled_quantity"], 0);
  EXPECT_TRUE(failed["fill_price"].is_null());
  EXPECT_EQ(failed["reason"], "exchange says no");
}

TEST_F(OutboxRowsTest, AccountOfAnEscalationRowIsTheOrdersAccount) {
  CommitBatch batch = Run(Order("big", 750));
  ASSERT_EQ(batch.projections.outbox.size(), 1u);
  EXPECT_EQ(OutboxPayloadAccount(batch.projections.outbox[0].payload), "ACC1");
}

TEST_F(OutboxRowsTest, AccountOfAnExecutionRowIsTheOrdersAccount) {
  Run(Order("a", 75));
  CommitBatch fill = Report("W-000000000001", ExecutionStatus::kFilled, 75);
  ASSERT_EQ(fill.projections.outbox.size(), 1u);
  EXPECT_EQ(OutboxPayloadAccount(fill.projections.outbox[0].payload), "ACC1");
}

TEST(OutboxPayloadAccountTest, IsEmptyForAPayloadWithoutAccountOrNotJson) {
  EXPECT_EQ(OutboxPayloadAccount(R"({"order_id":"W-1"})"), "");
  EXPECT_EQ(OutboxPayloadAccount("not json"), "");
}

TEST_F(OutboxRowsTest, AReportForAFinishedOrderWritesNoRow) {
  Run(Order("a", 75));
  Report("W-000000000001", ExecutionStatus::kFilled, 75);
  CommitBatch late = Report("W-000000000001", ExecutionStatus::kFilled, 75);
  EXPECT_TRUE(late.entries.empty());
  EXPECT_TRUE(late.projections.outbox.empty());
}

TEST_F(OutboxRowsTest, ReplayNumbersOutboxRowsLikeTheLiveRun) {
  Run(Order("a", 75));
  Run(Order("big", 750));
  Report("W-000000000001", ExecutionStatus::kPartiallyFilled, 50);
  Report("W-000000000001", ExecutionStatus::kFilled, 25);
  ASSERT_EQ(sequencer_.last_outbox_seq(), 3u);

  Sequencer replayed(options_, instruments_, gate_, market_);
  for (const Entry& e : journal_) ASSERT_TRUE(replayed.Replay(e).ok());
  EXPECT_EQ(replayed.last_outbox_seq(), 3u);
  CommitBatch next;
  replayed.Handle({"client", 99, Order("big2", 750)}, TestNow(), next);
  ASSERT_EQ(next.projections.outbox.size(), 1u);
  EXPECT_EQ(next.projections.outbox[0].outbox_seq, 4u);
}

}  // namespace
}  // namespace wojak
