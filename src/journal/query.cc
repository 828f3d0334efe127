// JournalQuery: SQL for the read models, built per filter shape so SQLite can use the indexes.
#include "journal/query.h"

#include <algorithm>

#include "common/env.h"

namespace wojak {
namespace {

constexpr char kOrderColumns[] =
    "order_id, seq, last_seq, account, strategy, client_order_id, symbol, side, order_type, "
    "product, validity, quantity, filled_quantity, price_paise, trigger_price_paise, "
    "average_price_paise, status, decision_json, created_ns, updated_ns";
constexpr char kTradeColumns[] =
    "trade_id, seq, order_id, account, strategy, symbol, side, quantity, price_paise, time_ns";
constexpr char kPositionColumns[] =
    "account, symbol, net_quantity, buy_quantity, sell_quantity, buy_value_paise, "
    "sell_value_paise, realised_pnl_paise, last_seq";

OrderRow ReadOrder(const Statement& row) {
  OrderRow order;
  order.order_id = row.ColumnText(0);
  order.seq = static_cast<Seq>(row.ColumnInt64(1));
  order.last_seq = static_cast<Seq>(row.ColumnInt64(2));
  order.account = row.ColumnText(3);
  order.strategy = row.ColumnText(4);
  order.client_order_id = row.ColumnText(5);
  order.symbol = row.ColumnText(6);
  order.side = row.ColumnText(7);
  order.order_type = row.ColumnText(8);
  order.product = row.ColumnText(9);
  order.validity = row.ColumnText(10);
  order.quantity = row.ColumnInt64(11);
  order.filled_quantity = row.ColumnInt64(12);
  if (!row.ColumnIsNull(13)) order.price_paise = row.ColumnInt64(13);
  if (!row.ColumnIsNull(14)) order.trigger_price_paise = row.ColumnInt64(14);
  order.average_price_paise = row.ColumnInt64(15);
  order.status = row.ColumnText(16);
  order.decision_json = row.ColumnText(17);
  order.created_ns = row.ColumnInt64(18);
  order.updated_ns = row.ColumnInt64(19);
  return order;
}

TradeRow ReadTrade(const Statement& row) {
  TradeRow trade;
  trade.trade_id = row.ColumnText(0);
  trade.seq = static_cast<Seq>(row.ColumnInt64(1));
  trade.order_id = row.ColumnText(2);
  trade.account = row.ColumnText(3);
  trade.strategy = row.ColumnText(4);
  trade.symbol = row.ColumnText(5);
  trade.side = row.ColumnText(6);
  trade.quantity = row.ColumnInt64(7);
  trade.price_paise = row.ColumnInt64(8);
  trade.time_ns = row.ColumnInt64(9);
  return trade;
}

PositionRow ReadPosition(const Statement& row) {
  PositionRow position;
  position.account = row.ColumnText(0);
  position.symbol = row.ColumnText(1);
  position.net_quantity = row.ColumnInt64(2);
  position.buy_quantity = row.ColumnInt64(3);
  position.sell_quantity = row.ColumnInt64(4);
  position.buy_value_paise = row.ColumnInt64(5);
  position.sell_value_paise = row.ColumnInt64(6);
  position.realised_pnl_paise = row.ColumnInt64(7);
  position.last_seq = static_cast<Seq>(row.ColumnInt64(8));
  return position;
}

// Steps `statement` to the end, converting each row; resets it afterwards.
template <typename Row, typename ReadRow>
StatusOr<std::vector<Row>> Collect(sqlite3* db, Statement& statement, ReadRow read_row,
                                   std::string_view what) {
  std::vector<Row> rows;
  while (true) {
    int rc = sqlite3_step(statement.get());
    if (rc == SQLITE_ROW) {
      rows.push_back(read_row(statement));
      continue;
    }
    statement.Reset();
    if (rc == SQLITE_DONE) return rows;
    return SqliteStatus(db, rc, what);
  }
}

int64_t ClampLimit(size_t limit) { return static_cast<int64_t>(std::min(limit, kMaxQueryRows)); }

}  // namespace

StatusOr<std::unique_ptr<JournalQuery>> JournalQuery::Open(const std::string& path,
                                                           const std::string& vfs) {
  if (!Env::Default()->FileExists(path)) return NotFound("no journal at " + path);
  WOJAK_ASSIGN_OR_RETURN(SqliteDb db, OpenSqlite(path, OpenMode::kReadOnly, vfs));
  WOJAK_RETURN_IF_ERROR(ExecSql(db.get(), "PRAGMA busy_timeout=5000"));
  return std::unique_ptr<JournalQuery>(new JournalQuery(std::move(db)));
}

StatusOr<Statement*> JournalQuery::Cached(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    WOJAK_ASSIGN_OR_RETURN(Statement statement, Statement::Prepare(db_.get(), sql));
    it = statements_.emplace(sql, std::move(statement)).first;
  }
  return &it->second;
}

