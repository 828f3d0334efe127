// Writing and reading the torture clients' JSON-lines logs.
#include "client_log.h"

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

namespace wojak::torture {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 5> kOperationNames = {"order", "breach", "duplicate",
                                                             "cancel", "forged"};

json Common(std::string_view event, const Exchange& e) {
  return {{"ev", event},
          {"client", e.client},
          {"opid", e.operation_id},
          {"req", e.request},
          {"op", OperationName(e.operation)},
          {"account", e.account},
          {"coid", e.client_order_id},
          {"attempt", e.attempt}};
}

}  // namespace

std::string_view OperationName(Operation operation) {
  return kOperationNames[static_cast<size_t>(operation)];
}

StatusOr<Operation> ParseOperation(std::string_view name) {
  for (size_t i = 0; i < kOperationNames.size(); ++i) {
    if (kOperationNames[i] == name) return static_cast<Operation>(i);
  }
  return InvalidArgument("unknown operation '" + std::string(name) + "'");
}

StatusOr<ClientLogWriter> ClientLogWriter::Open(const std::string& path) {
  std::ofstream out(path, std::ios::app);
  if (!out) return IoError("cannot open client log " + path);
  return ClientLogWriter(std::move(out));
}

void ClientLogWriter::Sent(const Exchange& exchange) {
  out_ << Common("send", exchange).dump() << "\n" << std::flush;
}

void ClientLogWriter::Answered(const Exchange& exchange) {
  json line = Common("recv", exchange);
  line["status"] = exchange.http_status;
  line["body"] = exchange.body;
  // Bodies come from the network: replace invalid UTF-8 rather than throw.
  out_ << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
}

StatusOr<ParsedLogs> ReadClientLogs(const std::vector<std::string>& paths) {
  ParsedLogs logs;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) return IoError("cannot read client log " + path);
    // (client, request) of sends still waiting for their recv line.
    std::map<std::pair<int, uint64_t>, int> open_sends;
    std::string text;
    for (size_t line_number = 1; std::getline(in, text); ++line_number) {
      const std::string where = path + ":" + std::to_string(line_number);
      json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!line.is_object()) return InvalidArgument(where + ": not a JSON object");
      try {
        Exchange e;
        e.client = line.at("client").get<int>();
        e.operation_id = line.at("opid").get<uint64_t>();
        e.request = line.at("req").get<uint64_t>();
        WOJAK_ASSIGN_OR_RETURN(e.operation, ParseOperation(line.at("op").get<std::string>()));
        e.account = line.at("account").get<std::string>();
        e.client_order_id = line.at("coid").get<std::string>();
        e.attempt = line.at("attempt").get<int>();
        const std::string event = line.at("ev").get<std::string>();
        const auto key = std::make_pair(e.client, e.request);
        if (event == "send") {
          ++logs.sent;
          ++open_sends[key];
        } else if (event == "recv") {
          e.http_status = line.at("status").get<int>();
          e.body = line.at("body").get<std::string>();
          auto open = open_sends.find(key);
          if (open == open_sends.end()) return InvalidArgument(where + ": answer without a send");
          if (--open->second == 0) open_sends.erase(open);
          logs.answered.push_back(std::move(e));
        } else {
          return InvalidArgument(where + ": unknown event '" + event + "'");
        }
      } catch (const json::exception& error) {
        return InvalidArgument(where + ": " + error.what());
      }
    }
    for (const auto& [key, count] : open_sends) logs.unmatched_sends += count;
  }
  return logs;
}

}  // namespace wojak::torture
