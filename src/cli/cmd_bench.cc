// `wojak bench ...`: benchmarks that print one JSON object (with --json) of measured figures and
// the baselines they are compared with.
#include <iostream>

#include "bench/e2e_bench.h"
#include "bench/http_bench.h"
#include "bench/risk_bench.h"
#include "bench/source_bench.h"
#include "bench/ticks_bench.h"
#include "cli/commands.h"
#include "cli/flags.h"

namespace wojak::cli {
namespace {

int BenchE2e(const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"json", false, "print one JSON object (the only output format)"},
      {"orders", true, "orders to send (default 200000)"},
      {"rate", true, "orders/s across all clients; 0 = as fast as possible (default 0)"},
      {"clients", true, "client connections (default 4)"},
      {"window", true, "unanswered requests per client (default 256)"},
      {"keep-open", false, "the executor holds every order: engine_rss_mb with N open orders"},
      {"instruments", true, "instruments CSV (default tests/testdata/instruments.csv)"},
      {"freeze", true, "freeze-limit file (default tests/testdata/freeze_limits.csv)"},
      {"data", true, "data directory for the engine (default: a fresh one under /tmp)"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("bench e2e", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak bench e2e --json [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  E2eBenchOptions options;
  auto orders = flags->GetInt("orders", options.orders);
  auto rate = flags->GetInt("rate", options.rate);
  auto clients = flags->GetInt("clients", options.clients);
  auto window = flags->GetInt("window", options.window);
  for (auto* value : {&orders, &rate, &clients, &window}) {
    if (!value->ok()) return UsageError("bench e2e", value->status().message());
  }
  if (*orders < 1 || *clients < 1 || *window < 1 || *rate < 0) {
    return UsageError("bench e2e", "--orders, --clients and --window must be >= 1, --rate >= 0");
  }
  options.orders = static_cast<int>(*orders);
  options.rate = static_cast<int>(*rate);
  options.clients = static_cast<int>(*clients);
  options.window = static_cast<int>(*window);
  options.keep_open = flags->Has("keep-open");
  options.instruments_path = flags->GetOr("instruments", options.instruments_path);
  options.freeze_path = flags->GetOr("freeze", options.freeze_path);
  options.data_dir = flags->GetOr("data", "");
  auto result = RunE2eBench(options);
  if (!result.ok()) return Fail("bench e2e", result.status().ToString());
  std::cout << *result << "\n";
  return 0;
}

int BenchTicks(const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"json", false, "print one JSON object (the only output format)"},
      {"orders", true, "orders per condition, idle and with ticks (default 50000)"},
      {"rounds", true, "times idle and flooded phases alternate (default 4)"},
      {"rate", true, "orders/s across all clients (default 10000)"},
      {"clients", true, "client connections (default 2)"},
      {"tick-batch", true, "ticks per frame the publisher sends (default 500)"},
      {"tick-instruments", true, "distinct instruments the ticks cycle through (default 2000)"},
      {"publisher-nice", true, "nice levels the publisher runs below the rest, 0..19 (default 0)"},
      {"instruments", true, "instruments CSV (default: fresh contracts, else the test fixture)"},
      {"freeze", true, "freeze-limit file (default tests/testdata/freeze_limits.csv)"},
      {"data", true, "data directory for the engine (default: a fresh one under /tmp)"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("bench ticks", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak bench ticks --json [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  TicksBenchOptions options;
  auto orders = flags->GetInt("orders", options.orders);
  auto rate = flags->GetInt("rate", options.rate);
  auto clients = flags->GetInt("clients", options.clients);
  auto batch = flags->GetInt("tick-batch", options.tick_batch);
  auto instruments = flags->GetInt("tick-instruments", options.instruments);
  auto nice = flags->GetInt("publisher-nice", options.publisher_nice);
  auto rounds = flags->GetInt("rounds", options.rounds);
  for (auto* value : {&orders, &rate, &clients, &batch, &instruments, &nice, &rounds}) {
    if (!value->ok()) return UsageError("bench ticks", value->status().message());
  }
  if (*orders < 1 || *rate < 1 || *clients < 1 || *batch < 1 || *instruments < 1 || *nice < 0 ||
      *nice > 19 || *rounds < 1) {
    return UsageError("bench ticks",
                      "--orders, --rounds, --rate, --clients, --tick-batch and --tick-instruments "
                      "must be >= 1, --publisher-nice 0..19");
  }
  options.orders = static_cast<int>(*orders);
  options.rate = static_cast<int>(*rate);
  options.clients = static_cast<int>(*clients);
  options.tick_batch = static_cast<int>(*batch);
  options.instruments = static_cast<int>(*instruments);
  options.publisher_nice = static_cast<int>(*nice);
  options.rounds = static_cast<int>(*rounds);
  options.instruments_path = flags->GetOr("instruments", options.instruments_path);
  options.freeze_path = flags->GetOr("freeze", options.freeze_path);
  options.data_dir = flags->GetOr("data", "");
  auto result = RunTicksBench(options);
  if (!result.ok()) return Fail("bench ticks", result.status().ToString());
  std::cout << *result << "\n";
  return 0;
}

int BenchHttp(const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"json", false, "print one JSON object (the only output format)"},
      {"orders", true, "orders to send (default 100000)"},
      {"clients", true, "keep-alive connections, one client thread each (default 64)"},
      {"batch", true, "orders per request; more than 1 sends a JSON array (default 1)"},
      {"auth", true, "hmac (every request signed) or none (default hmac)"},
      {"io-threads", true, "sources.http.io_threads of the sidecar (default 1)"},
      {"instruments", true, "instruments CSV (default: fresh contracts, else the test fixture)"},
      {"freeze", true, "freeze-limit file (default tests/testdata/freeze_limits.csv)"},
      {"data", true, "directory for the engine and sidecar (default: a fresh one under /tmp)"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("bench http", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak bench http --json [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  HttpBenchOptions options;
  auto orders = flags->GetInt("orders", static_cast<int64_t>(options.orders));
  auto clients = flags->GetInt("clients", options.clients);
  auto batch = flags->GetInt("batch", options.batch);
  auto io_threads = flags->GetInt("io-threads", options.io_threads);
  for (auto* value : {&orders, &clients, &batch, &io_threads}) {
    if (!value->ok()) return UsageError("bench http", value->status().message());
  }
  if (*orders < 1 || *clients < 1 || *batch < 1 || *io_threads < 1) {
    return UsageError("bench http", "--orders, --clients, --batch and --io-threads must be >= 1");
  }
  options.orders = static_cast<uint64_t>(*orders);
  options.clients = static_cast<int>(*clients);
  options.batch = static_cast<int>(*batch);
  options.io_threads = static_cast<int>(*io_threads);
  options.auth = flags->GetOr("auth", options.auth);
  if (options.auth != "hmac" && options.auth != "none") {
    return UsageError("bench http", "--auth must be hmac or none, not '" + options.auth + "'");
  }
  options.instruments_path = flags->GetOr("instruments", options.instruments_path);
  options.freeze_path = flags->GetOr("freeze", options.freeze_path);
  options.data_dir = flags->GetOr("data", "");
  auto result = RunHttpBench(options);
  if (!result.ok()) return Fail("bench http", result.status().ToString());
  std::cout << *result << "\n";
  return 0;
}

int BenchSource(const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"json", false, "print one JSON object (the only output format)"},
      {"source", true, "the broker source to measure (kafka, nats, ...)"},
      {"orders", true, "orders preloaded into the broker (default 20000)"},
      {"accounts", true, "accounts the orders are spread over (default 64)"},
      {"window", true, "sidecar.window: requests in flight to the engine (default 1024)"},
      {"instruments", true, "instruments CSV (default tests/testdata/instruments.csv)"},
      {"freeze", true, "freeze-limit file (default tests/testdata/freeze_limits.csv)"},
      {"data", true, "directory for the broker, engine and sidecar (default: fresh under /tmp)"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("bench source", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak bench source --source NAME --json [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  SourceBenchOptions options;
  options.source = flags->GetOr("source", "");
  if (options.source.empty()) return UsageError("bench source", "--source NAME is required");
  auto orders = flags->GetInt("orders", static_cast<int64_t>(options.orders));
  auto accounts = flags->GetInt("accounts", options.accounts);
  auto window = flags->GetInt("window", options.window);
  for (auto* value : {&orders, &accounts, &window}) {
    if (!value->ok()) return UsageError("bench source", value->status().message());
  }
  if (*orders < 1 || *accounts < 1 || *window < 1) {
    return UsageError("bench source", "--orders, --accounts and --window must be >= 1");
  }
  options.orders = static_cast<uint64_t>(*orders);
  options.accounts = static_cast<int>(*accounts);
  options.window = static_cast<int>(*window);
  options.instruments_path = flags->GetOr("instruments", options.instruments_path);
  options.freeze_path = flags->GetOr("freeze", options.freeze_path);
  options.data_dir = flags->GetOr("data", "");
  auto result = RunSourceBench(options);
  if (!result.ok()) return Fail("bench source", result.status().ToString());
  std::cout << *result << "\n";
  return 0;
}

}  // namespace

int RunBench(const Args& args) {
  if (args.empty()) return UsageError("bench", "which benchmark? risk, e2e, ticks, http, source");
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "e2e") return BenchE2e(rest);
  if (args[0] == "risk") {
    // The risk benchmark parses its own flags (argv-style, its first word being "risk").
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    return RunRiskBench(static_cast<int>(args.size()), argv.data());
  }
  if (args[0] == "http") return BenchHttp(rest);
  if (args[0] == "source") return BenchSource(rest);
  if (args[0] == "ticks") return BenchTicks(rest);
  return UsageError("bench", "unknown benchmark '" + args[0] + "'");
}

}  // namespace wojak::cli
