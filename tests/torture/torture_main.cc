// wojak_torture: runs engine + HTTP sidecar under a mixed client load, SIGKILLs one or both at
// seeded random moments and restarts them, then checks from the client logs and the journal that
// nothing acknowledged was lost or changed and nothing was decided or executed twice.
//
// usage: wojak_torture [--kills N] [--seed S] [--json] [--clients C] [--wojak PATH]
//                      [--source-dir DIR] [--work-dir DIR] [--keep]
//                      [--min-interval-ms A] [--max-interval-ms B]
//        wojak_torture --check DIR [--json] [--wojak PATH]   (check a kept run's directory again)
// Exit status: 0 no violation, 1 violations (the seed reproduces the run), 2 could not run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "checker.h"
#include "cluster.h"
#include "facts.h"
#include "load.h"

namespace wojak::torture {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Flags {
  int kills = 50;
  uint64_t seed = 0;
  bool seed_given = false;
  bool json = false;
  int clients = 4;
  std::string wojak;
  std::string source_dir;
  std::string work_dir;
  bool keep = false;
  std::string check_dir;
  int min_interval_ms = 20;
  int max_interval_ms = 300;
};

constexpr const char* kUsage =
    "usage: wojak_torture [--kills N] [--seed S] [--json] [--clients C] [--wojak PATH]\n"
    "                     [--source-dir DIR] [--work-dir DIR] [--keep]\n"
    "                     [--min-interval-ms A] [--max-interval-ms B]\n"
    "       wojak_torture --check DIR [--json] [--wojak PATH]\n";

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool ParseFlags(int argc, char** argv, Flags& flags) {
  flags.wojak = EnvOr("WOJAK_BINARY", "build/wojak");
  flags.source_dir = EnvOr("WOJAK_SOURCE_DIR", ".");
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("missing value");
      return argv[++i];
    };
    try {
      if (flag == "--json") {
        flags.json = true;
      } else if (flag == "--keep") {
        flags.keep = true;
      } else if (flag == "--check") {
        flags.check_dir = next();
      } else if (flag == "--kills") {
        flags.kills = std::stoi(next());
      } else if (flag == "--seed") {
        flags.seed = std::stoull(next());
        flags.seed_given = true;
      } else if (flag == "--clients") {
        flags.clients = std::stoi(next());
      } else if (flag == "--wojak") {
        flags.wojak = next();
      } else if (flag == "--source-dir") {
        flags.source_dir = next();
      } else if (flag == "--work-dir") {
        flags.work_dir = next();
      } else if (flag == "--min-interval-ms") {
        flags.min_interval_ms = std::stoi(next());
      } else if (flag == "--max-interval-ms") {
        flags.max_interval_ms = std::stoi(next());
      } else {
        std::cerr << "wojak_torture: unknown flag " << flag << "\n" << kUsage;
        return false;
      }
    } catch (const std::exception&) {
      std::cerr << "wojak_torture: missing or bad value for " << flag << "\n" << kUsage;
      return false;
    }
  }
  if (flags.kills < 0 || flags.clients < 1 || flags.min_interval_ms < 0 ||
      flags.max_interval_ms < flags.min_interval_ms) {
    std::cerr << "wojak_torture: need --kills >= 0, --clients >= 1, 0 <= min <= max interval\n";
    return false;
  }
  if (!flags.seed_given && flags.check_dir.empty()) {
    flags.seed = std::random_device()() ^ (uint64_t{std::random_device()()} << 32);
  }
  return true;
}

enum class Target { kEngine, kSidecar, kBoth };

struct KillCounts {
  uint64_t kills = 0;
  uint64_t engine = 0;
  uint64_t sidecar = 0;
  uint64_t restart_failures = 0;
  std::string restart_error;
};

