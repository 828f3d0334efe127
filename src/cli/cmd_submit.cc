// `wojak submit`: send orders straight to the engine over ZeroMQ and print one decision JSON per
// order, in input order.
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"
#include "common/clock.h"
#include "model/order_json.h"
#include "wojak/client.h"

namespace wojak::cli {

int RunSubmit(const Args& raw_args) {
  const std::vector<FlagSpec> specs = {
      {"json", true, "one order as JSON"},
      {"file", true, "a file of orders, one JSON object per line (also -f)"},
      {"endpoint", true, "engine endpoint (default ipc://var/engine.sock)"},
      {"timeout-ms", true, "give up on an order without a reply after this long (default 10000)"},
      {"help", false, "show this help"}};
  Args args;
  for (const std::string& a : raw_args) args.push_back(a == "-f" ? "--file" : a);
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError("submit", flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak submit (--json ORDER | -f FILE.jsonl) [flags]\n"
              << FlagsUsage(specs);
    return 0;
  }
  std::vector<std::string> lines;
  if (auto json = flags->Get("json")) {
    lines.push_back(*json);
  } else if (auto file = flags->Get("file")) {
    std::ifstream in(*file);
    if (!in) return Fail("submit", "cannot open " + *file);
    for (std::string line; std::getline(in, line);) {
      if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
    }
  } else {
    return UsageError("submit", "give --json ORDER or -f FILE.jsonl");
  }
  auto timeout_ms = flags->GetInt("timeout-ms", 10000);
  if (!timeout_ms.ok()) return UsageError("submit", timeout_ms.status().message());

  ClientOptions client_options;
  client_options.endpoint = flags->GetOr("endpoint", client_options.endpoint);
  client_options.connect_timeout = std::chrono::seconds(5);
  auto client = EngineClient::Connect(client_options);
  if (!client.ok()) return Fail("submit", client.status().ToString());

  std::vector<std::string> output(lines.size());
  std::map<uint64_t, size_t> line_of_request;
  size_t next = 0;
  const Nanos deadline = RealClock::Instance().Monotonic() + *timeout_ms * kNanosPerMilli;
  while ((next < lines.size() || !line_of_request.empty()) &&
         RealClock::Instance().Monotonic() < deadline) {
    for (; next < lines.size(); ++next) {
      OrderParseResult parsed = ParseOrderJson(lines[next]);
      if (!parsed.ok()) {
        output[next] = DecisionToJson(InvalidOrderDecision(parsed.order.client_order_id,
                                                           parsed.order.account, parsed.errors));
        continue;
      }
      auto id = (*client)->Send(parsed.order);
      if (!id.ok()) break;  // window full: collect replies first
      line_of_request[*id] = next;
    }
    auto replies = (*client)->Poll(std::chrono::milliseconds(50));
    if (!replies.ok()) return Fail("submit", replies.status().ToString());
    for (Reply& reply : *replies) {
      auto it = line_of_request.find(reply.request_id);
      if (it == line_of_request.end()) continue;
      output[it->second] = reply.error.empty() ? DecisionToJson(reply.decision)
                                               : nlohmann::json{{"error", reply.error}}.dump();
      line_of_request.erase(it);
    }
  }
  int failures = 0;
  for (size_t i = 0; i < output.size(); ++i) {
    if (output[i].empty()) {
      std::cout << R"({"error":"no reply from the engine before the timeout","line":)" << i + 1
                << "}\n";
      ++failures;
    } else {
      std::cout << output[i] << "\n";
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace wojak::cli
