// Tests for SqliteJournal: round trips, seq and chain checks, torn WAL tails, corruption, and
// storage faults injected through the wojak-fault VFS.
#include "journal/sqlite_journal.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/env.h"
#include "journal/fault_vfs.h"
#include "journal/query.h"
#include "journal/test_util.h"

namespace wojak {
namespace {

using testing::SampleEntries;
using testing::SampleOrder;
using testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

class SqliteJournalTest : public ::testing::Test {
 protected:
  void SetUp() override { StorageFaults::Global().Reset(); }
  void TearDown() override {
    StorageFaults::Global().Reset();
    SetDurableImageTracking(false);
  }

  // Options for a journal in the temp dir on the fault VFS, without the background
  // checkpointer so a one-shot fault hits exactly the next commit.
  JournalOptions Options() const {
    JournalOptions options;
    options.path = JournalPathForDataDir(dir_.path());
    options.vfs = kFaultVfsName;
    options.background_checkpoint_pages = 0;
    return options;
  }

  std::unique_ptr<SqliteJournal> OpenJournal(const JournalOptions& options) {
    auto journal = SqliteJournal::Open(options);
    EXPECT_TRUE(journal.ok()) << journal.status().ToString();
    return journal.ok() ? std::move(journal).value() : nullptr;
  }
  std::unique_ptr<SqliteJournal> OpenJournal() { return OpenJournal(Options()); }

  // Appends entries [first, first + count) with no projections.
  static Status Append(SqliteJournal& journal, Seq first, size_t count) {
    std::vector<Entry> entries = SampleEntries(first, count);
    return journal.AppendBatch(entries, ProjectionBatch{});
  }

  static std::vector<Entry> ReplayAll(SqliteJournal& journal, Seq from = 1) {
    std::vector<Entry> seen;
    Status status = journal.Replay(from, [&](const Entry& entry) {
      seen.push_back(entry);
      return OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return seen;
  }

  // Runs one SQL statement on the database with a plain connection (to simulate tampering).
  void Tamper(const std::string& sql) {
    auto db = OpenSqlite(Options().path, OpenMode::kReadWrite, "");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ExecSql(db->get(), sql.c_str()).ok());
  }

  TempDir dir_;
};

TEST_F(SqliteJournalTest, ReplayReturnsAppendedEntriesInOrderWithTheirHashes) {
  auto journal = OpenJournal();
  std::vector<Entry> first = SampleEntries(1, 3);
  std::vector<Entry> second = SampleEntries(4, 2);
  ASSERT_TRUE(journal->AppendBatch(first, {}).ok());
  ASSERT_TRUE(journal->AppendBatch(second, {}).ok());

  std::vector<Entry> seen = ReplayAll(*journal);
  ASSERT_EQ(seen.size(), 5u);
  for (size_t i = 0; i < seen.size(); ++i) {
    const Entry& expected = i < 3 ? first[i] : second[i - 3];
    EXPECT_EQ(seen[i].seq, i + 1);
    EXPECT_EQ(seen[i].time_ns, expected.time_ns);
    EXPECT_EQ(seen[i].account, expected.account);
    EXPECT_EQ(seen[i].client_order_id, expected.client_order_id);
    EXPECT_EQ(seen[i].payload, expected.payload);
    EXPECT_EQ(seen[i].hash, expected.hash);
    EXPECT_EQ(seen[i].prev_hash, i == 0 ? kGenesisHash : seen[i - 1].hash);
  }
  EXPECT_EQ(journal->stats().last_seq, 5u);
  EXPECT_EQ(journal->stats().entries, 5u);
  EXPECT_EQ(journal->stats().last_hash, second.back().hash);
}

TEST_F(SqliteJournalTest, BinaryPayloadsRoundTrip) {
  auto journal = OpenJournal();
  std::vector<Entry> entries = SampleEntries(1, 1);
  entries[0].payload = std::string("\0\xff\x01zero", 7);
  entries[0].kind = EntryKind::kExecution;
  ASSERT_TRUE(journal->AppendBatch(entries, {}).ok());
  std::vector<Entry> seen = ReplayAll(*journal);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].payload, entries[0].payload);
  EXPECT_EQ(seen[0].kind, EntryKind::kExecution);
}

TEST_F(SqliteJournalTest, ReplayFromTheMiddleStartsAtThatSeq) {
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 10).ok());
  std::vector<Entry> seen = ReplayAll(*journal, 7);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen.front().seq, 7u);
  EXPECT_TRUE(ReplayAll(*journal, 11).empty());
}

