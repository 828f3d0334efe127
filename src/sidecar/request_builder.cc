// Message -> engine request; every field error is collected so the sender learns all of them.
#include "sidecar/request_builder.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "model/order_json.h"

namespace wojak::sidecar {
namespace {

using nlohmann::json;

constexpr size_t kMaxIdLength = 64;
constexpr size_t kDerivedHexDigits = 22;

DeadLetterInfo Malformed(const std::string& client_order_id, const std::string& account,
                         const std::vector<FieldError>& errors) {
  DeadLetterInfo info;
  info.kind = DeadLetterKind::kMalformed;
  info.decision = InvalidOrderDecision(client_order_id, account, errors);
  for (const FieldError& error : errors) {
    if (!info.reason.empty()) info.reason += "; ";
    info.reason += error.field.empty() ? error.message : error.field + ": " + error.message;
  }
  return info;
}

std::optional<DeadLetterInfo> CheckScope(const Message& message, const std::string& account,
                                         const std::string& client_order_id) {
  if (message.scope == nullptr || message.scope->Allows(account)) return std::nullopt;
  DeadLetterInfo info;
  info.kind = DeadLetterKind::kForbidden;
  info.reason = "credentials do not cover account '" + account + "'";
  info.decision.kind = DecisionKind::kRejected;
  info.decision.client_order_id = client_order_id;
  info.decision.account = account;
  return info;
}

// A cancel names exactly the order: {"account":..., "client_order_id":...}, nothing else.
BuildResult BuildCancel(const Message& message) {
  json doc = json::parse(message.body, nullptr, /*allow_exceptions=*/false);
  std::vector<FieldError> errors;
  CancelRequest cancel;
  if (doc.is_discarded() || !doc.is_object()) {
    errors.push_back({"", "cancel body is not a JSON object"});
    return Malformed("", "", errors);
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "account" && key != "client_order_id") errors.push_back({key, "unknown field"});
  }
  auto read = [&](const char* field, std::string& out) {
    auto it = doc.find(field);
    if (it == doc.end() || it->is_null()) {
      errors.push_back({field, "missing"});
    } else if (!it->is_string()) {
      errors.push_back({field, std::string("expected a string, got ") + it->type_name()});
    } else if (it->get_ref<const std::string&>().empty()) {
      errors.push_back({field, "must not be empty"});
    } else if (it->get_ref<const std::string&>().size() > kMaxIdLength) {
      errors.push_back({field, "longer than " + std::to_string(kMaxIdLength) + " characters"});
    } else {
      out = it->get<std::string>();
    }
  };
  read("account", cancel.account);
  read("client_order_id", cancel.client_order_id);
  if (!errors.empty()) return Malformed(cancel.client_order_id, cancel.account, errors);
  if (auto forbidden = CheckScope(message, cancel.account, cancel.client_order_id)) {
    return *forbidden;
  }
  BuiltRequest built{cancel, cancel.account, cancel.client_order_id};
  return built;
}

BuildResult BuildOrder(std::string_view source_name, const Message& message) {
  OrderParseResult parsed =
      ParseOrderJson(std::string_view(message.body), /*allow_missing_client_order_id=*/true);
  OrderRequest& order = parsed.order;
  if (parsed.ok() && order.client_order_id.empty()) {
    if (message.identity.empty()) {
      parsed.errors.push_back({"client_order_id", "missing (and the message has no identity)"});
    } else {
      order.client_order_id = DeriveClientOrderId(source_name, message.identity);
    }
  }
  if (!parsed.ok()) return Malformed(order.client_order_id, order.account, parsed.errors);
  if (auto forbidden = CheckScope(message, order.account, order.client_order_id)) {
    return *forbidden;
  }
  std::string account = order.account;
  std::string client_order_id = order.client_order_id;
  return BuiltRequest{std::move(order), std::move(account), std::move(client_order_id)};
}

}  // namespace

BuildResult BuildRequest(std::string_view source_name, const Message& message) {
  switch (message.kind) {
    case MessageKind::kNewOrder:
      return BuildOrder(source_name, message);
    case MessageKind::kCancel:
      return BuildCancel(message);
  }
  return Malformed("", "", {{"", "unknown message kind"}});
}

std::string DeriveClientOrderId(std::string_view source_name, std::string_view identity) {
  std::string input;
  input.reserve(source_name.size() + 1 + identity.size());
  input.append(source_name).append("\n").append(identity);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "d-";
  for (size_t i = 0; i < kDerivedHexDigits; ++i) {
    unsigned char byte = digest[i / 2];
    id.push_back(kHex[i % 2 == 0 ? byte >> 4 : byte & 0xf]);
  }
  return id;
}

std::string CancelBody(std::string_view account, std::string_view client_order_id) {
  return json{{"account", account}, {"client_order_id", client_order_id}}.dump();
}

}  // namespace wojak::sidecar
