// The SQLite journal: entries and their projections in one WAL database, one fsync'd transaction
// per batch, SHA-256 hash chain checked on open, replay and verify.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "journal/hash_chain.h"
#include "journal/journal.h"
#include "journal/sqlite_util.h"

namespace wojak {

// The journal's file inside a data directory.
inline constexpr char kJournalFileName[] = "wojak.db";
std::string JournalPathForDataDir(const std::string& data_dir);

// Version of the tables below, stored in meta("schema_version"). A database with another
// version is refused rather than guessed at.
inline constexpr int kJournalSchemaVersion = 1;

struct JournalOptions {
  // The database file (usually JournalPathForDataDir(dir)). It and its directory are created if
  // missing. Required.
  std::string path;
  // Walk the whole hash chain on open (about a second per million entries) so a corrupt journal
  // is refused before anything is appended to it. With false, only the last entry is checked;
  // fine when the caller replays from seq 1 anyway, since Replay checks every link.
  bool verify_on_open = true;
  // SQLite VFS name; empty means SQLite's default ("unix"). Tests use kFaultVfsName.
  std::string vfs;
  SqliteTuning tuning;
  // WAL size, in pages, at which a background thread runs a PASSIVE checkpoint. PASSIVE never
  // blocks the writer, so commits do not stall on copying the WAL into the database. 0 disables
  // the thread: then the committing thread checkpoints at tuning.wal_autocheckpoint_pages.
  int background_checkpoint_pages = 4096;
};

// What Verify found. On failure, the fields describe the good prefix before the first problem.
struct VerifyReport {
  std::string integrity;  // "ok", or what PRAGMA quick_check reported
  uint64_t entries = 0;   // entries whose chain link checked out
  Seq first_seq = 0;
  Seq last_seq = 0;
  Hash last_hash{};
  Seq first_bad_seq = 0;  // 0 when no entry is bad
  std::string problem;    // empty when everything checked out
};

// What the WAL and its checkpoints are doing, for metrics and tests.
struct WalStats {
  uint64_t wal_pages = 0;     // frames in the WAL after the last commit
  uint64_t wal_restarts = 0;  // times the WAL started over from its beginning
  uint64_t background_checkpoints = 0;
  uint64_t writer_checkpoints = 0;  // checkpoints run by the committing thread
};

class SqliteJournal final : public Journal {
 public:
  // Opens (creating if needed) the journal and checks its hash chain (see verify_on_open).
  // DATA_LOSS names the first bad entry.
  static StatusOr<std::unique_ptr<SqliteJournal>> Open(const JournalOptions& options);
  ~SqliteJournal() override;
  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  // One BEGIN IMMEDIATE ... COMMIT (synchronous=FULL: the WAL is fsync'd before COMMIT returns)
  // holding the entries and their projections. Every entry's seq must continue the previous one.
  // The first error is returned as is; the journal then fails every later append with
  // FAILED_PRECONDITION ("journal failed at seq N: <cause>; restart to recover"), because after
  // a failed fsync nobody can say which data reached the disk: only reopening (which replays what
  // SQLite recovers from the WAL) establishes the truth. Thread-safe.
  Status AppendBatch(std::span<Entry> entries, const ProjectionBatch& projections) override;

  // Streams entries with seq >= from in order, checking each one's chain link and hash before
  // calling apply; DATA_LOSS names the first bad entry. Stops at the first error from apply.
  // Reads a consistent snapshot on its own connection, so appends may continue meanwhile; apply
  // must not call back into this journal's read methods.
  Status Replay(Seq from, const std::function<Status(const Entry&)>& apply) override;

  JournalStats stats() const override;

  // OK while appends are accepted; otherwise the error that stopped them.
  Status health() const;
  WalStats wal_stats() const;

  // Durable key/value metadata (for example the outbox relay's cursor). A failed write fails the
  // journal like a failed AppendBatch.
  Status SetMeta(std::string_view key, std::string_view value);
  // NOT_FOUND when the key was never set.
  StatusOr<std::string> GetMeta(std::string_view key);

  // Outbox rows with outbox_seq > after_outbox_seq, oldest first, at most `limit`.
  StatusOr<std::vector<OutboxRow>> ReadOutbox(Seq after_outbox_seq, size_t limit);

  // Read-only check of the database at `path` for `wojak verify`: SQLite integrity (quick_check),
  // schema version, seq continuity from 1 and every hash chain link. OK when all hold; otherwise
  // DATA_LOSS naming the first bad entry's seq (or the integrity problem). `report` may be null.
  static Status Verify(const std::string& path, VerifyReport* report);

 private:
  class Checkpointer;
  struct WriteStatements;

  explicit SqliteJournal(JournalOptions options);
  Status Initialize();
  Status LoadChainTail();
  Status WriteBatch(std::span<const Entry> entries, const ProjectionBatch& projections);
  // Records the first failure and returns it; later appends get FAILED_PRECONDITION.
  Status Fail(Seq at_seq, const Status& cause);
  // Called by SQLite after every commit on the writer connection.
  static int OnWalCommit(void* journal, sqlite3* db, const char* database, int wal_pages);

  JournalOptions options_;

  // The writer connection and everything only appends touch.
  std::mutex write_mu_;
  SqliteDb writer_;
  std::unique_ptr<WriteStatements> statements_;
  EntryHasher hasher_;

  // Replay, GetMeta and ReadOutbox read on their own connection so they never hold the writer.
  std::mutex read_mu_;
  SqliteDb reader_;

  // Read by stats()/health() from any thread.
  mutable std::mutex state_mu_;
  JournalStats stats_;
  Status failure_;

  // Updated by the commit hook, read by wal_stats() from any thread.
  std::atomic<uint64_t> wal_pages_{0};
  std::atomic<uint64_t> wal_restarts_{0};
  std::atomic<uint64_t> writer_checkpoints_{0};

  std::unique_ptr<Checkpointer> checkpointer_;
};

}  // namespace wojak
