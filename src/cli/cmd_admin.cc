// `wojak halt | resume`: stop or restart trading (everything, one account or one strategy)
// straight over ZeroMQ; the request goes through the sequencer and the journal like any other,
// and halting cancels the open orders in scope.
#include <iostream>

#include "api/engine_requester.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "model/order_json.h"

namespace wojak::cli {

int RunAdmin(const std::string& what, const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"account", true, "only this account"},
      {"strategy", true, "only this strategy"},
      {"endpoint", true, "engine endpoint (default ipc://var/engine.sock)"},
      {"timeout-ms", true, "give up without a reply after this long (default 10000)"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError(what, flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak " << what << " [--account A | --strategy S] [flags]\n"
              << FlagsUsage(specs);
    return 0;
  }
  if (flags->Has("account") && flags->Has("strategy")) {
    return UsageError(what, "give --account or --strategy, not both");
  }
  auto timeout_ms = flags->GetInt("timeout-ms", 10000);
  if (!timeout_ms.ok()) return UsageError(what, timeout_ms.status().message());
  AdminRequest request;
  request.action = what == "halt" ? AdminAction::kHalt : AdminAction::kResume;
  if (auto account = flags->Get("account")) {
    request.scope = AdminScope::kAccount;
    request.target = *account;
  } else if (auto strategy = flags->Get("strategy")) {
    request.scope = AdminScope::kStrategy;
    request.target = *strategy;
  }
  if (request.scope != AdminScope::kGlobal && request.target.empty()) {
    return UsageError(what, "the account or strategy name is empty");
  }
  api::EngineRequester requester(flags->GetOr("endpoint", "ipc://var/engine.sock"),
                                 std::chrono::milliseconds(*timeout_ms));
  auto decision = requester.Call(request);
  if (!decision.ok()) return Fail(what, decision.status().ToString());
  std::cout << DecisionToJson(*decision) << "\n";
  return decision->kind == DecisionKind::kAccepted ? 0 : 1;
}

}  // namespace wojak::cli
