// The torture checks must catch each kind of violation (so a clean torture run means something),
// and the client logs must read back what was written.
#include "checker.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "client_log.h"
#include "support/process.h"

namespace wojak::torture {
namespace {

using nlohmann::json;

std::string DecisionBody(const std::string& kind, const std::string& coid, uint64_t seq,
                         json reasons = json::array()) {
  return json{{"client_order_id", coid},
              {"account", "A"},
              {"decision", kind},
              {"order_id", "W-" + std::to_string(seq)},
              {"seq", seq},
              {"reasons", reasons}}
      .dump();
}

std::string DuplicateBody(const std::string& original_body) {
  json original = json::parse(original_body);
  return json{{"client_order_id", original["client_order_id"]},
              {"account", "A"},
              {"decision", "DUPLICATE"},
              {"original", original},
              {"reasons", json::array({{{"code", "DUPLICATE"}, {"message", "seen"}}})}}
      .dump();
}

json OrderRow(const std::string& coid, uint64_t seq, const std::string& status,
              const std::string& decision_body, int64_t filled = 0) {
  return {{"order_id", "W-" + std::to_string(seq)},
          {"account", "A"},
          {"client_order_id", coid},
          {"symbol", "NIFTYFUT"},
          {"quantity", 75},
          {"filled_quantity", filled},
          {"status", status},
          {"decision", json::parse(decision_body)}};
}

// A clean run: an accepted and filled order (answered once with no answer first, then resent and
// answered DUPLICATE), a rejected breach, a cancel refused because the order had filled, and a
// forged order refused with 401.
class CheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    accepted_ = DecisionBody("ACCEPTED", "c0-1", 1);
    rejected_ = DecisionBody("REJECTED", "c0-2", 2,
                             json::array({{{"code", "QTY_NOT_LOT_MULTIPLE"}, {"message", "70"}}}));
    const std::string cancel_refused =
        DecisionBody("REJECTED", "c0-1", 4, json::array({{{"code", "ORDER_NOT_OPEN"}}}));
    Answer(1, Operation::kOrder, "c0-1", 1, 0, "read: connection reset");
    Answer(1, Operation::kOrder, "c0-1", 2, 200, DuplicateBody(accepted_));
    Answer(2, Operation::kBreach, "c0-2", 1, 200, rejected_);
    Answer(3, Operation::kDuplicate, "c0-1", 1, 200, DuplicateBody(accepted_));
    Answer(4, Operation::kCancel, "c0-1", 1, 503, "{}");
    Answer(4, Operation::kCancel, "c0-1", 2, 200, cancel_refused);
    Answer(5, Operation::kForged, "forged-0-5", 1, 401, "{}");

    facts_.verify_ok = true;
    facts_.replay_ok = true;
    facts_.replay_entries = 4;
    facts_.entries[1] = {EntryKind::kNewOrder, "A", "c0-1"};
    facts_.entries[2] = {EntryKind::kNewOrder, "A", "c0-2"};
    facts_.entries[3] = {EntryKind::kExecution, "A", "c0-1"};
    facts_.entries[4] = {EntryKind::kCancel, "A", "c0-1"};
    facts_.orders = json::array(
        {OrderRow("c0-1", 1, "FILLED", accepted_, 75), OrderRow("c0-2", 2, "REJECTED", rejected_)});
    facts_.trades = json::array({{{"order_id", "W-1"},
                                  {"account", "A"},
                                  {"symbol", "NIFTYFUT"},
                                  {"side", "BUY"},
                                  {"quantity", 75}}});
    facts_.positions = json::array({{{"account", "A"},
                                     {"symbol", "NIFTYFUT"},
                                     {"net_quantity", 75},
                                     {"buy_quantity", 75},
                                     {"sell_quantity", 0}}});
  }

  void Answer(uint64_t operation_id, Operation operation, const std::string& coid, int attempt,
              int status, const std::string& body) {
    logs_.answered.push_back(
        {0, operation_id, ++requests_, operation, "A", coid, attempt, status, body});
    ++logs_.sent;
  }

  CheckResult Run() { return Check(logs_, facts_); }

  ParsedLogs logs_;
  JournalFacts facts_;
  uint64_t requests_ = 0;
  std::string accepted_;
  std::string rejected_;
};

