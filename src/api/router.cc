// ApiRouter: every endpoint of the query/admin API.
#include "api/router.h"

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "api/json_views.h"
#include "common/log.h"
#include "common/metrics.h"
#include "model/order_json.h"

namespace wojak::api {

using nlohmann::json;

enum class Endpoint : uint8_t {
  kHealthz,
  kReadyz,
  kMetrics,
  kOrders,
  kOrder,
  kTrades,
  kPositions,
  kTicks,
  kLimits,
  kState,
  kHalt,
  kResume,
  kReload,
  kVerdict,
};

struct ApiRouter::Route {
  std::vector<std::string> segments;  // "*" matches any one non-empty segment (a parameter)
  std::string method;
  Access access = Access::kNone;  // kNone: no token needed (probes, metrics)
  Endpoint endpoint = Endpoint::kHealthz;
};

struct ApiRouter::Query {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? std::string() : it->second;
  }
  bool Has(const std::string& key) const { return values.count(key) > 0; }
};

namespace {

// Default and largest page of a list endpoint.
constexpr uint64_t kDefaultPageSize = 100;
constexpr uint64_t kMaxPageSize = 1000;
// Most symbols one /v1/ticks request may name.
constexpr size_t kMaxTickSymbols = 1000;

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 1;  // the path starts with '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
      continue;
    }
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || ptr != text.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

ApiResponse JsonResponse(int status, const json& body) {
  ApiResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

ApiResponse BadRequest(std::string_view message) {
  return ErrorResponse(400, "BAD_REQUEST", message);
}
ApiResponse Unprocessable(std::string_view message) {
  return ErrorResponse(422, "UNPROCESSABLE", message);
}

ApiResponse FromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return ErrorResponse(404, "NOT_FOUND", status.message());
    case StatusCode::kInvalidArgument:
      return BadRequest(status.message());
    case StatusCode::kUnavailable: {
      ApiResponse response = ErrorResponse(503, "UNAVAILABLE", status.message());
      response.headers.emplace_back("Retry-After", "1");
      return response;
    }
    default:
      return ErrorResponse(500, "INTERNAL", status.ToString());
  }
}

// Every key of `query` must be one of `allowed`.
std::optional<ApiResponse> CheckKeys(const std::map<std::string, std::string>& query,
                                     std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : query) {
    bool known = false;
    for (std::string_view name : allowed) known = known || key == name;
    if (known) continue;
    std::string names;
    for (std::string_view name : allowed) names += (names.empty() ? "" : ", ") + std::string(name);
    return BadRequest(
        "unknown query parameter '" + key + "'" +
        (names.empty() ? std::string(" (this endpoint takes none)") : " (allowed: " + names + ")"));
  }
  return std::nullopt;
}

struct Page {
  uint64_t since_seq = 0;
  uint64_t limit = kDefaultPageSize;
};

std::variant<Page, ApiResponse> ParsePage(const std::map<std::string, std::string>& query) {
  Page page;
  if (auto it = query.find("since_seq"); it != query.end()) {
    auto value = ParseUnsigned(it->second);
    if (!value)
      return BadRequest("since_seq must be a non-negative integer, got '" + it->second + "'");
    page.since_seq = *value;
  }
  if (auto it = query.find("limit"); it != query.end()) {
    auto value = ParseUnsigned(it->second);
    if (!value || *value == 0 || *value > kMaxPageSize) {
      return BadRequest("limit must be an integer from 1 to " + std::to_string(kMaxPageSize) +
                        ", got '" + it->second + "'");
    }
    page.limit = *value;
  }
  return page;
}

// The page's continuation: the seq to pass as since_seq for the next page, or null when this
// page was not full (nothing more right now).
json NextSinceSeq(size_t rows, uint64_t limit, uint64_t last_seq) {
  return rows == limit ? json(last_seq) : json(nullptr);
}

// A JSON object body; a malformed body is 400, anything but an object 422.
std::variant<json, ApiResponse> ParseObjectBody(const std::string& body, bool empty_is_object) {
  if (body.empty() && empty_is_object) return json::object();
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return BadRequest("request body is not valid JSON");
  if (!doc.is_object()) return Unprocessable("request body must be a JSON object");
  return doc;
}

Counter& ResponseCounter(int status) {
  return MetricsRegistry::Default()
      .AddCounterFamily("wojak_api_responses_total", "REST API responses by HTTP status.",
                        {"status"})
      .WithLabels({std::to_string(status)});
}

}  // namespace

ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  return JsonResponse(status, json{{"error", {{"code", code}, {"message", message}}}});
}