TEST_F(SqliteJournalTest, ReplayStopsAtTheFirstErrorFromApply) {
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 5).ok());
  int applied = 0;
  Status status = journal->Replay(1, [&](const Entry& entry) {
    ++applied;
    return entry.seq == 3 ? Internal("boom") : OkStatus();
  });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("seq 3"), std::string::npos) << status.ToString();
  EXPECT_EQ(applied, 3);
}

TEST_F(SqliteJournalTest, ReopenContinuesTheChain) {
  Hash last_hash;
  {
    auto journal = OpenJournal();
    ASSERT_TRUE(Append(*journal, 1, 4).ok());
    last_hash = journal->stats().last_hash;
  }
  auto journal = OpenJournal();
  EXPECT_EQ(journal->stats().last_seq, 4u);
  EXPECT_EQ(journal->stats().entries, 4u);
  EXPECT_EQ(journal->stats().last_hash, last_hash);
  std::vector<Entry> more = SampleEntries(5, 2);
  ASSERT_TRUE(journal->AppendBatch(more, {}).ok());
  EXPECT_EQ(more[0].prev_hash, last_hash);
  EXPECT_EQ(ReplayAll(*journal).size(), 6u);
}

TEST_F(SqliteJournalTest, ReopenWithoutFullVerificationLoadsTheTail) {
  {
    auto journal = OpenJournal();
    ASSERT_TRUE(Append(*journal, 1, 4).ok());
  }
  JournalOptions options = Options();
  options.verify_on_open = false;
  auto journal = OpenJournal(options);
  EXPECT_EQ(journal->stats().last_seq, 4u);
  EXPECT_EQ(journal->stats().entries, 4u);
  EXPECT_TRUE(Append(*journal, 5, 1).ok());
}

TEST_F(SqliteJournalTest, BatchThatSkipsASeqIsRejectedAndStopsTheJournal) {
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 2).ok());
  Status status = Append(*journal, 4, 1);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("expected 3"), std::string::npos) << status.ToString();

  Status later = Append(*journal, 3, 1);
  EXPECT_EQ(later.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(later.message().find("journal failed at seq 3"), std::string::npos) << later.ToString();
  EXPECT_EQ(journal->stats().last_seq, 2u);
}

TEST_F(SqliteJournalTest, BatchWithNonConsecutiveSeqsIsRejected) {
  auto journal = OpenJournal();
  std::vector<Entry> entries = SampleEntries(1, 3);
  entries[2].seq = 5;
  EXPECT_EQ(journal->AppendBatch(entries, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(journal->stats().last_seq, 0u);
  EXPECT_TRUE(ReplayAll(*journal).empty());
}

TEST_F(SqliteJournalTest, EmptyBatchIsANoOp) {
  auto journal = OpenJournal();
  EXPECT_TRUE(journal->AppendBatch({}, {}).ok());
  EXPECT_EQ(journal->stats().last_seq, 0u);
  EXPECT_TRUE(journal->health().ok());
}

TEST_F(SqliteJournalTest, AlteredPayloadIsDataLossOnReplayAndOpen) {
  {
    auto journal = OpenJournal();
    ASSERT_TRUE(Append(*journal, 1, 10).ok());
    Tamper("UPDATE entries SET payload = X'00' WHERE seq = 7");
    Status status = journal->Replay(1, [](const Entry&) { return OkStatus(); });
    EXPECT_EQ(status.code(), StatusCode::kDataLoss);
    EXPECT_NE(status.message().find("seq 7"), std::string::npos) << status.ToString();
  }
  auto reopened = SqliteJournal::Open(Options());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find("seq 7"), std::string::npos);
}

TEST_F(SqliteJournalTest, ReplayFromAfterADeletedEntryReportsTheGap) {
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 6).ok());
  Tamper("DELETE FROM entries WHERE seq = 4");
  Status status = journal->Replay(5, [](const Entry&) { return OkStatus(); });
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("seq 4"), std::string::npos) << status.ToString();
}

