// GatherFacts: runs the wojak tools and reads the journal with its chain checks.
#include "facts.h"

#include <sys/wait.h>

#include <cstdio>
#include <optional>

#include "journal/sqlite_journal.h"
#include "model/order.h"

namespace wojak::torture {
namespace {

using nlohmann::json;

// The most rows one `wojak orders|trades` call returns (journal/query.h kMaxQueryRows).
constexpr size_t kPageRows = 10000;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout; stderr is merged in so failures explain themselves
};

std::string Quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

StatusOr<CommandResult> Run(const std::vector<std::string>& argv) {
  std::string command;
  for (const std::string& word : argv) command += Quote(word) + " ";
  command += "2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return IoError("cannot run " + command);
  CommandResult result;
  char buffer[65536];
  size_t read;
  while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

StatusOr<json> RunJson(const std::vector<std::string>& argv) {
  WOJAK_ASSIGN_OR_RETURN(CommandResult result, Run(argv));
  if (result.exit_code != 0) {
    return Internal(argv[1] + " exited " + std::to_string(result.exit_code) + ": " + result.output);
  }
  json parsed = json::parse(result.output, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Internal(argv[1] + " printed no JSON: " + result.output);
  return parsed;
}

// Every row of `wojak orders|trades|positions`, page by page (orders and trades come in seq
// order, and --since-seq continues after the last one).
StatusOr<json> Query(const FactSources& sources, const std::string& what) {
  json all = json::array();
  uint64_t since_seq = 0;
  while (true) {
    WOJAK_ASSIGN_OR_RETURN(
        json page,
        RunJson({sources.wojak_binary, what, "--data", sources.data_dir, "--json", "--limit",
                 std::to_string(kPageRows), "--since-seq", std::to_string(since_seq)}));
    if (!page.is_array()) return Internal(what + " did not print a JSON array");
    for (json& row : page) all.push_back(std::move(row));
    if (what == "positions" || page.size() < kPageRows) return all;
    since_seq = all.back().value("seq", uint64_t{0});
  }
}

}  // namespace

StatusOr<JournalFacts> GatherFacts(const FactSources& sources) {
  JournalFacts facts;
  {
    JournalOptions options;
    options.path = JournalPathForDataDir(sources.data_dir);
    options.verify_on_open = false;  // Replay checks every link itself
    options.background_checkpoint_pages = 0;
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<SqliteJournal> journal, SqliteJournal::Open(options));
    Status replayed = journal->Replay(1, [&](const Entry& entry) {
      facts.entries[entry.seq] = {entry.kind, entry.account, entry.client_order_id};
      return OkStatus();
    });
    if (!replayed.ok()) {
      facts.verify_detail = "reading the journal: " + replayed.ToString() + "; ";
    }
  }

  WOJAK_ASSIGN_OR_RETURN(CommandResult verify, Run({sources.wojak_binary, "verify", "--data",
                                                    sources.data_dir, "--json"}));
  json verify_report = json::parse(verify.output, nullptr, /*allow_exceptions=*/false);
  facts.verify_ok = facts.verify_detail.empty() && verify.exit_code == 0 &&
                    verify_report.is_object() && verify_report.value("ok", false);
  facts.verify_detail += verify.output;

  WOJAK_ASSIGN_OR_RETURN(
      CommandResult replay,
      Run({sources.wojak_binary, "replay", "--data", sources.data_dir, "--json", "--instruments",
           sources.instruments_path, "--freeze", sources.freeze_path}));
  json replay_report = json::parse(replay.output, nullptr, /*allow_exceptions=*/false);
  facts.replay_ok = replay.exit_code == 0 && replay_report.is_object();
  facts.replay_entries = facts.replay_ok ? replay_report.value("entries", uint64_t{0}) : 0;
  facts.replay_detail = replay.output;

  WOJAK_ASSIGN_OR_RETURN(facts.orders, Query(sources, "orders"));
  WOJAK_ASSIGN_OR_RETURN(facts.trades, Query(sources, "trades"));
  WOJAK_ASSIGN_OR_RETURN(facts.positions, Query(sources, "positions"));
  return facts;
}

StatusOr<size_t> CountOpenOrders(const FactSources& sources) {
  WOJAK_ASSIGN_OR_RETURN(json orders, Query(sources, "orders"));
  size_t open = 0;
  for (const json& row : orders) {
    std::optional<OrderState> state = ParseOrderState(row.value("status", ""));
    if (!state || !IsTerminal(*state)) ++open;
  }
  return open;
}

}  // namespace wojak::torture
