// Read-side queries over the journal's projections (orders, trades, positions) for the CLI and
// the REST API. Runs on its own read-only connection: WAL readers never block the writer.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "journal/sqlite_util.h"

namespace wojak {

struct OrderFilter {
  std::string account;  // empty: every account
  std::string status;   // an OrderStateName; empty: every status
  // Only orders created by an entry after this seq. Paging: pass the last row's seq.
  Seq since_seq = 0;
  // At most this many rows (capped at kMaxQueryRows).
  size_t limit = 100;
  // Newest first (for "show the latest orders"); oldest first otherwise (for paging).
  bool newest_first = false;
};

struct TradeFilter {
  std::string account;   // empty: every account
  std::string order_id;  // empty: every order
  Seq since_seq = 0;     // only trades recorded by an entry after this seq
  size_t limit = 100;    // capped at kMaxQueryRows
  bool newest_first = false;
};

inline constexpr size_t kMaxQueryRows = 10'000;

class JournalQuery {
 public:
  // Opens the journal database at `path` read-only. NOT_FOUND if it does not exist.
  // `vfs` empty means SQLite's default.
  static StatusOr<std::unique_ptr<JournalQuery>> Open(const std::string& path,
                                                      const std::string& vfs = "");

  // Each call reads one consistent snapshot. Thread-safe (calls are serialized).
  StatusOr<std::vector<OrderRow>> ListOrders(const OrderFilter& filter);
  // NOT_FOUND when no such order.
  StatusOr<OrderRow> GetOrder(const std::string& order_id);
  StatusOr<std::vector<TradeRow>> ListTrades(const TradeFilter& filter);
  // Positions of one account (empty: every account), ordered by account then symbol.
  StatusOr<std::vector<PositionRow>> ListPositions(const std::string& account);

 private:
  explicit JournalQuery(SqliteDb db) : db_(std::move(db)) {}
  // Returns the cached statement for `sql`, preparing it on first use.
  StatusOr<Statement*> Cached(const std::string& sql);

  std::mutex mu_;
  SqliteDb db_;
  std::map<std::string, Statement> statements_;
};

}  // namespace wojak