TEST_F(CheckerTest, FindsNothingWrongInACleanRun) {
  CheckResult result = Run();
  EXPECT_TRUE(result.ok()) << ::testing::PrintToString(result.violations);
  EXPECT_EQ(result.counts.orders, 2u);
  EXPECT_EQ(result.counts.cancels, 1u);
  EXPECT_EQ(result.counts.forged, 1u);
  EXPECT_EQ(result.counts.acked, 3u);
  EXPECT_EQ(result.counts.resends, 2u);
  EXPECT_EQ(result.counts.filled, 1u);
}

TEST_F(CheckerTest, CountsAnAcknowledgedOrderMissingFromTheJournalAsLost) {
  facts_.entries.erase(2);
  facts_.entries[2] = {EntryKind::kAdmin, "", ""};
  EXPECT_EQ(Run().counts.lost, 1u);
}

TEST_F(CheckerTest, CountsAnAcknowledgedOrderWithoutAnOrderRowAsLost) {
  facts_.orders.erase(1);
  EXPECT_EQ(Run().counts.lost, 1u);
}

TEST_F(CheckerTest, CountsAStoredDecisionThatDiffersFromTheAnswerAsChanged) {
  facts_.orders[1]["decision"]["decision"] = "ACCEPTED";
  EXPECT_EQ(Run().counts.changed, 1u);
}

TEST_F(CheckerTest, CountsTwoDifferentAnswersForOneOrderAsChanged) {
  Answer(6, Operation::kDuplicate, "c0-2", 1, 200,
         DuplicateBody(DecisionBody("ACCEPTED", "c0-2", 2)));
  EXPECT_EQ(Run().counts.changed, 1u);
}

TEST_F(CheckerTest, CountsAResentOrderDecidedAgainAsDoubleDecided) {
  Answer(6, Operation::kDuplicate, "c0-2", 1, 200, rejected_);
  EXPECT_EQ(Run().counts.double_decided, 1u);
}

TEST_F(CheckerTest, CountsTwoJournalDecisionsForOneOrderAsDoubleDecided) {
  facts_.entries[5] = {EntryKind::kNewOrder, "A", "c0-1"};
  facts_.replay_entries = 5;
  EXPECT_EQ(Run().counts.double_decided, 1u);
}

TEST_F(CheckerTest, CountsTwoExecutionEntriesForOneOrderAsDoubleExecuted) {
  facts_.entries[5] = {EntryKind::kExecution, "A", "c0-1"};
  facts_.replay_entries = 5;
  EXPECT_EQ(Run().counts.double_executed, 1u);
}

TEST_F(CheckerTest, CountsTwoTradesForOneOrderAsDoubleExecuted) {
  facts_.trades.push_back(facts_.trades[0]);
  CheckResult result = Run();
  EXPECT_GE(result.counts.double_executed, 1u);
}

TEST_F(CheckerTest, CountsAnOrderFilledBeyondItsQuantityAsDoubleExecuted) {
  facts_.orders[0]["filled_quantity"] = 150;
  EXPECT_EQ(Run().counts.double_executed, 1u);
}

TEST_F(CheckerTest, CountsAForgedOrderInTheJournalAsUnauthorised) {
  facts_.entries[5] = {EntryKind::kNewOrder, "A", "forged-0-5"};
  facts_.replay_entries = 5;
  EXPECT_EQ(Run().counts.unauthorised, 1u);
}

TEST_F(CheckerTest, CountsAForgedOrderAnswered200AsUnauthorised) {
  logs_.answered.back().http_status = 200;
  EXPECT_GE(Run().counts.unauthorised, 1u);
}

TEST_F(CheckerTest, CountsABreachingOrderThatWasAcceptedAsUnauthorised) {
  const std::string accepted_breach = DecisionBody("ACCEPTED", "c0-2", 2);
  logs_.answered[2].body = accepted_breach;
  facts_.orders[1]["decision"] = json::parse(accepted_breach);
  EXPECT_EQ(Run().counts.unauthorised, 1u);
}

TEST_F(CheckerTest, CountsAnOrderRowNoClientSentAsUnauthorised) {
  facts_.orders.push_back(OrderRow("stranger", 9, "REJECTED", rejected_));
  EXPECT_EQ(Run().counts.unauthorised, 1u);
}

