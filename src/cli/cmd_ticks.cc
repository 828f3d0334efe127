// `wojak ticks`: the last traded prices the engine persisted in its data directory, and
// `wojak ticks publish`: replay a tick file into an engine's tick socket.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/json_views.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "engine/tick_publisher.h"
#include "engine/tick_store.h"

namespace wojak::cli {
namespace {

int PublishTickFile(const Args& raw_args) {
  const std::vector<FlagSpec> specs = {
      {"file", true,
       "tick file (also -f): CSV, format in src/engine/tick_publisher.h, sample "
       "tests/testdata/ticks_sample.csv"},
      {"rate", true, "ticks per second; 0 = as fast as the engine takes them (default 0)"},
      {"batch", true, "ticks per frame (default 100)"},
      {"repeat", true, "send the file this many times (default 1)"},
      {"now", false, "stamp every tick with the send time instead of the file's time"},
      {"endpoint", true, "the engine's tick endpoint (default ipc://<data>/ticks.sock)"},
      {"data", true, "the engine's data directory (default var)"},
      {"help", false, "show this help"}};
  Args args;
  for (const std::string& a : raw_args) args.push_back(a == "-f" ? "--file" : a);
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("ticks publish", flags.status().message());
  if (!flags->positional().empty()) {
    return UsageError("ticks publish", "unexpected argument '" + flags->positional()[0] + "'");
  }
  if (flags->Has("help")) {
    std::cout << "usage: wojak ticks publish -f FILE.csv [--rate R] [--endpoint URL]\n"
              << FlagsUsage(specs);
    return 0;
  }
  std::optional<std::string> path = flags->Get("file");
  if (!path) return UsageError("ticks publish", "give the tick file with -f FILE.csv");
  auto rate = flags->GetInt("rate", 0);
  auto batch = flags->GetInt("batch", 100);
  auto repeat = flags->GetInt("repeat", 1);
  for (auto* value : {&rate, &batch, &repeat}) {
    if (!value->ok()) return UsageError("ticks publish", value->status().message());
  }
  if (*rate < 0 || *batch < 1 || *repeat < 1) {
    return UsageError("ticks publish", "--rate must be >= 0, --batch and --repeat >= 1");
  }
  std::ifstream file(*path);
  if (!file) return Fail("ticks publish", "cannot read " + *path);
  std::stringstream text;
  text << file.rdbuf();
  auto ticks = ParseTickCsv(text.str());
  if (!ticks.ok()) return Fail("ticks publish", *path + ": " + ticks.status().ToString());
  const std::string endpoint =
      flags->GetOr("endpoint", "ipc://" + flags->GetOr("data", "var") + "/ticks.sock");
  auto publisher = TickPublisher::Connect(endpoint);
  if (!publisher.ok()) return Fail("ticks publish", publisher.status().ToString());
  PublishOptions options;
  options.rate = static_cast<double>(*rate);
  options.batch = static_cast<size_t>(*batch);
  options.repeat = static_cast<int>(*repeat);
  options.restamp = flags->Has("now");
  auto report = PublishTicks(**publisher, *ticks, options);
  if (!report.ok()) return Fail("ticks publish", report.status().ToString());
  publisher->reset();  // waits (bounded) until the queued frames have left
  nlohmann::json out = {{"ticks", report->ticks},
                        {"frames", report->frames},
                        {"seconds", report->seconds},
                        {"endpoint", endpoint}};
  std::cout << out.dump() << "\n";
  return 0;
}

int ListTicks(const Args& args) {
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
  // The tick thread persists LTPs to ticks.db, next to (not inside) the journal. No file yet
  // means no price was persisted so far (or the feed is off): an empty list, not an error.
  std::vector<TickRow> ticks;
  auto store = TickStore::OpenForReading(TickStorePathForDataDir(flags->GetOr("data", "var")));
  if (store.ok()) {
    auto read = (*store)->Read(symbols);
    if (!read.ok()) return Fail("ticks", read.status().ToString());
    ticks = std::move(read).value();
  } else if (store.status().code() != StatusCode::kNotFound) {
    return Fail("ticks", store.status().ToString());
  }
  if (flags->Has("json")) {
    nlohmann::json rows = nlohmann::json::array();
    for (const TickRow& tick : ticks) rows.push_back(api::TickJson(tick));
    std::cout << rows.dump() << "\n";
    return 0;
  }
  if (ticks.empty()) {
    std::cout << "no ticks\n";
    return 0;
  }
  std::cout << "symbol\tinstrument_token\tltp\ttimestamp_ns\treceived_ns\n";
  for (const TickRow& tick : ticks) {
    nlohmann::json row = api::TickJson(tick);
    std::cout << tick.symbol << "\t" << tick.instrument_token << "\t"
              << row["ltp"].get<std::string>() << "\t" << tick.timestamp_ns << "\t"
              << tick.received_ns << "\n";
  }
  return 0;
}

}  // namespace

// `ticks publish ...` replays a tick file; plain `ticks` lists the persisted LTPs.
int RunTicks(const Args& args) {
  if (!args.empty() && args[0] == "publish")
    return PublishTickFile(Args(args.begin() + 1, args.end()));
  return ListTicks(args);
}

}  // namespace wojak::cli
