// Tests for the WAL scan: a torn last transaction is left to SQLite's recovery, while a damaged
// frame that complete transactions follow (acknowledged commits SQLite would silently drop)
// stops the journal from opening and fails verify, naming the first lost entry.
#include "journal/wal_scan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "journal/sqlite_journal.h"
#include "journal/test_util.h"

namespace wojak {
namespace {

using testing::SampleEntries;
using testing::TempDir;

constexpr size_t kBatches = 5;
constexpr size_t kEntriesPerBatch = 4;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
}

class WalScanTest : public ::testing::Test {
 protected:
  // A journal with kBatches committed batches, all still in the WAL, copied as a kill -9 would
  // leave it: `db_` and `wal_` are the crash image's database path and WAL bytes.
  void SetUp() override {
    JournalOptions options;
    options.path = JournalPathForDataDir(live_.path());
    options.background_checkpoint_pages = 0;
    auto journal = SqliteJournal::Open(options);
    ASSERT_TRUE(journal.ok()) << journal.status().ToString();
    for (size_t batch = 0; batch < kBatches; ++batch) {
      std::vector<Entry> entries =
          SampleEntries(1 + batch * kEntriesPerBatch, kEntriesPerBatch, 1500);
      ASSERT_TRUE((*journal)->AppendBatch(entries, ProjectionBatch{}).ok());
    }
    db_ = JournalPathForDataDir(crash_.path());
    std::filesystem::copy_file(options.path, db_);
    wal_ = ReadAll(options.path + "-wal");
    const WalScan clean = ScanWal(wal_);
    ASSERT_GT(clean.page_size, 0u);
    frame_size_ = 24 + clean.page_size;
    for (uint64_t frame = 1; frame <= clean.frames; ++frame) {
      if (BigEndian32(wal_, FrameOffset(frame) + 4) != 0) commit_frames_.push_back(frame);
    }
    ASSERT_EQ(commit_frames_.size(), kBatches + 1) << "schema commit plus one per batch";
  }

  size_t FrameOffset(uint64_t frame) const { return 32 + (frame - 1) * frame_size_; }
  // Flips one bit in the page of `frame`.
  void DamageFrame(uint64_t frame) { wal_[FrameOffset(frame) + 24 + 100] ^= 0x10; }
  void WriteCrashImage() { WriteAll(db_ + "-wal", wal_); }

  TempDir live_;
  TempDir crash_;
  std::string db_;
  std::string wal_;
  size_t frame_size_ = 0;
  std::vector<uint64_t> commit_frames_;  // frame numbers that end a transaction
};

TEST_F(WalScanTest, IntactWalLosesNothing) {
  WalScan scan = ScanWal(wal_);
  EXPECT_FALSE(scan.header_bad);
  EXPECT_EQ(scan.first_bad_frame, 0u);
  EXPECT_EQ(scan.recovered_frames, scan.frames);
  EXPECT_FALSE(scan.loses_acknowledged_commits);
}

TEST_F(WalScanTest, NoWalScansClean) {
  EXPECT_FALSE(ScanWal("").loses_acknowledged_commits);
  EXPECT_TRUE(CheckWalBeforeRecovery(db_).ok());
}

TEST_F(WalScanTest, DamagedFrameThatCommitsFollowLosesAcknowledgedCommits) {
  const uint64_t damaged = commit_frames_[1];  // ends the first batch
  DamageFrame(damaged);
  WalScan scan = ScanWal(wal_);
  EXPECT_EQ(scan.first_bad_frame, damaged);
  EXPECT_EQ(scan.first_bad_offset, FrameOffset(damaged));
  EXPECT_EQ(scan.recovered_frames, damaged - 1);
  EXPECT_EQ(scan.commits_after_bad, kBatches - 1);
  EXPECT_TRUE(scan.loses_acknowledged_commits);
}

TEST_F(WalScanTest, SqliteRecoveryReallyDropsThoseCommitsSilently) {
  DamageFrame(commit_frames_[1]);
  WriteCrashImage();
  // What SQLite alone makes of it: a shorter, perfectly valid-looking journal.
  {
    auto db = OpenSqlite(db_, OpenMode::kReadOnly, "");
    ASSERT_TRUE(db.ok());
    auto count = Statement::Prepare(db->get(), "SELECT count(*) FROM entries");
    ASSERT_TRUE(count.ok());
    ASSERT_EQ(sqlite3_step(count->get()), SQLITE_ROW);
    EXPECT_EQ(count->ColumnInt64(0), 0) << "the first batch and all after it are gone";
  }
  EXPECT_EQ(CheckWalBeforeRecovery(db_).code(), StatusCode::kDataLoss);
}

TEST_F(WalScanTest, JournalRefusesToOpenNamingTheFirstLostEntry) {
  DamageFrame(commit_frames_[2]);  // ends the second batch: entries 5..8
  WriteCrashImage();
  JournalOptions options;
  options.path = db_;
  auto journal = SqliteJournal::Open(options);
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(journal.status().message().find("entry seq 5 and later are lost"), std::string::npos)
      << journal.status().ToString();
  EXPECT_EQ(ReadAll(db_ + "-wal"), wal_) << "opening must not touch the evidence";
}

TEST_F(WalScanTest, VerifyNamesTheFirstLostEntry) {
  DamageFrame(commit_frames_[3]);  // ends the third batch: entries 9..12
  WriteCrashImage();
  VerifyReport report;
  Status verified = SqliteJournal::Verify(db_, &report);
  EXPECT_EQ(verified.code(), StatusCode::kDataLoss);
  EXPECT_EQ(report.last_seq, 8u);
  EXPECT_EQ(report.first_bad_seq, 9u);
  EXPECT_NE(report.problem.find("frame " + std::to_string(commit_frames_[3])), std::string::npos)
      << report.problem;
}

TEST_F(WalScanTest, DamagedHeaderWithCommittedFramesLosesAcknowledgedCommits) {
  wal_[20] ^= 0x01;  // salt-2: the header checksum no longer matches
  WalScan scan = ScanWal(wal_);
  EXPECT_TRUE(scan.header_bad);
  EXPECT_TRUE(scan.loses_acknowledged_commits);
}

// A crash while the last batch was being written: never acknowledged, so recovery may drop it.
TEST_F(WalScanTest, DamageInsideTheLastTransactionIsATornWrite) {
  DamageFrame(commit_frames_[kBatches - 1] + 1);  // first frame of the last batch
  EXPECT_FALSE(ScanWal(wal_).loses_acknowledged_commits);
}

TEST_F(WalScanTest, DamagedLastCommitFrameIsATornWrite) {
  DamageFrame(commit_frames_.back());
  EXPECT_FALSE(ScanWal(wal_).loses_acknowledged_commits);
}

TEST_F(WalScanTest, CutOrGarbageTailIsATornWrite) {
  const size_t last_batch_start = FrameOffset(commit_frames_[kBatches - 1] + 1);
  std::string cut = wal_.substr(0, last_batch_start + frame_size_ / 2);
  EXPECT_FALSE(ScanWal(cut).loses_acknowledged_commits);
  std::string garbage = wal_;
  for (size_t i = last_batch_start; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7);
  EXPECT_FALSE(ScanWal(garbage).loses_acknowledged_commits);
}

}  // namespace
}  // namespace wojak
