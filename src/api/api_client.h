// A small synchronous HTTP/1.1 client for the REST API (keep-alive, one request at a time):
// `wojak limits|state` and the tests use it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wojak::api {

struct HttpReply {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The first header named `name` (case-insensitive), empty when absent.
  std::string Header(std::string_view name) const;
};

// "http://127.0.0.1:8080" -> host and port; only plain http.
StatusOr<std::pair<std::string, uint16_t>> ParseHttpUrl(const std::string& url);

class ApiClient {
 public:
  ApiClient(std::string host, uint16_t port,
            std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~ApiClient();

  // Sends one request on the kept-alive connection (reconnecting once if the server closed it).
  // `bearer` empty: no Authorization header. `extra_headers` are added as given.
  StatusOr<HttpReply> Request(
      std::string_view method, std::string_view target, std::string_view body = {},
      std::string_view bearer = {},
      const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
  StatusOr<HttpReply> Get(std::string_view target, std::string_view bearer = {}) {
    return Request("GET", target, {}, bearer);
  }
  StatusOr<HttpReply> Post(std::string_view target, std::string_view body,
                           std::string_view bearer = {}) {
    return Request("POST", target, body, bearer);
  }
  // How many TCP connections this client has opened (tests check keep-alive with it).
  int connections_opened() const { return connections_opened_; }

 private:
  class Connection;
  const std::string host_;
  const uint16_t port_;
  const std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> connection_;
  int connections_opened_ = 0;
};

}  // namespace wojak::api