ApiRouter::ApiRouter(const ApiOptions& options, Engine& engine,
                     std::unique_ptr<JournalQuery> orders, std::string ticks_path,
                     std::unique_ptr<EngineRequester> requester, const Clock& clock)
    : options_(options),
      engine_(engine),
      orders_(std::move(orders)),
      ticks_path_(std::move(ticks_path)),
      requester_(std::move(requester)),
      auth_(options.read_token, options.rms_token, options.admin_token),
      rate_limiter_(options.rate_limit_per_second, options.rate_limit_burst, clock) {
  routes_ = {
      {{"healthz"}, "GET", Access::kNone, Endpoint::kHealthz},
      {{"readyz"}, "GET", Access::kNone, Endpoint::kReadyz},
      {{"metrics"}, "GET", Access::kNone, Endpoint::kMetrics},
      {{"v1", "orders"}, "GET", Access::kRead, Endpoint::kOrders},
      {{"v1", "orders", "*"}, "GET", Access::kRead, Endpoint::kOrder},
      {{"v1", "trades"}, "GET", Access::kRead, Endpoint::kTrades},
      {{"v1", "positions"}, "GET", Access::kRead, Endpoint::kPositions},
      {{"v1", "ticks"}, "GET", Access::kRead, Endpoint::kTicks},
      {{"v1", "limits"}, "GET", Access::kRead, Endpoint::kLimits},
      {{"v1", "state"}, "GET", Access::kRead, Endpoint::kState},
      {{"v1", "admin", "halt"}, "POST", Access::kAdmin, Endpoint::kHalt},
      {{"v1", "admin", "resume"}, "POST", Access::kAdmin, Endpoint::kResume},
      {{"v1", "admin", "reload"}, "POST", Access::kAdmin, Endpoint::kReload},
      {{"v1", "escalations", "*", "verdict"}, "POST", Access::kRms, Endpoint::kVerdict},
  };
}

ApiRouter::~ApiRouter() = default;

ApiResponse ApiRouter::Handle(const ApiRequest& request) {
  const size_t question = request.target.find('?');
  const std::string_view path = std::string_view(request.target).substr(0, question);
  if (path.empty() || path.front() != '/') return BadRequest("request target must be a path");

  Query query;
  if (question != std::string::npos) {
    std::string_view rest = std::string_view(request.target).substr(question + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (pair.empty()) continue;
      const size_t equals = pair.find('=');
      auto key = PercentDecode(pair.substr(0, equals), true);
      auto value = PercentDecode(
          equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
      if (!key || !value) return BadRequest("malformed percent-encoding in the query string");
      if (!query.values.emplace(*key, *value).second) {
        return BadRequest("query parameter '" + *key + "' given twice");
      }
    }
  }

  std::vector<std::string> segments;
  for (const std::string& raw : SplitPath(path)) {
    auto segment = PercentDecode(raw, false);
    if (!segment) return BadRequest("malformed percent-encoding in the path");
    segments.push_back(std::move(*segment));
  }
  const Route* matched = nullptr;
  std::vector<std::string> params;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> captured;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      if (route.segments[i] == "*") {
        match = !segments[i].empty();
        captured.push_back(segments[i]);
      } else {
        match = route.segments[i] == segments[i];
      }
    }
    if (match) {
      matched = &route;
      params = std::move(captured);
      break;
    }
  }
  ApiResponse response;
  if (matched == nullptr) {
    response = ErrorResponse(404, "NOT_FOUND", "no endpoint " + std::string(path));
  } else if (matched->method != request.method) {
    response = ErrorResponse(405, "METHOD_NOT_ALLOWED",
                             std::string(path) + " takes " + matched->method + " only");
    response.headers.emplace_back("Allow", matched->method);
  } else {
    response = Dispatch(*matched, params, query, request);
  }
  ResponseCounter(response.status).Increment();
  return response;
}

