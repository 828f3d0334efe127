// The wojak binary: one executable, one subcommand per component (ARCHITECTURE.md §2 "CLI").
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace wojak::cli {

int UsageError(const std::string& command, const std::string& message) {
  std::cerr << "wojak " << command << ": " << message << "\n";
  return 2;
}

int Fail(const std::string& command, const std::string& message) {
  std::cerr << "wojak " << command << ": " << message << "\n";
  return 1;
}

namespace {

constexpr const char* kUsage = R"(usage: wojak <command> [flags]

  engine    [--config FILE] [--data DIR] [--endpoint URL] [--instruments FILE] [--freeze FILE]
            [--api HOST:PORT]
  sidecar   --source NAME [--config FILE] [--endpoint URL]
  submit    (--json ORDER | -f FILE.jsonl) [--endpoint URL]
  orders | trades | positions  [--data DIR] [--account A] [--json]
  ticks     [--data DIR] [--symbols A,B] [--json]
  ticks     publish -f FILE.csv [--rate R] [--endpoint URL]
  halt | resume  [--account A | --strategy S] [--endpoint URL]
  limits | state [--url http://127.0.0.1:8081] [--json]
  replay    --data DIR [--json]
  verify    --data DIR
  config    check FILE | docs
  keygen    [--secret-file FILE] [--json]   CURVE key pair for engine/sidecar tcp://
  bench     risk --json | e2e --json [--orders N] [--rate R] | ticks --json [--orders N]

Run `wojak <command> --help` for a command's flags.
)";

}  // namespace
}  // namespace wojak::cli

int main(int argc, char** argv) {
  using namespace wojak::cli;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  Args args(argv + 2, argv + argc);
  if (command == "engine") return RunEngine(args);
  if (command == "sidecar") return RunSidecar(args);
  if (command == "submit") return RunSubmit(args);
  if (command == "orders" || command == "trades" || command == "positions") {
    return RunQuery(command, args);
  }
  if (command == "ticks") return RunTicks(args);
  if (command == "halt" || command == "resume") return RunAdmin(command, args);
  if (command == "limits" || command == "state") return RunRestQuery(command, args);
  if (command == "replay") return RunReplay(args);
  if (command == "verify") return RunVerify(args);
  if (command == "config") return RunConfig(args);
  if (command == "keygen") return RunKeygen(args);
  if (command == "bench") return RunBench(args);
  std::fprintf(stderr, "wojak: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
