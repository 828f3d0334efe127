// SQLite error mapping, connection setup and prepared statements.
#include "journal/sqlite_util.h"

#include "journal/fault_vfs.h"

namespace wojak {

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (";
  message += sqlite3_errstr(rc);
  message += ", code ";
  message += std::to_string(rc);
  message += ")";
  switch (rc & 0xff) {
    case SQLITE_OK:
      return OkStatus();
    case SQLITE_FULL:
      return ResourceExhausted(std::move(message));
    case SQLITE_IOERR:
      return IoError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(std::move(message));
    case SQLITE_CANTOPEN:
      return NotFound(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return PermissionDenied(std::move(message));
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return InvalidArgument(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

StatusOr<SqliteDb> OpenSqlite(const std::string& path, OpenMode mode, const std::string& vfs) {
  if (vfs == kFaultVfsName) WOJAK_RETURN_IF_ERROR(RegisterFaultVfs());
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case OpenMode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case OpenMode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case OpenMode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs.empty() ? nullptr : vfs.c_str());
  SqliteDb db(raw);
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "opening " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

Status ExecSql(sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, std::string("executing ") + sql);
  return OkStatus();
}

Status ApplyDurableSettings(sqlite3* db, const SqliteTuning& tuning) {
  WOJAK_RETURN_IF_ERROR(
      ExecSql(db, ("PRAGMA busy_timeout=" + std::to_string(tuning.busy_timeout_ms)).c_str()));
  WOJAK_RETURN_IF_ERROR(
      ExecSql(db, ("PRAGMA page_size=" + std::to_string(tuning.page_size)).c_str()));
  WOJAK_ASSIGN_OR_RETURN(Statement journal_mode, Statement::Prepare(db, "PRAGMA journal_mode=WAL"));
  int rc = sqlite3_step(journal_mode.get());
  if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "PRAGMA journal_mode=WAL");
  if (journal_mode.ColumnText(0) != "wal") {
    return FailedPrecondition("SQLite refused WAL mode (journal_mode is " +
                              std::string(journal_mode.ColumnText(0)) + ")");
  }
  std::string pragmas =
      "PRAGMA synchronous=FULL; PRAGMA cache_size=-" + std::to_string(tuning.cache_size_kib) +
      "; PRAGMA wal_autocheckpoint=" + std::to_string(tuning.wal_autocheckpoint_pages) +
      "; PRAGMA journal_size_limit=" + std::to_string(tuning.journal_size_limit_bytes) +
      "; PRAGMA temp_store=MEMORY;";
  return ExecSql(db, pragmas.c_str());
}

StatusOr<Statement> Statement::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqliteStatus(db, rc, "preparing " + std::string(sql));
  }
  return Statement(raw);
}

Status StepDone(sqlite3* db, Statement& statement, std::string_view what) {
  int rc = sqlite3_step(statement.get());
  Status status = rc == SQLITE_DONE ? OkStatus() : SqliteStatus(db, rc, what);
  statement.Reset();
  return status;
}

}  // namespace wojak