ApiResponse ApiRouter::Dispatch(const Route& route, const std::vector<std::string>& params,
                                const Query& query, const ApiRequest& request) {
  if (route.access != Access::kNone) {
    // Before authentication, so guessing tokens is throttled too.
    if (!rate_limiter_.Allow(request.client)) {
      const int64_t wait_ms = rate_limiter_.RetryAfterMillis(request.client);
      ApiResponse response = ErrorResponse(
          429, "RATE_LIMITED", "too many requests from " + request.client + "; slow down");
      response.headers.emplace_back("Retry-After",
                                    std::to_string(std::max<int64_t>(1, (wait_ms + 999) / 1000)));
      return response;
    }
    const AuthResult auth = auth_.Authenticate(request.authorization);
    // No credentials where more than anonymous access is needed is 401, not 403: the client
    // may still authenticate.
    const bool missing = !request.authorization && auth.access < route.access;
    if (auth.bad_credentials || auth.access == Access::kNone || missing) {
      ApiResponse response = ErrorResponse(
          401, "UNAUTHENTICATED",
          auth.bad_credentials ? "invalid bearer token" : "a bearer token is required");
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      return response;
    }
    if (route.access == Access::kAdmin && !auth_.admin_enabled()) {
      return ErrorResponse(403, "FORBIDDEN", "admin endpoints are disabled: set api.admin_token");
    }
    if (auth.access < route.access) {
      return ErrorResponse(403, "FORBIDDEN",
                           route.access == Access::kAdmin
                               ? "this token may not use admin endpoints"
                               : "this token may not post escalation verdicts");
    }
  }
  switch (route.endpoint) {
    case Endpoint::kHealthz:
      return JsonResponse(200, json{{"status", "alive"}});
    case Endpoint::kReadyz:
      return Readyz();
    case Endpoint::kMetrics: {
      ApiResponse response;
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      response.body = MetricsRegistry::Default().RenderPrometheus();
      return response;
    }
    case Endpoint::kOrders:
      return ListOrders(query);
    case Endpoint::kOrder:
      return GetOrder(params[0], query);
    case Endpoint::kTrades:
      return ListTrades(query);
    case Endpoint::kPositions:
      return ListPositions(query);
    case Endpoint::kTicks:
      return ListTicks(query);
    case Endpoint::kLimits:
      return Limits(query);
    case Endpoint::kState:
      return State(query);
    case Endpoint::kHalt:
      return Admin(AdminAction::kHalt, request);
    case Endpoint::kResume:
      return Admin(AdminAction::kResume, request);
    case Endpoint::kReload:
      return Reload(request);
    case Endpoint::kVerdict:
      return Verdict(params[0], request);
  }
  return ErrorResponse(500, "INTERNAL", "unhandled endpoint");
}

ApiResponse ApiRouter::Readyz() {
  const EngineStatus status = engine_.status();
  json body = EngineStatusJson(status);
  const bool ready = status.ready && status.recovered && !status.storage_failed;
  return JsonResponse(ready ? 200 : 503, body);
}

ApiResponse ApiRouter::ListOrders(const Query& query) {
  if (auto error = CheckKeys(query.values, {"account", "status", "since_seq", "limit"})) {
    return *error;
  }
  auto page = ParsePage(query.values);
  if (auto* error = std::get_if<ApiResponse>(&page)) return *error;
  const Page& p = std::get<Page>(page);
  const std::string status = query.Get("status");
  if (query.Has("status") && !ParseOrderState(status)) {
    return BadRequest("unknown order status '" + status + "'");
  }
  OrderFilter filter;
  filter.account = query.Get("account");
  filter.status = status;
  filter.since_seq = p.since_seq;
  filter.limit = p.limit;
  auto rows = orders_->ListOrders(filter);
  if (!rows.ok()) return FromStatus(rows.status());
  json orders = json::array();
  for (const OrderRow& row : *rows) orders.push_back(OrderJson(row));
  return JsonResponse(
      200, json{{"orders", std::move(orders)},
                {"next_since_seq",
                 NextSinceSeq(rows->size(), p.limit, rows->empty() ? 0 : rows->back().seq)}});
}

ApiResponse ApiRouter::GetOrder(const std::string& order_id, const Query& query) {
  if (auto error = CheckKeys(query.values, {})) return *error;
  auto row = orders_->GetOrder(order_id);
  if (!row.ok()) return FromStatus(row.status());
  return JsonResponse(200, OrderJson(*row));
}

