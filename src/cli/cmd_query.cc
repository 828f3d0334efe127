// `wojak orders | trades | positions`: read the projections from the data directory.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/json_views.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "journal/query.h"
#include "journal/sqlite_journal.h"

namespace wojak::cli {

using api::OrderJson;
using api::PositionJson;
using api::TradeJson;
using nlohmann::json;

int RunQuery(const std::string& what, const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"data", true, "data directory (default var)"},
      {"account", true, "only this account"},
      {"status", true, "orders only: only this status (e.g. FILLED)"},
      {"since-seq", true, "only rows recorded after this journal seq (paging)"},
      {"limit", true, "at most this many rows (default 100)"},
      {"json", false, "one JSON array instead of a table"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError(what, flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak " << what << " [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  auto limit = flags->GetInt("limit", 100);
  auto since = flags->GetInt("since-seq", 0);
  if (!limit.ok()) return UsageError(what, limit.status().message());
  if (!since.ok()) return UsageError(what, since.status().message());
  auto query = JournalQuery::Open(JournalPathForDataDir(flags->GetOr("data", "var")));
  if (!query.ok()) return Fail(what, query.status().ToString());
  const std::string account = flags->GetOr("account", "");
  json rows = json::array();
  if (what == "orders") {
    OrderFilter filter{account, flags->GetOr("status", ""), static_cast<Seq>(*since),
                       static_cast<size_t>(*limit), false};
    auto orders = (*query)->ListOrders(filter);
    if (!orders.ok()) return Fail(what, orders.status().ToString());
    for (const OrderRow& o : *orders) rows.push_back(OrderJson(o));
  } else if (what == "trades") {
    TradeFilter filter{account, "", static_cast<Seq>(*since), static_cast<size_t>(*limit), false};
    auto trades = (*query)->ListTrades(filter);
    if (!trades.ok()) return Fail(what, trades.status().ToString());
    for (const TradeRow& t : *trades) rows.push_back(TradeJson(t));
  } else {
    auto positions = (*query)->ListPositions(account);
    if (!positions.ok()) return Fail(what, positions.status().ToString());
    for (const PositionRow& p : *positions) rows.push_back(PositionJson(p));
  }
  if (flags->Has("json")) {
    std::cout << rows.dump() << "\n";
    return 0;
  }
  if (rows.empty()) {
    std::cout << "no " << what << "\n";
    return 0;
  }
  // A plain table: the columns of the first row, one row per line.
  std::vector<std::string> columns;
  for (auto& [key, value] : rows[0].items()) {
    if (key != "decision" && key != "created_ns" && key != "updated_ns" && key != "time_ns" &&
        key != "last_seq") {
      columns.push_back(key);
    }
  }
  for (const std::string& c : columns) std::cout << c << "\t";
  std::cout << "\n";
  for (const json& row : rows) {
    for (const std::string& c : columns) {
      const json& v = row[c];
      std::cout << (v.is_string() ? v.get<std::string>() : v.dump()) << "\t";
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace wojak::cli