TEST_F(SqliteJournalTest, VerifyAcceptsAHealthyJournal) {
  {
    auto journal = OpenJournal();
    ASSERT_TRUE(Append(*journal, 1, 20).ok());
  }
  VerifyReport report;
  Status status = SqliteJournal::Verify(Options().path, &report);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(report.integrity, "ok");
  EXPECT_EQ(report.entries, 20u);
  EXPECT_EQ(report.first_seq, 1u);
  EXPECT_EQ(report.last_seq, 20u);
  EXPECT_EQ(report.first_bad_seq, 0u);
}

TEST_F(SqliteJournalTest, VerifyNamesTheEntryWhoseBytesFlippedOnDisk) {
  {
    auto journal = OpenJournal();
    ASSERT_TRUE(Append(*journal, 1, 20).ok());
  }  // closing checkpoints the WAL into the database file
  std::string path = Options().path;
  ASSERT_FALSE(std::filesystem::exists(path + "-wal"));
  std::string bytes = ReadAll(path);
  size_t at = bytes.find(testing::SamplePayload(13).substr(0, 11));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 12] ^= 0x20;  // one bit in the padding of entry 13's payload
  WriteAll(path, bytes);

  VerifyReport report;
  Status status = SqliteJournal::Verify(path, &report);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("seq 13"), std::string::npos) << status.ToString();
  EXPECT_EQ(report.first_bad_seq, 13u);
  EXPECT_EQ(report.entries, 12u);
  EXPECT_EQ(report.last_seq, 12u);
}

TEST_F(SqliteJournalTest, VerifyNamesADeletedEntry) {
  {
    auto journal = OpenJournal();
    ASSERT_TRUE(Append(*journal, 1, 5).ok());
  }
  Tamper("DELETE FROM entries WHERE seq = 3");
  VerifyReport report;
  EXPECT_EQ(SqliteJournal::Verify(Options().path, &report).code(), StatusCode::kDataLoss);
  EXPECT_EQ(report.first_bad_seq, 3u);
}

TEST_F(SqliteJournalTest, VerifyRejectsAFileThatIsNotADatabase) {
  std::string path = Options().path;
  WriteAll(path, std::string(8192, 'x'));
  VerifyReport report;
  EXPECT_EQ(SqliteJournal::Verify(path, &report).code(), StatusCode::kDataLoss);
}

TEST_F(SqliteJournalTest, VerifyOfAMissingJournalIsNotFound) {
  EXPECT_EQ(SqliteJournal::Verify(Options().path, nullptr).code(), StatusCode::kNotFound);
}

// A crash while the last commit was being written leaves a torn WAL tail. SQLite checksums
// every WAL frame, so recovery keeps exactly the transactions whose frames are all intact.
class TornWalTailTest : public SqliteJournalTest,
                        public ::testing::WithParamInterface<bool /*garbage instead of cut*/> {};

TEST_P(TornWalTailTest, DropsOnlyTheLastTransaction) {
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 5).ok());
  ASSERT_TRUE(Append(*journal, 6, 5).ok());
  ASSERT_TRUE(Append(*journal, 11, 5).ok());

  // Snapshot the files as a crash would leave them (everything is still in the WAL).
  TempDir crash;
  std::string db = JournalPathForDataDir(crash.path());
  std::filesystem::copy_file(Options().path, db);
  std::string wal = ReadAll(Options().path + "-wal");
  ASSERT_GT(wal.size(), 4096u);
  if (GetParam()) {
    for (size_t i = wal.size() - 100; i < wal.size(); ++i) wal[i] = '\xab';
  } else {
    wal.resize(wal.size() - 100);
  }
  WriteAll(db + "-wal", wal);

  JournalOptions options;
  options.path = db;
  options.background_checkpoint_pages = 0;
  auto recovered = OpenJournal(options);
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(recovered->stats().last_seq, 10u);
  EXPECT_EQ(ReplayAll(*recovered).size(), 10u);
  EXPECT_TRUE(Append(*recovered, 11, 1).ok());
  recovered.reset();
  EXPECT_TRUE(SqliteJournal::Verify(db, nullptr).ok());
}

