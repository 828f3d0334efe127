// Persisted last prices for `/v1/ticks` and `wojak ticks`: the tick thread writes changed LTPs
// about once a second into <data_dir>/ticks.db, a SQLite file of its own. A separate file (not a
// table in the journal's wojak.db) means the tick writer never takes the journal's write lock,
// so it can never delay an order's durable commit. Losing the last second of ticks in a crash is
// harmless (the feed sends fresh ones), so commits here are not fsync'd.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "journal/sqlite_util.h"

namespace wojak {

inline constexpr char kTicksFileName[] = "ticks.db";
std::string TickStorePathForDataDir(const std::string& data_dir);

// One row of table ticks(instrument_token INTEGER PRIMARY KEY, symbol TEXT, ltp_paise INTEGER,
// timestamp_ns INTEGER, received_ns INTEGER).
struct TickRow {
  int64_t instrument_token = 0;
  std::string symbol;  // empty when the master does not know the token
  int64_t ltp_paise = 0;
  Nanos timestamp_ns = 0;  // exchange time of the tick
  Nanos received_ns = 0;   // when the engine stored it
  bool operator==(const TickRow&) const = default;
};

class TickStore {
 public:
  // The writer: creates the file and table if needed (WAL, synchronous=NORMAL).
  static StatusOr<std::unique_ptr<TickStore>> OpenForWriting(const std::string& path);
  // A reader (REST API, CLI): read-only; NOT_FOUND when no engine has written ticks there yet.
  static StatusOr<std::unique_ptr<TickStore>> OpenForReading(const std::string& path);

  // Inserts or replaces `rows` in one short transaction.
  Status Upsert(std::span<const TickRow> rows);
  // Rows for these symbols (all rows when empty), ordered by symbol then token. Unknown symbols
  // are simply absent.
  StatusOr<std::vector<TickRow>> Read(const std::vector<std::string>& symbols);

 private:
  explicit TickStore(SqliteDb db) : db_(std::move(db)) {}
  SqliteDb db_;
  Statement upsert_;
};

}  // namespace wojak
