// Storage faults at the engine level: when fsync fails (EIO) or the disk is full, the engine
// stops acknowledging (RETRY with STORAGE_UNAVAILABLE), goes unready, never commits again in
// that run (a retried fsync proves nothing: the fsyncgate lesson), and only a restart, which
// replays the journal, brings it back, with every decision acknowledged before the fault intact.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/env.h"
#include "faults/engine_harness.h"
#include "journal/fault_vfs.h"
#include "journal/sqlite_journal.h"
#include "model/order_json.h"

namespace wojak::faults {
namespace {

using testing::TempDir;

constexpr int kAcknowledged = 20;

enum class Fault { kFsyncFails, kDiskFull };

std::string FaultName(const ::testing::TestParamInfo<Fault>& info) {
  return info.param == Fault::kFsyncFails ? "FsyncEio" : "DiskFull";
}

void Inject(Fault fault) {
  if (fault == Fault::kFsyncFails) {
    StorageFaults::Global().FailSyncs(FaultMode::kOnce);
  } else {
    StorageFaults::Global().SetDiskFull(true);
  }
}

bool IsStorageRetry(const Decision& decision) {
  return decision.kind == DecisionKind::kRetry && !decision.reasons.empty() &&
         decision.reasons[0].code == ReasonCode::k_STORAGE_UNAVAILABLE &&
         decision.order_id.empty() && decision.seq == 0;
}

class EngineStorageFaultTest : public ::testing::TestWithParam<Fault> {
 protected:
  void SetUp() override { StorageFaults::Global().Reset(); }
  void TearDown() override {
    StorageFaults::Global().Reset();
    SetDurableImageTracking(false);
  }

  // Starts the engine, has it decide orders 0..kAcknowledged-1 and waits until their fills are
  // journalled too, so the next commit is the next order's.
  std::map<size_t, Decision> AcknowledgeOrders(InProcessEngine& engine) {
    std::map<size_t, Decision> decided = SendOnce(engine.endpoint(), acknowledged_orders_);
    EXPECT_EQ(decided.size(), acknowledged_orders_.size());
    for (const auto& [index, decision] : decided) {
      EXPECT_NE(decision.kind, DecisionKind::kRetry) << DecisionToJson(decision);
    }
    EXPECT_TRUE(engine.WaitForLastSeq(ExpectedEntries(decided)));
    return decided;
  }

