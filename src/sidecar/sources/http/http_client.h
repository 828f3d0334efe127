// A small synchronous keep-alive client for the HTTP source (HTTP or HTTPS), signing requests the
// way the server checks them. Used by the tests, `wojak bench http` and operators' tooling.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wojak::sidecar::http {

enum class ClientAuth : uint8_t { kHmac, kBearer, kNone };

struct HttpClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  bool tls = false;
  // With TLS: verify the server against this CA file (PEM); empty = do not verify (tests only).
  std::string ca_file;
  ClientAuth auth = ClientAuth::kHmac;
  std::string key_id;  // kHmac
  std::string secret;  // kHmac: the key's secret; kBearer: the token
  std::chrono::milliseconds timeout{30000};
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  static StatusOr<std::unique_ptr<HttpClient>> Connect(const HttpClientOptions& options);
  virtual ~HttpClient() = default;

  // Signs (per options.auth) and sends one request on the kept-alive connection, reconnecting
  // once if the server had closed it. `extra_headers` are added as given (they may override the
  // signature headers, for tests of bad credentials).
  virtual StatusOr<HttpResult> Request(std::string_view method, std::string_view target,
                                       std::string_view body,
                                       const HttpHeaders& extra_headers = {}) = 0;
  StatusOr<HttpResult> Post(std::string_view target, std::string_view body,
                            const HttpHeaders& extra_headers = {}) {
    return Request("POST", target, body, extra_headers);
  }
  StatusOr<HttpResult> Get(std::string_view target) { return Request("GET", target, ""); }
};

// The headers a signed request needs right now (fresh timestamp and nonce).
HttpHeaders SignedRequestHeaders(std::string_view key_id, std::string_view secret,
                                 std::string_view method, std::string_view target,
                                 std::string_view body);

}  // namespace wojak::sidecar::http
