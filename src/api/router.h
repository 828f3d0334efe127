// The REST API's request handling, independent of the HTTP transport: routing, 404/405, rate
// limits, bearer-token access, query validation and every endpoint's response.
//
//   GET  /healthz /readyz /metrics
//   GET  /v1/orders?account=&status=&since_seq=&limit=   /v1/orders/{order_id}
//   GET  /v1/trades?account=&order_id=&since_seq=&limit=  /v1/positions?account=
//   GET  /v1/ticks?symbols=A,B   /v1/limits   /v1/state
//   POST /v1/admin/halt|resume {"scope":"global|account|strategy","target":"..."}
//   POST /v1/admin/reload
//   POST /v1/escalations/{order_id}/verdict {"approve":true|false,"reason":"..."}
//
// Errors are {"error":{"code":"NOT_FOUND","message":"..."}}.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/api_options.h"
#include "api/auth.h"
#include "api/engine_requester.h"
#include "api/rate_limiter.h"
#include "common/clock.h"
#include "engine/engine.h"
#include "engine/tick_store.h"
#include "journal/query.h"

namespace wojak::api {

struct ApiRequest {
  std::string method;                        // "GET"
  std::string target;                        // path and query: "/v1/orders?limit=5"
  std::optional<std::string> authorization;  // the Authorization header, if any
  std::string body;
  std::string client;  // the peer's address: the rate limit's key
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Allow, Retry-After, ...
};

// The error body for `code` ("NOT_FOUND") and the HTTP status it goes with.
ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message);

class ApiRouter {
 public:
  // Reads come from `orders` (a read-only connection to the journal) and the tick store at
  // `ticks_path` (opened once the engine has written it), state from `engine`'s thread-safe
  // views, and halt/resume/verdicts go through `requester` to the engine's sequencer.
  ApiRouter(const ApiOptions& options, Engine& engine, std::unique_ptr<JournalQuery> orders,
            std::string ticks_path, std::unique_ptr<EngineRequester> requester, const Clock& clock);
  ~ApiRouter();

  // Thread-safe.
  ApiResponse Handle(const ApiRequest& request);

 private:
  struct Route;
  struct Query;
  ApiResponse Dispatch(const Route& route, const std::vector<std::string>& params,
                       const Query& query, const ApiRequest& request);
  ApiResponse Readyz();
  ApiResponse ListOrders(const Query& query);
  ApiResponse GetOrder(const std::string& order_id, const Query& query);
  ApiResponse ListTrades(const Query& query);
  ApiResponse ListPositions(const Query& query);
  ApiResponse ListTicks(const Query& query);
  ApiResponse Limits(const Query& query);
  ApiResponse State(const Query& query);
  ApiResponse Admin(AdminAction action, const ApiRequest& request);
  ApiResponse Reload(const ApiRequest& request);
  ApiResponse Verdict(const std::string& order_id, const ApiRequest& request);
  // The engine's answer to an admin request or verdict; nullopt in `error` cases (503).
  ApiResponse CallEngine(const Request& request, std::optional<Decision>& decision);

  const ApiOptions options_;
  Engine& engine_;
  std::unique_ptr<JournalQuery> orders_;
  const std::string ticks_path_;
  std::mutex ticks_mu_;
  std::unique_ptr<TickStore> ticks_;  // guarded by ticks_mu_; null until the file exists
  std::unique_ptr<EngineRequester> requester_;
  TokenAuthenticator auth_;
  RateLimiter rate_limiter_;
  std::vector<Route> routes_;
};

}  // namespace wojak::api