  TempDir dir_;
  testing::InstrumentFixture fixture_ = testing::GenerateInstruments(dir_.path());
  std::string data_dir_ = dir_.File("data");
  std::vector<OrderRequest> acknowledged_orders_ = TestOrders(fixture_, 0, kAcknowledged);
  std::vector<OrderRequest> later_orders_ = TestOrders(fixture_, kAcknowledged, 5);
};

TEST_P(EngineStorageFaultTest, AnswersRetryAndGoesUnreadyWhenACommitFails) {
  InProcessEngine engine(data_dir_, fixture_);
  ASSERT_TRUE(engine.Start());
  AcknowledgeOrders(engine);
  ASSERT_TRUE(engine.status().ready);
  const uint64_t last_seq = engine.status().last_seq;

  Inject(GetParam());
  auto faulted = SendOnce(engine.endpoint(), {later_orders_[0]});
  ASSERT_EQ(faulted.size(), 1u);
  EXPECT_TRUE(IsStorageRetry(faulted[0])) << DecisionToJson(faulted[0]);
  EXPECT_GE(GetParam() == Fault::kFsyncFails ? StorageFaults::Global().failed_syncs()
                                             : StorageFaults::Global().failed_writes(),
            1u)
      << "the fault never reached the journal";
  EngineStatus status = engine.status();
  EXPECT_FALSE(status.ready);
  EXPECT_TRUE(status.storage_failed);
  EXPECT_EQ(status.last_seq, last_seq) << "the failed batch advanced last_seq";
}

TEST_P(EngineStorageFaultTest, NeverCommitsAgainInTheSameRunEvenOnceTheFaultIsGone) {
  InProcessEngine engine(data_dir_, fixture_);
  ASSERT_TRUE(engine.Start());
  AcknowledgeOrders(engine);
  const uint64_t last_seq = engine.status().last_seq;

  Inject(GetParam());
  ASSERT_EQ(SendOnce(engine.endpoint(), {later_orders_[0]}).size(), 1u);
  StorageFaults::Global().Reset();  // the disk is "fine" again
  const uint64_t syncs_after_fault = StorageFaults::Global().syncs();

  // New orders and a duplicate of an acknowledged one: all RETRY, nothing decided from memory.
  std::vector<OrderRequest> more(later_orders_.begin() + 1, later_orders_.end());
  more.push_back(acknowledged_orders_[1]);
  auto replies = SendOnce(engine.endpoint(), more);
  ASSERT_EQ(replies.size(), more.size());
  for (const auto& [index, decision] : replies) {
    EXPECT_TRUE(IsStorageRetry(decision)) << index << ": " << DecisionToJson(decision);
  }
  EXPECT_EQ(StorageFaults::Global().syncs(), syncs_after_fault)
      << "the engine synced again after a failed commit";
  EXPECT_FALSE(engine.status().ready);
  EXPECT_TRUE(engine.status().storage_failed);
  EXPECT_EQ(engine.status().last_seq, last_seq);
}

TEST_P(EngineStorageFaultTest, RestartReplaysEveryAcknowledgedDecisionUnchanged) {
  std::map<size_t, Decision> acknowledged;
  {
    InProcessEngine engine(data_dir_, fixture_);
    ASSERT_TRUE(engine.Start());
    acknowledged = AcknowledgeOrders(engine);
    Inject(GetParam());
    auto after_fault = SendOnce(engine.endpoint(), later_orders_);
    ASSERT_EQ(after_fault.size(), later_orders_.size());
    for (const auto& [index, decision] : after_fault) {
      ASSERT_TRUE(IsStorageRetry(decision))
          << "acknowledged after the fault: " << DecisionToJson(decision);
    }
    StorageFaults::Global().Reset();
  }
  ASSERT_TRUE(SqliteJournal::Verify(JournalPathForDataDir(data_dir_), nullptr).ok());

  InProcessEngine restarted(data_dir_, fixture_);
  std::string error;
  ASSERT_TRUE(restarted.Start(&error)) << error;
  EXPECT_TRUE(restarted.status().ready);
  EXPECT_FALSE(restarted.status().storage_failed);
  EXPECT_TRUE(restarted.status().recovered);
  auto again = SendOnce(restarted.endpoint(), acknowledged_orders_);
  ASSERT_EQ(again.size(), acknowledged_orders_.size());
  for (const auto& [index, original] : acknowledged) {
    EXPECT_TRUE(IsDuplicateOf(again[index], original))
        << "order " << index << " was " << DecisionToJson(original) << ", after restart "
        << DecisionToJson(again[index]);
  }
  // The orders that were answered RETRY were never acknowledged: sent again, each is decided
  // now (or, if the failed batch did reach the disk, answered with that decision).
  auto retried = SendOnce(restarted.endpoint(), later_orders_);
  ASSERT_EQ(retried.size(), later_orders_.size());
  for (const auto& [index, decision] : retried) {
    EXPECT_NE(decision.kind, DecisionKind::kRetry) << DecisionToJson(decision);
    EXPECT_FALSE(decision.order_id.empty()) << DecisionToJson(decision);
  }
}

// A power cut right after the fault: only what reached the disk through a successful fsync
// survives. Every acknowledged decision must be in that image; the failed batch must not.
TEST_P(EngineStorageFaultTest, PowerCutAfterTheFaultKeepsEveryAcknowledgedDecision) {
  SetDurableImageTracking(true);
  TempDir after_power_cut;
  std::map<size_t, Decision> acknowledged;
  {
    InProcessEngine engine(data_dir_, fixture_);
    ASSERT_TRUE(engine.Start());
    acknowledged = AcknowledgeOrders(engine);
    Inject(GetParam());
    ASSERT_TRUE(IsStorageRetry(SendOnce(engine.endpoint(), {later_orders_[0]})[0]));
    ASSERT_TRUE(WriteDurableSnapshot(JournalPathForDataDir(data_dir_),
                                     JournalPathForDataDir(after_power_cut.path()))
                    .ok());
    StorageFaults::Global().Reset();
  }
  SetDurableImageTracking(false);

  InProcessEngine restarted(after_power_cut.path(), fixture_);
  std::string error;
  ASSERT_TRUE(restarted.Start(&error)) << error;
  EXPECT_EQ(restarted.status().last_seq, ExpectedEntries(acknowledged));
  auto again = SendOnce(restarted.endpoint(), acknowledged_orders_);
  ASSERT_EQ(again.size(), acknowledged_orders_.size());
  for (const auto& [index, original] : acknowledged) {
    EXPECT_TRUE(IsDuplicateOf(again[index], original))
        << "order " << index << " was " << DecisionToJson(original) << ", after power cut "
        << DecisionToJson(again[index]);
  }
  auto unacknowledged = SendOnce(restarted.endpoint(), {later_orders_[0]});
  ASSERT_EQ(unacknowledged.size(), 1u);
  EXPECT_NE(unacknowledged[0].kind, DecisionKind::kDuplicate)
      << "the batch whose commit failed survived the power cut";
  EXPECT_NE(unacknowledged[0].kind, DecisionKind::kRetry);
  restarted.Stop();
  EXPECT_TRUE(SqliteJournal::Verify(JournalPathForDataDir(after_power_cut.path()), nullptr).ok());
}

INSTANTIATE_TEST_SUITE_P(Faults, EngineStorageFaultTest,
                         ::testing::Values(Fault::kFsyncFails, Fault::kDiskFull), FaultName);

}  // namespace
}  // namespace wojak::faults