ApiResponse ApiRouter::ListTrades(const Query& query) {
  if (auto error = CheckKeys(query.values, {"account", "order_id", "since_seq", "limit"})) {
    return *error;
  }
  auto page = ParsePage(query.values);
  if (auto* error = std::get_if<ApiResponse>(&page)) return *error;
  const Page& p = std::get<Page>(page);
  TradeFilter filter;
  filter.account = query.Get("account");
  filter.order_id = query.Get("order_id");
  filter.since_seq = p.since_seq;
  filter.limit = p.limit;
  auto rows = orders_->ListTrades(filter);
  if (!rows.ok()) return FromStatus(rows.status());
  json trades = json::array();
  for (const TradeRow& row : *rows) trades.push_back(TradeJson(row));
  return JsonResponse(
      200, json{{"trades", std::move(trades)},
                {"next_since_seq",
                 NextSinceSeq(rows->size(), p.limit, rows->empty() ? 0 : rows->back().seq)}});
}

ApiResponse ApiRouter::ListPositions(const Query& query) {
  if (auto error = CheckKeys(query.values, {"account"})) return *error;
  auto rows = orders_->ListPositions(query.Get("account"));
  if (!rows.ok()) return FromStatus(rows.status());
  json positions = json::array();
  for (const PositionRow& row : *rows) positions.push_back(PositionJson(row));
  return JsonResponse(200, json{{"positions", std::move(positions)}});
}

