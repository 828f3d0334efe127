// Small RAII layer over the SQLite C API shared by the journal, its queries and the store probe.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace wojak {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;

// Maps a SQLite result code to a Status: SQLITE_FULL -> RESOURCE_EXHAUSTED, SQLITE_IOERR_* ->
// IO_ERROR, SQLITE_CORRUPT/NOTADB -> DATA_LOSS, SQLITE_BUSY/LOCKED -> UNAVAILABLE,
// SQLITE_CANTOPEN -> NOT_FOUND, SQLITE_READONLY -> PERMISSION_DENIED, constraints ->
// INVALID_ARGUMENT. The message names `what`, SQLite's message and the extended code.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// How the database is opened.
enum class OpenMode : uint8_t { kReadWriteCreate, kReadWrite, kReadOnly };

// Opens a connection with extended result codes on. `vfs` empty means SQLite's default VFS.
// Registers the fault VFS first when `vfs` names it.
StatusOr<SqliteDb> OpenSqlite(const std::string& path, OpenMode mode, const std::string& vfs);

// Runs SQL that returns no rows (several statements allowed).
Status ExecSql(sqlite3* db, const char* sql);

// Storage settings of a durable writer. Defaults are chosen for the journal: many small
// transactions, each one fsync'd.
struct SqliteTuning {
  // Bytes per page. Only takes effect when the database is created.
  int page_size = 4096;
  // Page cache per connection, in KiB (64 MiB).
  int cache_size_kib = 64 * 1024;
  // WAL size, in pages, at which the committing connection checkpoints itself. The journal runs
  // checkpoints on a background thread well before this; this is the backstop that bounds the
  // WAL if the background thread cannot keep up (64 MiB with 4 KiB pages). 0 disables it.
  int wal_autocheckpoint_pages = 16384;
  // After a checkpoint resets the WAL, truncate its file to at most this size.
  int64_t journal_size_limit_bytes = 64 * 1024 * 1024;
  // How long a connection waits for a lock held by another process before failing.
  int busy_timeout_ms = 5000;
};

// Sets journal_mode=WAL and synchronous=FULL (each commit fsyncs the WAL, so a commit that
// returned OK survives power loss) plus the tuning above. Fails if WAL mode cannot be enabled.
Status ApplyDurableSettings(sqlite3* db, const SqliteTuning& tuning);

// A prepared statement, reset and cleared on every Reset so it can be reused.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(Statement&& other) noexcept : statement_(other.statement_) {
    other.statement_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept {
    std::swap(statement_, other.statement_);
    return *this;
  }

  static StatusOr<Statement> Prepare(sqlite3* db, std::string_view sql);

  sqlite3_stmt* get() const { return statement_; }
  void Reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  // Bind indexes start at 1, as in SQLite. Text and blobs are copied only when SQLite needs to
  // (SQLITE_STATIC): the caller keeps them alive until Step/Reset.
  void BindInt64(int index, int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  void BindText(int index, std::string_view value) {
    sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()),
                      SQLITE_STATIC);
  }
  void BindBlob(int index, const void* data, size_t size) {
    sqlite3_bind_blob(statement_, index, data, static_cast<int>(size), SQLITE_STATIC);
  }
  void BindNull(int index) { sqlite3_bind_null(statement_, index); }

  // Column readers (index from 0). Text and blobs are copied.
  int64_t ColumnInt64(int index) const { return sqlite3_column_int64(statement_, index); }
  bool ColumnIsNull(int index) const {
    return sqlite3_column_type(statement_, index) == SQLITE_NULL;
  }
  std::string_view ColumnText(int index) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, index));
    return text == nullptr ? std::string_view()
                           : std::string_view(text, sqlite3_column_bytes(statement_, index));
  }
  std::string_view ColumnBlob(int index) const {
    const auto* blob = static_cast<const char*>(sqlite3_column_blob(statement_, index));
    return blob == nullptr ? std::string_view()
                           : std::string_view(blob, sqlite3_column_bytes(statement_, index));
  }

 private:
  explicit Statement(sqlite3_stmt* statement) : statement_(statement) {}
  sqlite3_stmt* statement_ = nullptr;
};

// Runs a statement that returns no rows to completion, then resets it.
Status StepDone(sqlite3* db, Statement& statement, std::string_view what);

}  // namespace wojak
