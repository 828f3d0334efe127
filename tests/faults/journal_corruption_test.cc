// Crash debris and corruption in the journal files, met by the real `wojak` binary: a torn last
// write (WAL cut short or ending in garbage, a checkpoint interrupted half way through the
// database file) loses only what was never acknowledged; a flipped byte inside a journal entry,
// in the database file or still in the WAL, makes `wojak verify` fail naming the entry and
// `wojak engine` refuse to start.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>

#include "common/env.h"
#include "faults/engine_harness.h"
#include "journal/sqlite_journal.h"
#include "model/order_json.h"

namespace wojak::faults {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr int kOrdersPerRun = 10;

std::string WalPath(const std::string& data_dir) {
  return JournalPathForDataDir(data_dir) + "-wal";
}

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
}

// Page size and the numbers of the pages held by the WAL's frames
// (https://sqlite.org/fileformat2.html#walformat: a 32-byte header, then frames of a 24-byte header
// and one page; frames of the current WAL generation carry the header's salts).
struct WalPages {
  uint32_t page_size = 0;
  std::set<uint32_t> pages;
};

WalPages ReadWalPages(const std::string& wal) {
  constexpr size_t kHeader = 32, kFrameHeader = 24;
  WalPages out;
  if (wal.size() < kHeader) return out;
  out.page_size = BigEndian32(wal, 8);
  const std::string salts = wal.substr(16, 8);
  for (size_t at = kHeader; at + kFrameHeader + out.page_size <= wal.size();
       at += kFrameHeader + out.page_size) {
    if (wal.compare(at + 8, 8, salts) != 0) break;
    out.pages.insert(BigEndian32(wal, at));
  }
  return out;
}

void ExpectEveryAcknowledgedDecisionIsThere(const std::string& endpoint,
                                            const std::vector<OrderRequest>& orders,
                                            const std::map<size_t, Decision>& acknowledged) {
  auto again = SendOnce(endpoint, orders);
  ASSERT_EQ(again.size(), orders.size());
  for (const auto& [index, original] : acknowledged) {
    EXPECT_TRUE(IsDuplicateOf(again[index], original))
        << "order " << index << " was " << DecisionToJson(original) << ", after recovery "
        << DecisionToJson(again[index]);
  }
}

class JournalCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override { StorageFaults::Global().Reset(); }
  void TearDown() override { StorageFaults::Global().Reset(); }

  // Has a running engine decide `orders` and waits until their fills are journalled.
  std::map<size_t, Decision> Acknowledge(InProcessEngine& engine,
                                         const std::vector<OrderRequest>& orders,
                                         uint64_t entries_before) {
    auto decided = SendOnce(engine.endpoint(), orders);
    EXPECT_EQ(decided.size(), orders.size());
    for (const auto& [index, decision] : decided) {
      EXPECT_NE(decision.kind, DecisionKind::kRetry) << DecisionToJson(decision);
    }
    EXPECT_TRUE(engine.WaitForLastSeq(entries_before + ExpectedEntries(decided)));
    return decided;
  }

  // The journal files as a kill -9 at this instant leaves them, copied to crash_dir_.
  void CopyJournalAsKilled(const std::string& wal_content) {
    std::filesystem::create_directories(crash_dir_);
    std::filesystem::copy_file(JournalPathForDataDir(data_dir_), JournalPathForDataDir(crash_dir_));
    WriteFile(WalPath(crash_dir_), wal_content);
  }

  // `wojak engine` on the crash copy must start, know every acknowledged decision, and leave a
  // journal that `wojak verify` accepts.
  void ExpectRecoveryKeepsAcknowledged(const std::vector<OrderRequest>& orders,
                                       const std::map<size_t, Decision>& acknowledged,
                                       const std::vector<OrderRequest>& unacknowledged) {
    EngineProcess engine(crash_dir_, fixture_);
    engine.Start();
    ASSERT_TRUE(engine.running()) << engine.log();
    ExpectEveryAcknowledgedDecisionIsThere(engine.endpoint(), orders, acknowledged);
    auto fresh = SendOnce(engine.endpoint(), unacknowledged);
    ASSERT_EQ(fresh.size(), unacknowledged.size());
    for (const auto& [index, decision] : fresh) {
      EXPECT_NE(decision.kind, DecisionKind::kDuplicate)
          << "a torn, unacknowledged commit was recovered: " << DecisionToJson(decision);
      EXPECT_NE(decision.kind, DecisionKind::kRetry) << DecisionToJson(decision);
    }
    EXPECT_EQ(engine.Stop(), 0) << engine.log();
    std::string output;
    EXPECT_EQ(RunVerify(crash_dir_, &output), 0) << output;
  }

  TempDir dir_;
  testing::InstrumentFixture fixture_ = testing::GenerateInstruments(dir_.path());
  std::string data_dir_ = dir_.File("data");
  std::string crash_dir_ = dir_.File("crash");
  std::vector<OrderRequest> first_orders_ = TestOrders(fixture_, 0, kOrdersPerRun);
  std::vector<OrderRequest> second_orders_ = TestOrders(fixture_, kOrdersPerRun, kOrdersPerRun);
};

