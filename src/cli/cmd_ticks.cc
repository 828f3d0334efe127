// `wojak ticks`: the last traded prices the engine persisted in its data directory.
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/json_views.h"
#include "api/tick_query.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "journal/sqlite_journal.h"

namespace wojak::cli {

int RunTicks(const Args& args) {
  const std::vector<FlagSpec> specs = {{"data", true, "data directory (default var)"},
                                       {"symbols", true, "only these symbols, comma-separated"},
                                       {"json", false, "one JSON array instead of a table"},
                                       {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("ticks", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak ticks [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  std::vector<std::string> symbols;
  if (auto list = flags->Get("symbols")) {
    std::string_view rest = *list;
    while (true) {
      const size_t comma = rest.find(',');
      std::string_view symbol = rest.substr(0, comma);
      if (symbol.empty()) return UsageError("ticks", "--symbols has an empty name");
      symbols.emplace_back(symbol);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  auto query = api::TickQuery::Open(JournalPathForDataDir(flags->GetOr("data", "var")));
  if (!query.ok()) return Fail("ticks", query.status().ToString());
  auto ticks = (*query)->List(symbols);
  if (!ticks.ok()) return Fail("ticks", ticks.status().ToString());
  if (flags->Has("json")) {
    nlohmann::json rows = nlohmann::json::array();
    for (const api::TickRow& tick : *ticks) rows.push_back(api::TickJson(tick));
    std::cout << rows.dump() << "\n";
    return 0;
  }
  if (ticks->empty()) {
    std::cout << "no ticks\n";
    return 0;
  }
  std::cout << "symbol\tinstrument_token\tltp\ttimestamp_ns\treceived_ns\n";
  for (const api::TickRow& tick : *ticks) {
    nlohmann::json row = api::TickJson(tick);
    std::cout << tick.symbol << "\t" << tick.instrument_token << "\t"
              << row["ltp"].get<std::string>() << "\t" << tick.timestamp_ns << "\t"
              << tick.received_ns << "\n";
  }
  return 0;
}

}  // namespace wojak::cli
