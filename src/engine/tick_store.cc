// ticks.db: schema, upserts and reads.
#include "engine/tick_store.h"

#include <filesystem>
#include <set>
#include <string_view>

namespace wojak {
namespace {

constexpr char kSchemaSql[] = R"sql(
CREATE TABLE IF NOT EXISTS ticks(
  instrument_token INTEGER PRIMARY KEY, symbol TEXT NOT NULL, ltp_paise INTEGER NOT NULL,
  timestamp_ns INTEGER NOT NULL, received_ns INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ticks_by_symbol ON ticks(symbol);
)sql";

// Readers poll while the tick thread writes; a short wait beats failing a query.
constexpr int kBusyTimeoutMs = 1000;

constexpr size_t kMaxBoundSymbols = 500;

}  // namespace

std::string TickStorePathForDataDir(const std::string& data_dir) {
  return data_dir + "/" + kTicksFileName;
}

StatusOr<std::unique_ptr<TickStore>> TickStore::OpenForWriting(const std::string& path) {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  WOJAK_ASSIGN_OR_RETURN(SqliteDb db, OpenSqlite(path, OpenMode::kReadWriteCreate, ""));
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  WOJAK_RETURN_IF_ERROR(ExecSql(db.get(), "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  WOJAK_RETURN_IF_ERROR(ExecSql(db.get(), kSchemaSql));
  std::unique_ptr<TickStore> store(new TickStore(std::move(db)));
  WOJAK_ASSIGN_OR_RETURN(
      store->upsert_,
      Statement::Prepare(store->db_.get(),
                         "INSERT OR REPLACE INTO ticks(instrument_token, symbol, ltp_paise, "
                         "timestamp_ns, received_ns) VALUES(?1, ?2, ?3, ?4, ?5)"));
  return store;
}

StatusOr<std::unique_ptr<TickStore>> TickStore::OpenForReading(const std::string& path) {
  if (!std::filesystem::exists(path)) return NotFound("no ticks stored yet at " + path);
  WOJAK_ASSIGN_OR_RETURN(SqliteDb db, OpenSqlite(path, OpenMode::kReadOnly, ""));
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return std::unique_ptr<TickStore>(new TickStore(std::move(db)));
}

Status TickStore::Upsert(std::span<const TickRow> rows) {
  if (rows.empty()) return OkStatus();
  if (upsert_.get() == nullptr) return FailedPrecondition("tick store opened for reading");
  sqlite3* db = db_.get();
  WOJAK_RETURN_IF_ERROR(ExecSql(db, "BEGIN IMMEDIATE"));
  for (const TickRow& row : rows) {
    upsert_.BindInt64(1, row.instrument_token);
    upsert_.BindText(2, row.symbol);
    upsert_.BindInt64(3, row.ltp_paise);
    upsert_.BindInt64(4, row.timestamp_ns);
    upsert_.BindInt64(5, row.received_ns);
    Status status = StepDone(db, upsert_, "storing a tick");
    if (!status.ok()) {
      ExecSql(db, "ROLLBACK").IgnoreError();
      return status;
    }
  }
  return ExecSql(db, "COMMIT");
}

StatusOr<std::vector<TickRow>> TickStore::Read(const std::vector<std::string>& symbols) {
  if (symbols.size() > kMaxBoundSymbols) {
    // More than SQLite binds comfortably in one statement: filter the (small) table here.
    WOJAK_ASSIGN_OR_RETURN(std::vector<TickRow> all, Read({}));
    std::set<std::string_view> wanted(symbols.begin(), symbols.end());
    std::erase_if(all, [&](const TickRow& row) { return !wanted.contains(row.symbol); });
    return all;
  }
  sqlite3* db = db_.get();
  std::string sql =
      "SELECT instrument_token, symbol, ltp_paise, timestamp_ns, received_ns FROM ticks";
  if (!symbols.empty()) {
    sql += " WHERE symbol IN (";
    for (size_t i = 0; i < symbols.size(); ++i) sql += i == 0 ? "?" : ",?";
    sql += ")";
  }
  sql += " ORDER BY symbol, instrument_token";
  WOJAK_ASSIGN_OR_RETURN(Statement select, Statement::Prepare(db, sql));
  for (size_t i = 0; i < symbols.size(); ++i) {
    select.BindText(static_cast<int>(i + 1), symbols[i]);
  }
  std::vector<TickRow> rows;
  while (true) {
    int rc = sqlite3_step(select.get());
    if (rc == SQLITE_DONE) return rows;
    if (rc != SQLITE_ROW) return SqliteStatus(db, rc, "reading ticks");
    TickRow& row = rows.emplace_back();
    row.instrument_token = select.ColumnInt64(0);
    row.symbol = select.ColumnText(1);
    row.ltp_paise = select.ColumnInt64(2);
    row.timestamp_ns = select.ColumnInt64(3);
    row.received_ns = select.ColumnInt64(4);
  }
}

}  // namespace wojak