INSTANTIATE_TEST_SUITE_P(CutOrGarbage, TornWalTailTest, ::testing::Bool());

TEST_F(SqliteJournalTest, FsyncErrorFailsTheAppendAndEveryLaterOne) {
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 3).ok());
  StorageFaults::Global().FailSyncs(FaultMode::kOnce);
  Status failed = Append(*journal, 4, 3);
  EXPECT_EQ(failed.code(), StatusCode::kIoError) << failed.ToString();
  EXPECT_EQ(StorageFaults::Global().failed_syncs(), 1u);

  // The fault is gone, but a retried fsync proves nothing: the journal stays failed.
  Status retried = Append(*journal, 4, 3);
  EXPECT_EQ(retried.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(retried.message().find("journal failed at seq 4"), std::string::npos)
      << retried.ToString();
  EXPECT_NE(retried.message().find("restart to recover"), std::string::npos);
  EXPECT_EQ(journal->SetMeta("k", "v").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal->health().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(journal->stats().last_seq, 3u);
}

TEST_F(SqliteJournalTest, DiskFullFailsTheAppendAndStopsTheJournal) {
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 3).ok());
  StorageFaults::Global().SetDiskFull(true);
  Status failed = Append(*journal, 4, 50);
  EXPECT_EQ(failed.code(), StatusCode::kResourceExhausted) << failed.ToString();
  StorageFaults::Global().SetDiskFull(false);
  EXPECT_EQ(Append(*journal, 4, 1).code(), StatusCode::kFailedPrecondition);
}

// After a failed commit the process restarts: reopening recovers every acknowledged batch, and
// the failed batch either entirely (its frames reached the WAL) or not at all.
TEST_F(SqliteJournalTest, ReopenAfterFsyncFailureRecoversWholeBatchesOnly) {
  {
    auto journal = OpenJournal();
    ASSERT_TRUE(Append(*journal, 1, 3).ok());
    ASSERT_TRUE(Append(*journal, 4, 3).ok());
    StorageFaults::Global().FailSyncs(FaultMode::kOnce);
    ASSERT_FALSE(Append(*journal, 7, 4).ok());
  }
  auto journal = OpenJournal();
  ASSERT_NE(journal, nullptr);
  Seq last = journal->stats().last_seq;
  EXPECT_TRUE(last == 6 || last == 10) << last;
  EXPECT_EQ(ReplayAll(*journal).size(), last);
  EXPECT_TRUE(Append(*journal, last + 1, 2).ok());
}

// Power cut simulation: the durable images hold only what a successful fsync covered.
TEST_F(SqliteJournalTest, EveryAcknowledgedBatchSurvivesPowerLoss) {
  SetDurableImageTracking(true);
  auto journal = OpenJournal();
  for (Seq first = 1; first <= 16; first += 4) {
    ASSERT_TRUE(Append(*journal, first, 4).ok());
    TempDir crash;
    std::string db = JournalPathForDataDir(crash.path());
    ASSERT_TRUE(WriteDurableSnapshot(Options().path, db).ok());
    JournalOptions options;
    options.path = db;
    options.background_checkpoint_pages = 0;
    auto recovered = OpenJournal(options);
    ASSERT_NE(recovered, nullptr);
    EXPECT_EQ(recovered->stats().last_seq, first + 3);
  }
}