// How the last, unacknowledged commit's WAL frames were torn by the crash.
enum class Tear { kCutShort, kGarbageTail };

class TornWalTailTest : public JournalCorruptionTest, public ::testing::WithParamInterface<Tear> {};

TEST_P(TornWalTailTest, RecoveryDropsOnlyTheUnacknowledgedCommit) {
  InProcessEngine engine(data_dir_, fixture_);
  ASSERT_TRUE(engine.Start());
  auto acknowledged = Acknowledge(engine, first_orders_, 0);
  const std::string wal_acknowledged = ReadFile(WalPath(data_dir_));

  // The next commit writes its frames but its fsync fails: it is answered RETRY, never
  // acknowledged, and a crash now may leave any prefix of those frames on disk.
  StorageFaults::Global().FailSyncs(FaultMode::kOnce);
  auto retried = SendOnce(engine.endpoint(), {second_orders_[0]});
  ASSERT_EQ(retried.size(), 1u);
  ASSERT_EQ(retried[0].kind, DecisionKind::kRetry);
  std::string wal = ReadFile(WalPath(data_dir_));
  ASSERT_GT(wal.size(), wal_acknowledged.size()) << "the failed commit wrote no WAL frames";
  ASSERT_EQ(wal.compare(0, wal_acknowledged.size(), wal_acknowledged), 0);
  const size_t torn_at = wal_acknowledged.size() + (wal.size() - wal_acknowledged.size()) / 2;
  if (GetParam() == Tear::kCutShort) {
    wal.resize(torn_at);
  } else {
    for (size_t i = torn_at; i < wal.size(); ++i) wal[i] = static_cast<char>(0xa5 ^ i);
  }
  CopyJournalAsKilled(wal);
  engine.Stop();
  StorageFaults::Global().Reset();

  ExpectRecoveryKeepsAcknowledged(first_orders_, acknowledged, {second_orders_[0]});
}

INSTANTIATE_TEST_SUITE_P(Tears, TornWalTailTest,
                         ::testing::Values(Tear::kCutShort, Tear::kGarbageTail),
                         [](const auto& info) {
                           return info.param == Tear::kCutShort ? "CutShort" : "GarbageTail";
                         });

