// One kept-alive HTTP/1.1 connection of a torture client, with a deadline on every exchange and
// no hidden resend: a request either gets its answer or fails, and the caller decides what next.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace wojak::torture {

struct HttpAnswer {
  int status = 0;    // 0: no answer (refused, reset, closed or timed out)
  std::string body;  // the response body, or what went wrong when status is 0
};

class HttpConnection {
 public:
  HttpConnection(std::string host, uint16_t port, std::chrono::milliseconds timeout);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Connects first when no connection is open; any failure closes it.
  HttpAnswer Exchange(const std::string& method, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& body);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wojak::torture