TEST_F(SqliteJournalTest, BatchWhoseFsyncFailedIsNotDurable) {
  SetDurableImageTracking(true);
  auto journal = OpenJournal();
  ASSERT_TRUE(Append(*journal, 1, 4).ok());
  StorageFaults::Global().FailSyncs(FaultMode::kAlways);
  ASSERT_FALSE(Append(*journal, 5, 4).ok());

  TempDir crash;
  std::string db = JournalPathForDataDir(crash.path());
  ASSERT_TRUE(WriteDurableSnapshot(Options().path, db).ok());
  StorageFaults::Global().Reset();
  JournalOptions options;
  options.path = db;
  options.background_checkpoint_pages = 0;
  auto recovered = OpenJournal(options);
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(recovered->stats().last_seq, 4u);
}

TEST_F(SqliteJournalTest, ProjectionsAreVisibleToQueriesWithTheirEntries) {
  auto journal = OpenJournal();
  auto query = JournalQuery::Open(Options().path);
  ASSERT_TRUE(query.ok()) << query.status().ToString();

  std::vector<Entry> entries = SampleEntries(1, 2);
  ProjectionBatch projections;
  projections.orders = {SampleOrder(1), SampleOrder(2)};
  projections.trades.push_back(TradeRow{.trade_id = "T-2",
                                        .seq = 2,
                                        .order_id = "W-2",
                                        .account = "ACC1",
                                        .strategy = "straddle",
                                        .symbol = "NIFTY26JAN24000CE",
                                        .side = "SELL",
                                        .quantity = 75,
                                        .price_paise = 12050,
                                        .time_ns = 5});
  projections.positions.push_back(PositionRow{.account = "ACC1",
                                              .symbol = "NIFTY26JAN24000CE",
                                              .net_quantity = -75,
                                              .sell_quantity = 75,
                                              .sell_value_paise = 903750,
                                              .last_seq = 2});
  ASSERT_TRUE(journal->AppendBatch(entries, projections).ok());

  auto orders = (*query)->ListOrders({});
  ASSERT_TRUE(orders.ok());
  EXPECT_EQ(orders->size(), 2u);
  auto trades = (*query)->ListTrades({});
  ASSERT_TRUE(trades.ok());
  ASSERT_EQ(trades->size(), 1u);
  EXPECT_EQ(trades->front().order_id, "W-2");
  auto positions = (*query)->ListPositions("ACC1");
  ASSERT_TRUE(positions.ok());
  ASSERT_EQ(positions->size(), 1u);
  EXPECT_EQ(positions->front().net_quantity, -75);
}

TEST_F(SqliteJournalTest, ProjectionsOfAFailedBatchAreNotVisible) {
  auto journal = OpenJournal();
  auto query = JournalQuery::Open(Options().path);
  ASSERT_TRUE(query.ok());
  std::vector<Entry> entries = SampleEntries(1, 1);
  ProjectionBatch projections;
  projections.orders = {SampleOrder(1)};
  StorageFaults::Global().FailSyncs(FaultMode::kOnce);
  ASSERT_FALSE(journal->AppendBatch(entries, projections).ok());
  auto orders = (*query)->ListOrders({});
  ASSERT_TRUE(orders.ok());
  EXPECT_TRUE(orders->empty());
}

TEST_F(SqliteJournalTest, DuplicateTradeIdFailsTheWholeBatch) {
  auto journal = OpenJournal();
  std::vector<Entry> entries = SampleEntries(1, 1);
  ProjectionBatch projections;
  projections.trades = {TradeRow{.trade_id = "T-1", .seq = 1}, TradeRow{.trade_id = "T-1"}};
  EXPECT_EQ(journal->AppendBatch(entries, projections).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(journal->stats().last_seq, 0u);
  EXPECT_TRUE(ReplayAll(*journal).empty());
}

TEST_F(SqliteJournalTest, MetaSurvivesReopen) {
  {
    auto journal = OpenJournal();
    EXPECT_EQ(journal->GetMeta("outbox_cursor").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(journal->SetMeta("outbox_cursor", "41").ok());
    ASSERT_TRUE(journal->SetMeta("outbox_cursor", "42").ok());
  }
  auto journal = OpenJournal();
  auto value = journal->GetMeta("outbox_cursor");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "42");
  EXPECT_EQ(*journal->GetMeta("schema_version"), std::to_string(kJournalSchemaVersion));
}

TEST_F(SqliteJournalTest, OutboxReadsPageByOutboxSeqAndAssignsMissingOnes) {
  auto journal = OpenJournal();
  std::vector<Entry> entries = SampleEntries(1, 3);
  ProjectionBatch projections;
  projections.outbox = {
      OutboxRow{.outbox_seq = 0, .entry_seq = 1, .topic = "escalation", .payload = R"({"n":1})"},
      OutboxRow{.outbox_seq = 0, .entry_seq = 2, .topic = "execution", .payload = R"({"n":2})"},
      OutboxRow{.outbox_seq = 0, .entry_seq = 3, .topic = "escalation", .payload = R"({"n":3})"}};
  ASSERT_TRUE(journal->AppendBatch(entries, projections).ok());

  auto page = journal->ReadOutbox(0, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].outbox_seq, 1u);
  EXPECT_EQ((*page)[1].outbox_seq, 2u);
  EXPECT_EQ((*page)[1].topic, "execution");
  auto rest = journal->ReadOutbox(2, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().entry_seq, 3u);
  EXPECT_EQ(rest->front().payload, R"({"n":3})");
}