// A checkpoint copies WAL pages into the database file and only then lets the WAL start over,
// so a crash in the middle of one can leave any page it was writing torn, and the file extended
// by garbage; every such page is still in the WAL, which recovery reads instead.
TEST_F(JournalCorruptionTest, InterruptedCheckpointLeavesGarbageInTheDatabaseFile) {
  std::map<size_t, Decision> acknowledged;
  {
    InProcessEngine engine(data_dir_, fixture_);
    ASSERT_TRUE(engine.Start());
    acknowledged = Acknowledge(engine, first_orders_, 0);
  }  // closing checkpoints everything into the database file
  InProcessEngine engine(data_dir_, fixture_);
  ASSERT_TRUE(engine.Start());
  const uint64_t entries_before = engine.status().last_seq;
  for (auto& [index, decision] : Acknowledge(engine, second_orders_, entries_before)) {
    acknowledged.emplace(first_orders_.size() + index, decision);
  }
  const std::string wal = ReadFile(WalPath(data_dir_));
  CopyJournalAsKilled(wal);
  engine.Stop();

  WalPages in_wal = ReadWalPages(wal);
  ASSERT_GT(in_wal.page_size, 0u);
  ASSERT_FALSE(in_wal.pages.empty());
  std::string database = ReadFile(JournalPathForDataDir(crash_dir_));
  const size_t pages_before = database.size() / in_wal.page_size;
  size_t extended = 0;
  for (uint32_t page : in_wal.pages) {
    const size_t begin = static_cast<size_t>(page - 1) * in_wal.page_size;
    if (database.size() < begin + in_wal.page_size) {
      database.resize(begin + in_wal.page_size);
      ++extended;
    }
    // Page 1 starts with the 100-byte file header, which sits in the first sector and is
    // written atomically with it; SQLite relies on that (powersafe overwrite).
    for (size_t i = page == 1 ? 100 : 0; i < in_wal.page_size; ++i) {
      database[begin + i] = static_cast<char>(0x5a ^ (i * 31));
    }
  }
  ASSERT_GT(in_wal.pages.size(), 2u);
  ASSERT_GT(extended, 0u) << "no page beyond the old end of the file (" << pages_before
                          << " pages): the test would not cover a garbage tail";
  WriteFile(JournalPathForDataDir(crash_dir_), database);

  std::vector<OrderRequest> all = first_orders_;
  all.insert(all.end(), second_orders_.begin(), second_orders_.end());
  ExpectRecoveryKeepsAcknowledged(all, acknowledged, TestOrders(fixture_, 2 * kOrdersPerRun, 1));
}

// Where the flipped byte is and whether the engine walks the whole chain on open.
struct FlipCase {
  const char* name;
  bool last_entry;  // else an entry in the middle
  bool verify_on_open;
};

class FlippedByteTest : public ::testing::TestWithParam<FlipCase> {};

