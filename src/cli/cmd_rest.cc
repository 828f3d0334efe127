// `wojak limits | state`: GET the engine's REST API (/v1/limits, /v1/state) and print the JSON.
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/api_client.h"
#include "cli/commands.h"
#include "cli/flags.h"

namespace wojak::cli {

int RunRestQuery(const std::string& what, const Args& args) {
  const std::vector<FlagSpec> specs = {
      {"url", true,
       "the engine's API (default http://127.0.0.1:8081); token from $WOJAK_API_TOKEN"},
      {"json", false, "compact JSON on one line instead of indented"},
      {"help", false, "show this help"}};
  auto flags = Flags::Parse(args, specs);
  if (!flags.ok()) return UsageError(what, flags.status().message());
  if (flags->Has("help")) {
    std::cout << "usage: wojak " << what << " [flags]\n" << FlagsUsage(specs);
    return 0;
  }
  auto host_port = api::ParseHttpUrl(flags->GetOr("url", "http://127.0.0.1:8081"));
  if (!host_port.ok()) return UsageError(what, host_port.status().message());
  const char* token = std::getenv("WOJAK_API_TOKEN");
  api::ApiClient client(host_port->first, host_port->second, std::chrono::seconds(10));
  auto reply = client.Get("/v1/" + what, token == nullptr ? "" : token);
  if (!reply.ok()) return Fail(what, reply.status().ToString());
  nlohmann::json body = nlohmann::json::parse(reply->body, nullptr, false);
  if (reply->status != 200) {
    return Fail(what, "HTTP " + std::to_string(reply->status) + ": " + reply->body);
  }
  if (body.is_discarded()) return Fail(what, "the API answered something that is not JSON");
  std::cout << (flags->Has("json") ? body.dump() : body.dump(2)) << "\n";
  return 0;
}

}  // namespace wojak::cli