// Kills and restarts until the budget is spent; stops early when a process will not come back
// (that is itself a violation: the engine must always restart after kill -9).
void Torture(Cluster& cluster, const Flags& flags, const Load& load, KillCounts& counts) {
  std::mt19937_64 chaos(flags.seed);
  auto between = [&](int low, int high) {
    return std::chrono::milliseconds(low + static_cast<int>(chaos() % (high - low + 1)));
  };
  const auto started = std::chrono::steady_clock::now();
  for (int kill = 1; kill <= flags.kills; ++kill) {
    std::this_thread::sleep_for(between(flags.min_interval_ms, flags.max_interval_ms));
    const uint64_t roll = chaos() % 100;
    const Target target = roll < 50   ? Target::kEngine
                          : roll < 85 ? Target::kSidecar
                                      : Target::kBoth;
    if (target != Target::kEngine) cluster.KillSidecar();
    if (target != Target::kSidecar) cluster.KillEngine();
    ++counts.kills;
    counts.engine += target != Target::kSidecar;
    counts.sidecar += target != Target::kEngine;
    // Down for a moment, so clients meet refused connections and silent engines too.
    std::this_thread::sleep_for(between(0, 100));
    Status restarted = OkStatus();
    if (target != Target::kSidecar) restarted = cluster.StartEngine();
    if (restarted.ok() && target != Target::kEngine) restarted = cluster.StartSidecar();
    if (!restarted.ok()) {
      ++counts.restart_failures;
      counts.restart_error = restarted.ToString();
      return;
    }
    if (!flags.json && (kill % 50 == 0 || kill == flags.kills)) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now() - started)
                               .count();
      std::cerr << "wojak_torture: " << kill << "/" << flags.kills << " kills, "
                << load.operations() << " operations, " << seconds << " s\n";
    }
  }
}

// Prints the figures (one JSON object) and the violations; returns the exit status.
int Report(const Flags& flags, const KillCounts& kills, const CheckResult& result,
           size_t journal_entries, double seconds) {
  const CheckCounts& c = result.counts;
  json report = {{"kills", kills.kills},
                 {"engine_kills", kills.engine},
                 {"sidecar_kills", kills.sidecar},
                 {"orders", c.orders},
                 {"cancels", c.cancels},
                 {"forged", c.forged},
                 {"requests", c.requests},
                 {"resends", c.resends},
                 {"acked", c.acked},
                 {"filled", c.filled},
                 {"journal_entries", journal_entries},
                 {"lost", c.lost},
                 {"changed", c.changed},
                 {"double_decided", c.double_decided},
                 {"double_executed", c.double_executed},
                 {"unauthorised", c.unauthorised},
                 {"unanswered", c.unanswered},
                 {"unexecuted", c.unexecuted},
                 {"position_mismatches", c.position_mismatches},
                 {"unexpected_answers", c.unexpected_answers},
                 {"journal_damage", c.journal_damage},
                 {"restart_failures", kills.restart_failures},
                 {"seconds", static_cast<int64_t>(seconds)},
                 {"seed", flags.seed},
                 {"ok", result.ok()}};
  std::cout << report.dump(flags.json ? -1 : 2) << std::endl;
  if (result.ok()) return 0;
  for (const std::string& violation : result.violations) {
    std::cerr << "violation: " << violation << "\n";
  }
  std::cerr << "wojak_torture: " << result.violations.size() << " violation line(s)\n";
  return 1;
}

// --check DIR: the checks alone, on the directory a run kept (its logs and data directory).
int CheckKeptRun(const Flags& flags) {
  const std::string& dir = flags.check_dir;
  FactSources sources{flags.wojak, dir + "/data", dir + "/instruments.csv",
                      dir + "/freeze_limits.csv"};
  std::vector<std::string> log_paths;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/logs", error)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("client-") && name.ends_with(".jsonl")) {
      log_paths.push_back(entry.path().string());
    }
  }
  if (error || log_paths.empty()) {
    std::cerr << "wojak_torture: no client logs in " << dir << "/logs\n";
    return 2;
  }
  StatusOr<ParsedLogs> logs = ReadClientLogs(log_paths);
  StatusOr<JournalFacts> facts = GatherFacts(sources);
  if (!logs.ok() || !facts.ok()) {
    std::cerr << "wojak_torture: "
              << (!logs.ok() ? logs.status().ToString() : facts.status().ToString()) << "\n";
    return 2;
  }
  return Report(flags, KillCounts{}, Check(*logs, *facts), facts->entries.size(), 0);
}