// The payload of entry `seq`, read from the database file.
std::string EntryPayload(const std::string& path, uint64_t seq, uint64_t* last_seq) {
  sqlite3* db = nullptr;
  std::string payload;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT max(seq) FROM entries", -1, &statement, nullptr);
    if (sqlite3_step(statement) == SQLITE_ROW) *last_seq = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    if (seq == 0) seq = *last_seq;
    sqlite3_prepare_v2(db, "SELECT payload FROM entries WHERE seq = ?1", -1, &statement, nullptr);
    sqlite3_bind_int64(statement, 1, static_cast<sqlite3_int64>(seq));
    if (sqlite3_step(statement) == SQLITE_ROW) {
      payload.assign(static_cast<const char*>(sqlite3_column_blob(statement, 0)),
                     static_cast<size_t>(sqlite3_column_bytes(statement, 0)));
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return payload;
}

TEST_P(FlippedByteTest, VerifyNamesTheEntryAndTheEngineRefusesToStart) {
  TempDir dir;
  testing::InstrumentFixture fixture = testing::GenerateInstruments(dir.path());
  const std::string data_dir = dir.File("data");
  std::filesystem::create_directories(data_dir);
  EngineProcess engine(data_dir, fixture, GetParam().verify_on_open);
  engine.Start();
  ASSERT_TRUE(engine.running()) << engine.log();
  const std::vector<OrderRequest> orders = TestOrders(fixture, 0, kOrdersPerRun);
  ASSERT_EQ(SendOnce(engine.endpoint(), orders).size(), orders.size());
  ASSERT_EQ(engine.Stop(), 0) << engine.log();
  const std::string path = JournalPathForDataDir(data_dir);
  ASSERT_FALSE(std::filesystem::exists(path + "-wal") &&
               std::filesystem::file_size(path + "-wal") > 0)
      << "a clean stop checkpoints the WAL into the database file";

  uint64_t last_seq = 0;
  const uint64_t seq_in_middle = 5;
  std::string payload = EntryPayload(path, GetParam().last_entry ? 0 : seq_in_middle, &last_seq);
  const uint64_t flipped_seq = GetParam().last_entry ? last_seq : seq_in_middle;
  ASSERT_GT(last_seq, seq_in_middle);
  ASSERT_GT(payload.size(), 16u);
  std::string database = ReadFile(path);
  // Flip the byte in every copy of the payload: a stale copy may linger on a free page.
  size_t copies = 0;
  for (size_t at = database.find(payload); at != std::string::npos;
       at = database.find(payload, at + 1)) {
    database[at + payload.size() / 2] ^= 0x04;
    ++copies;
  }
  ASSERT_GT(copies, 0u);
  WriteFile(path, database);

  std::string output;
  EXPECT_EQ(RunVerify(data_dir, &output), 1) << output;
  EXPECT_NE(output.find("CORRUPT at entry " + std::to_string(flipped_seq)), std::string::npos)
      << output;

  engine.Start();
  EXPECT_NE(engine.Wait(), 0) << "the engine started on a corrupt journal:\n" << engine.log();
  const std::string log = engine.log();
  EXPECT_EQ(log.find("engine_ready"), std::string::npos) << log;
  EXPECT_NE(log.find("entry seq " + std::to_string(flipped_seq)), std::string::npos) << log;
  // Nothing was appended to the corrupt journal.
  EXPECT_EQ(ReadFile(path), database);
}

INSTANTIATE_TEST_SUITE_P(Flips, FlippedByteTest,
                         ::testing::Values(FlipCase{"MiddleEntry", false, true},
                                           FlipCase{"MiddleEntryWithoutFullCheckOnOpen", false,
                                                    false},
                                           FlipCase{"LastEntry", true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

// Recent entries live in the WAL until a checkpoint. SQLite's own recovery would end the log at
// a damaged frame and drop every later commit without a word; the journal must refuse instead.
TEST(FlippedByteInWalTest, VerifyNamesTheFirstLostEntryAndTheEngineRefusesToStart) {
  TempDir dir;
  testing::InstrumentFixture fixture = testing::GenerateInstruments(dir.path());
  const std::string data_dir = dir.File("data");
  std::filesystem::create_directories(data_dir);
  EngineProcess engine(data_dir, fixture);
  engine.Start();
  ASSERT_TRUE(engine.running()) << engine.log();
  // One order at a time, so each is its own commit and later commits follow the damaged one.
  for (const OrderRequest& order : TestOrders(fixture, 0, kOrdersPerRun)) {
    ASSERT_EQ(SendOnce(engine.endpoint(), {order}).size(), 1u);
  }
  engine.Kill();
  const std::string path = JournalPathForDataDir(data_dir);
  uint64_t last_seq = 0;
  const uint64_t damaged_seq = 5;
  const std::string payload = EntryPayload(path, damaged_seq, &last_seq);
  ASSERT_GT(last_seq, damaged_seq + 2);
  ASSERT_GT(payload.size(), 16u);
  std::string wal = ReadFile(path + "-wal");
  size_t copies = 0;
  for (size_t at = wal.find(payload); at != std::string::npos; at = wal.find(payload, at + 1)) {
    wal[at + payload.size() / 2] ^= 0x04;
    ++copies;
  }
  ASSERT_GT(copies, 0u) << "entry " << damaged_seq << " is not in the WAL";
  WriteFile(path + "-wal", wal);

  std::string output;
  EXPECT_EQ(RunVerify(data_dir, &output), 1) << output;
  const std::string corrupt_at = "CORRUPT at entry ";
  const size_t named = output.find(corrupt_at);
  ASSERT_NE(named, std::string::npos) << output;
  const uint64_t first_lost = std::stoull(output.substr(named + corrupt_at.size()));
  EXPECT_GE(first_lost, 1u);
  EXPECT_LE(first_lost, damaged_seq) << output;
  EXPECT_NE(output.find("-wal"), std::string::npos) << output;

  engine.Start();
  EXPECT_NE(engine.Wait(), 0) << "the engine started on a damaged WAL:\n" << engine.log();
  const std::string log = engine.log();
  EXPECT_EQ(log.find("engine_ready"), std::string::npos) << log;
  EXPECT_NE(log.find("entry seq " + std::to_string(first_lost) + " and later are lost"),
            std::string::npos)
      << log;
  EXPECT_EQ(ReadFile(path + "-wal"), wal) << "the refused start changed the WAL";
}

}  // namespace
}  // namespace wojak::faults