TEST_F(CheckerTest, CountsAnOperationThatNeverGotADecisionAsUnanswered) {
  Answer(6, Operation::kOrder, "c0-6", 1, 0, "connect: refused");
  Answer(6, Operation::kOrder, "c0-6", 2, 503, "{}");
  EXPECT_EQ(Run().counts.unanswered, 1u);
}

TEST_F(CheckerTest, CountsASendNeverLoggedBackAsUnanswered) {
  logs_.unmatched_sends = 1;
  EXPECT_EQ(Run().counts.unanswered, 1u);
}

TEST_F(CheckerTest, CountsAnAcceptedCancelWhoseOrderIsNotCancelledAsLost) {
  logs_.answered[5].body = DecisionBody("ACCEPTED", "c0-1", 4);
  EXPECT_EQ(Run().counts.lost, 1u);
}

TEST_F(CheckerTest, CountsATradeOnACancelledOrderAsDoubleExecuted) {
  facts_.orders[0]["status"] = "CANCELLED";
  EXPECT_EQ(Run().counts.double_executed, 1u);
}

TEST_F(CheckerTest, CountsAnAcceptedOrderLeftOpenAsUnexecuted) {
  facts_.orders[0]["status"] = "SENT";
  EXPECT_EQ(Run().counts.unexecuted, 1u);
}

TEST_F(CheckerTest, CountsPositionsThatDifferFromTheTradesAsMismatches) {
  facts_.positions[0]["net_quantity"] = 150;
  EXPECT_EQ(Run().counts.position_mismatches, 1u);
}

TEST_F(CheckerTest, CountsTradesWithoutAPositionRowAsMismatches) {
  facts_.positions = json::array();
  EXPECT_EQ(Run().counts.position_mismatches, 1u);
}

TEST_F(CheckerTest, CountsAFailedVerifyAsJournalDamage) {
  facts_.verify_ok = false;
  EXPECT_EQ(Run().counts.journal_damage, 1u);
}

TEST_F(CheckerTest, CountsASequenceGapAsJournalDamage) {
  facts_.entries.erase(3);
  facts_.replay_entries = 3;
  EXPECT_EQ(Run().counts.journal_damage, 1u);
}

TEST_F(CheckerTest, CountsAnUnexpectedStatusForAnOrder) {
  logs_.answered[2].http_status = 422;
  EXPECT_EQ(Run().counts.unexpected_answers, 1u);
}

TEST(ClientLogTest, ReadsBackWhatWasWrittenAndCountsSendsWithoutAnswers) {
  testing::TempDir dir;
  const std::string path = dir.File("client-0.jsonl");
  {
    StatusOr<ClientLogWriter> log = ClientLogWriter::Open(path);
    ASSERT_TRUE(log.ok());
    Exchange first{0, 1, 1, Operation::kCancel, "A", "c0-1", 1, 0, ""};
    log->Sent(first);
    first.http_status = 200;
    first.body = "{\"decision\":\"ACCEPTED\"}";
    log->Answered(first);
    log->Sent({0, 2, 2, Operation::kOrder, "A", "c0-2", 1, 0, ""});
  }
  StatusOr<ParsedLogs> logs = ReadClientLogs({path});
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  EXPECT_EQ(logs->sent, 2u);
  EXPECT_EQ(logs->unmatched_sends, 1u);
  ASSERT_EQ(logs->answered.size(), 1u);
  EXPECT_EQ(logs->answered[0].operation, Operation::kCancel);
  EXPECT_EQ(logs->answered[0].client_order_id, "c0-1");
  EXPECT_EQ(logs->answered[0].http_status, 200);
  EXPECT_EQ(logs->answered[0].body, "{\"decision\":\"ACCEPTED\"}");
}

TEST(ClientLogTest, RefusesAMalformedLineNamingIt) {
  testing::TempDir dir;
  const std::string path = dir.File("client-0.jsonl");
  testing::WriteFile(path, "not json\n");
  StatusOr<ParsedLogs> logs = ReadClientLogs({path});
  ASSERT_FALSE(logs.ok());
  EXPECT_NE(logs.status().message().find("client-0.jsonl:1"), std::string::npos);
}

}  // namespace
}  // namespace wojak::torture