int Main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, flags)) return 2;
  if (!flags.check_dir.empty()) return CheckKeptRun(flags);
  const auto started = std::chrono::steady_clock::now();
  const std::string reproduce = "scripts/torture --kills " + std::to_string(flags.kills) +
                                " --seed " + std::to_string(flags.seed);

  ClusterOptions cluster_options;
  cluster_options.wojak_binary = flags.wojak;
  cluster_options.source_dir = flags.source_dir;
  cluster_options.work_dir = flags.work_dir;
  cluster_options.seed = flags.seed;
  StatusOr<std::unique_ptr<Cluster>> created = Cluster::Create(cluster_options);
  if (!created.ok()) {
    std::cerr << "wojak_torture: " << created.status().ToString() << "\n";
    return 2;
  }
  Cluster& cluster = **created;
  if (flags.keep) cluster.Keep();
  for (Status status : {cluster.StartEngine(), cluster.StartSidecar()}) {
    if (!status.ok()) {
      cluster.Keep();
      std::cerr << "wojak_torture: " << status.ToString() << "\nfiles kept in "
                << cluster.work_dir() << "\n";
      return 2;
    }
  }

  LoadOptions load_options;
  load_options.clients = flags.clients;
  load_options.seed = flags.seed;
  load_options.port = cluster.http_port();
  load_options.key_id = cluster.key_id();
  load_options.secret = cluster.secret();
  load_options.symbol = cluster.symbol();
  load_options.price = cluster.price();
  load_options.log_dir = cluster.log_dir();
  Load load(load_options);
  load.Start();

  KillCounts kills;
  Torture(cluster, flags, load, kills);

  // Every operation in hand is resent until answered, so nothing stays unanswered...
  load.RequestStop();
  const bool clients_done = load.Join(120s);
  if (!clients_done) load.Abort();
  // ...and every accepted order reaches the executor and back (reconciliation after kills).
  FactSources sources{cluster.wojak_binary(), cluster.data_dir(), cluster.instruments_path(),
                      cluster.freeze_path()};
  const auto settle_deadline = std::chrono::steady_clock::now() + 60s;
  while (kills.restart_failures == 0 && std::chrono::steady_clock::now() < settle_deadline) {
    StatusOr<size_t> open = CountOpenOrders(sources);
    if (open.ok() && *open == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  Status stopped = cluster.Stop();
  load.Join(10s);

  StatusOr<ParsedLogs> logs = ReadClientLogs(load.log_paths());
  StatusOr<JournalFacts> facts = GatherFacts(sources);
  if (!logs.ok() || !facts.ok()) {
    cluster.Keep();
    std::cerr << "wojak_torture: "
              << (!logs.ok() ? logs.status().ToString() : facts.status().ToString())
              << "\nfiles kept in " << cluster.work_dir() << "\n";
    return 2;
  }
  CheckResult result = Check(*logs, *facts);
  if (kills.restart_failures > 0) {
    result.violations.push_back("a process did not come back after a kill: " + kills.restart_error);
  }
  if (!clients_done) result.violations.push_back("clients did not finish within 120 s");
  if (!stopped.ok()) result.violations.push_back("graceful stop: " + stopped.ToString());

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int status = Report(flags, kills, result, facts->entries.size(), seconds);
  if (status != 0) {
    cluster.Keep();
    std::cerr << "wojak_torture: reproduce with: " << reproduce << "\nfiles kept in "
              << cluster.work_dir() << " (wojak_torture --check DIR checks them again)\n";
  }
  return status;
}

}  // namespace
}  // namespace wojak::torture

int main(int argc, char** argv) { return wojak::torture::Main(argc, argv); }