StatusOr<std::vector<OrderRow>> JournalQuery::ListOrders(const OrderFilter& filter) {
  // Parameters are numbered so each filter shape binds the same way.
  std::string sql = std::string("SELECT ") + kOrderColumns + " FROM orders WHERE seq > ?1";
  if (!filter.account.empty()) sql += " AND account = ?2";
  if (!filter.status.empty()) sql += " AND status = ?3";
  sql += filter.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  sql += " LIMIT ?4";

  std::lock_guard lock(mu_);
  WOJAK_ASSIGN_OR_RETURN(Statement * statement, Cached(sql));
  statement->BindInt64(1, static_cast<int64_t>(filter.since_seq));
  if (!filter.account.empty()) statement->BindText(2, filter.account);
  if (!filter.status.empty()) statement->BindText(3, filter.status);
  statement->BindInt64(4, ClampLimit(filter.limit));
  return Collect<OrderRow>(db_.get(), *statement, ReadOrder, "listing orders");
}

StatusOr<OrderRow> JournalQuery::GetOrder(const std::string& order_id) {
  std::lock_guard lock(mu_);
  WOJAK_ASSIGN_OR_RETURN(Statement * statement, Cached(std::string("SELECT ") + kOrderColumns +
                                                       " FROM orders WHERE order_id = ?1"));
  statement->BindText(1, order_id);
  WOJAK_ASSIGN_OR_RETURN(std::vector<OrderRow> rows,
                         Collect<OrderRow>(db_.get(), *statement, ReadOrder, "reading order"));
  if (rows.empty()) return NotFound("no order " + order_id);
  return std::move(rows.front());
}

StatusOr<std::vector<TradeRow>> JournalQuery::ListTrades(const TradeFilter& filter) {
  std::string sql = std::string("SELECT ") + kTradeColumns + " FROM trades WHERE seq > ?1";
  if (!filter.account.empty()) sql += " AND account = ?2";
  if (!filter.order_id.empty()) sql += " AND order_id = ?3";
  sql += filter.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  sql += " LIMIT ?4";

  std::lock_guard lock(mu_);
  WOJAK_ASSIGN_OR_RETURN(Statement * statement, Cached(sql));
  statement->BindInt64(1, static_cast<int64_t>(filter.since_seq));
  if (!filter.account.empty()) statement->BindText(2, filter.account);
  if (!filter.order_id.empty()) statement->BindText(3, filter.order_id);
  statement->BindInt64(4, ClampLimit(filter.limit));
  return Collect<TradeRow>(db_.get(), *statement, ReadTrade, "listing trades");
}

StatusOr<std::vector<PositionRow>> JournalQuery::ListPositions(const std::string& account) {
  std::string sql = std::string("SELECT ") + kPositionColumns + " FROM positions";
  if (!account.empty()) sql += " WHERE account = ?1";
  sql += " ORDER BY account, symbol";

  std::lock_guard lock(mu_);
  WOJAK_ASSIGN_OR_RETURN(Statement * statement, Cached(sql));
  if (!account.empty()) statement->BindText(1, account);
  return Collect<PositionRow>(db_.get(), *statement, ReadPosition, "listing positions");
}

}  // namespace wojak