ApiResponse ApiRouter::ListTicks(const Query& query) {
  if (auto error = CheckKeys(query.values, {"symbols"})) return *error;
  std::vector<std::string> symbols;
  if (query.Has("symbols")) {
    std::string_view rest = query.values.at("symbols");
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view symbol = rest.substr(0, comma);
      if (symbol.empty()) return BadRequest("symbols must be a comma-separated list of names");
      symbols.emplace_back(symbol);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  if (symbols.size() > kMaxTickSymbols) {
    return BadRequest("at most " + std::to_string(kMaxTickSymbols) + " symbols");
  }
  std::lock_guard lock(ticks_mu_);
  if (!ticks_) {
    auto store = TickStore::OpenForReading(ticks_path_);
    // No file yet: the tick feed is off or has not persisted a price so far.
    if (!store.ok() && store.status().code() == StatusCode::kNotFound) {
      return JsonResponse(200, json{{"ticks", json::array()}});
    }
    if (!store.ok()) return FromStatus(store.status());
    ticks_ = std::move(store).value();
  }
  auto rows = ticks_->Read(symbols);
  if (!rows.ok()) return FromStatus(rows.status());
  json ticks = json::array();
  for (const TickRow& row : *rows) ticks.push_back(TickJson(row));
  return JsonResponse(200, json{{"ticks", std::move(ticks)}});
}

ApiResponse ApiRouter::Limits(const Query& query) {
  if (auto error = CheckKeys(query.values, {})) return *error;
  return JsonResponse(200, RiskConfigJson(*engine_.risk_config()));
}

ApiResponse ApiRouter::State(const Query& query) {
  if (auto error = CheckKeys(query.values, {})) return *error;
  return JsonResponse(200, json{{"engine", EngineStatusJson(engine_.status())},
                                {"trading", TradingStatesJson(engine_.trading_states())}});
}

ApiResponse ApiRouter::CallEngine(const Request& request, std::optional<Decision>& decision) {
  auto reply = requester_->Call(request);
  if (!reply.ok()) return FromStatus(reply.status());
  if (reply->kind == DecisionKind::kRetry) {
    ApiResponse response = JsonResponse(503, json{{"error",
                                                   {{"code", "UNAVAILABLE"},
                                                    {"message",
                                                     "the engine could not decide now; "
                                                     "send the request again"}}},
                                                  {"decision", DecisionToJsonValue(*reply)}});
    response.headers.emplace_back(
        "Retry-After", std::to_string(std::max<uint32_t>(1, (reply->retry_after_ms + 999) / 1000)));
    return response;
  }
  decision = std::move(reply).value();
  return {};
}

ApiResponse ApiRouter::Admin(AdminAction action, const ApiRequest& request) {
  auto parsed = ParseObjectBody(request.body, false);
  if (auto* error = std::get_if<ApiResponse>(&parsed)) return *error;
  const json& body = std::get<json>(parsed);
  std::vector<std::string> problems;
  for (const auto& [key, value] : body.items()) {
    if (key != "scope" && key != "target") problems.push_back("unknown field '" + key + "'");
  }
  AdminRequest admin;
  admin.action = action;
  std::string scope;
  if (!body.contains("scope") || !body["scope"].is_string()) {
    problems.push_back("scope must be one of \"global\", \"account\", \"strategy\"");
  } else {
    scope = body["scope"].get<std::string>();
    if (scope == "global") {
      admin.scope = AdminScope::kGlobal;
    } else if (scope == "account") {
      admin.scope = AdminScope::kAccount;
    } else if (scope == "strategy") {
      admin.scope = AdminScope::kStrategy;
    } else {
      problems.push_back("scope must be one of \"global\", \"account\", \"strategy\", got \"" +
                         scope + "\"");
    }
  }
  if (body.contains("target")) {
    if (body["target"].is_string()) {
      admin.target = body["target"].get<std::string>();
    } else {
      problems.push_back("target must be a string");
    }
  }
  if (scope == "global" && !admin.target.empty()) {
    problems.push_back("a global " + std::string(action == AdminAction::kHalt ? "halt" : "resume") +
                       " takes no target");
  }
  if ((scope == "account" || scope == "strategy") && admin.target.empty()) {
    problems.push_back("target (the " + scope + " name) is required for scope " + scope);
  }
  if (!problems.empty()) {
    std::string message;
    for (const std::string& problem : problems) message += (message.empty() ? "" : "; ") + problem;
    return Unprocessable(message);
  }
  const std::string action_name = action == AdminAction::kHalt ? "halt" : "resume";
  LogInfo("api_admin_request", {{"action", action_name},
                                {"scope", scope},
                                {"target", admin.target},
                                {"client", request.client}});
  std::optional<Decision> decision;
  ApiResponse failed = CallEngine(admin, decision);
  if (!decision) return failed;
  return JsonResponse(200, json{{"action", action_name},
                                {"scope", scope},
                                {"target", admin.target},
                                {"decision", DecisionToJsonValue(*decision)}});
}

ApiResponse ApiRouter::Reload(const ApiRequest& request) {
  auto parsed = ParseObjectBody(request.body, true);
  if (auto* error = std::get_if<ApiResponse>(&parsed)) return *error;
  if (!std::get<json>(parsed).empty()) {
    return Unprocessable("reload takes no fields: it re-reads the files the engine started with");
  }
  LogInfo("api_admin_request", {{"action", "reload"}, {"client", request.client}});
  auto report = engine_.Reload();
  if (!report.ok()) {
    if (report.status().code() == StatusCode::kUnavailable) return FromStatus(report.status());
    return Unprocessable(report.status().message());
  }
  return JsonResponse(200, json{{"reloaded", true},
                                {"instruments", report->instruments},
                                {"instruments_version", report->instruments_version},
                                {"limits_reloaded", report->limits_reloaded}});
}

ApiResponse ApiRouter::Verdict(const std::string& order_id, const ApiRequest& request) {
  auto parsed = ParseObjectBody(request.body, false);
  if (auto* error = std::get_if<ApiResponse>(&parsed)) return *error;
  const json& body = std::get<json>(parsed);
  std::vector<std::string> problems;
  for (const auto& [key, value] : body.items()) {
    if (key != "approve" && key != "reason") problems.push_back("unknown field '" + key + "'");
  }
  EscalationVerdict verdict;
  verdict.order_id = order_id;
  if (!body.contains("approve") || !body["approve"].is_boolean()) {
    problems.push_back("approve must be true or false");
  } else {
    verdict.approve = body["approve"].get<bool>();
  }
  if (body.contains("reason")) {
    if (body["reason"].is_string()) {
      verdict.reason = body["reason"].get<std::string>();
    } else {
      problems.push_back("reason must be a string");
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const std::string& problem : problems) message += (message.empty() ? "" : "; ") + problem;
    return Unprocessable(message);
  }
  LogInfo("api_verdict",
          {{"order_id", order_id}, {"approve", verdict.approve}, {"client", request.client}});
  std::optional<Decision> decision;
  ApiResponse failed = CallEngine(verdict, decision);
  if (!decision) return failed;
  json decision_json = DecisionToJsonValue(*decision);
  for (const Reason& reason : decision->reasons) {
    if (reason.code == ReasonCode::k_UNKNOWN_ORDER) {
      return JsonResponse(404, json{{"error", {{"code", "NOT_FOUND"}, {"message", reason.message}}},
                                    {"decision", decision_json}});
    }
    if (reason.code == ReasonCode::k_ORDER_NOT_OPEN) {
      return JsonResponse(409, json{{"error", {{"code", "CONFLICT"}, {"message", reason.message}}},
                                    {"decision", decision_json}});
    }
  }
  return JsonResponse(200, decision_json);
}

}  // namespace wojak::api