TEST_F(SqliteJournalTest, JournalWithAnotherSchemaVersionIsRefused) {
  { auto journal = OpenJournal(); }
  Tamper("UPDATE meta SET value = '999' WHERE key = 'schema_version'");
  auto journal = SqliteJournal::Open(Options());
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(journal.status().message().find("999"), std::string::npos);
}

TEST_F(SqliteJournalTest, CreatesTheDataDirectory) {
  JournalOptions options = Options();
  options.path = JournalPathForDataDir(dir_.path() + "/nested/data");
  auto journal = OpenJournal(options);
  ASSERT_NE(journal, nullptr);
  EXPECT_TRUE(std::filesystem::exists(options.path));
}

JournalOptions BackgroundCheckpointOptions(const JournalOptions& base) {
  JournalOptions options = base;
  options.vfs.clear();
  options.background_checkpoint_pages = 4;
  options.tuning.wal_autocheckpoint_pages = 0;  // only the background thread starts checkpoints
  return options;
}

TEST_F(SqliteJournalTest, BackgroundCheckpointerMovesTheWalIntoTheDatabase) {
  JournalOptions options = BackgroundCheckpointOptions(Options());
  auto journal = OpenJournal(options);
  uint64_t initial_size = std::filesystem::file_size(options.path);
  for (Seq first = 1; first <= 2000; first += 100) {
    ASSERT_TRUE(Append(*journal, first, 100).ok());
  }
  // The checkpoint runs on another thread and is counted only after it returned, while the
  // database grows as it copies pages: wait (bounded) for both rather than assume timing.
  auto checkpointed = [&] {
    return std::filesystem::file_size(options.path) > initial_size &&
           journal->wal_stats().background_checkpoints >= 1;
  };
  for (int i = 0; i < 3000 && !checkpointed(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(std::filesystem::file_size(options.path), initial_size);
  EXPECT_GE(journal->wal_stats().background_checkpoints, 1u);
  EXPECT_TRUE(journal->health().ok());
}

// Under continuous appends a checkpoint on another thread always trails the writer, so on its
// own it would rarely let the WAL start over; the writer finishes each background checkpoint.
TEST_F(SqliteJournalTest, WriterFinishesBackgroundCheckpointsSoTheWalStartsOver) {
  auto journal = OpenJournal(BackgroundCheckpointOptions(Options()));
  auto done = [&] {
    WalStats stats = journal->wal_stats();
    return stats.wal_restarts > 0 && stats.writer_checkpoints > 0;
  };
  for (Seq first = 1; first <= 20'000 && !done(); first += 10) {
    ASSERT_TRUE(Append(*journal, first, 10).ok());
  }
  WalStats stats = journal->wal_stats();
  EXPECT_GE(stats.writer_checkpoints, 1u);
  EXPECT_GE(stats.wal_restarts, 1u);
  EXPECT_GE(stats.background_checkpoints, 1u);
}

}  // namespace
}  // namespace wojak
