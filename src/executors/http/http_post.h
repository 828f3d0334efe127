// A small synchronous HTTP/1.1 POST client (keep-alive, a deadline per attempt, optional TLS),
// shared by the HTTP executor and the engine's outbox webhook sink.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wojak {

struct HttpUrl {
  bool tls = false;
  std::string host;
  uint16_t port = 80;
  std::string target = "/";  // path and query, as sent on the request line
};

// "http://host[:port][/path[?query]]" or "https://...". Anything else (other schemes, user info,
// an empty host, a bad port) is INVALID_ARGUMENT.
StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

struct HttpPostOptions {
  // One attempt (resolve, connect, TLS handshake, write, read) must finish within this.
  std::chrono::milliseconds timeout{5000};
  // https only: CA bundle (PEM) to verify the server with; empty = the system's default CAs.
  std::string ca_file;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

using HttpHeaderList = std::vector<std::pair<std::string, std::string>>;

// One kept-alive connection to one URL. Not thread-safe: give each thread its own.
class HttpPoster {
 public:
  HttpPoster(HttpUrl url, HttpPostOptions options);
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  // POSTs `body` as application/json with `headers`. Any HTTP status is a response (the caller
  // decides what a 500 means); DEADLINE_EXCEEDED when the attempt timed out, UNAVAILABLE when
  // the connection failed. A kept-alive connection the server had closed is retried once on a
  // fresh one, but never after a timeout: the server may still be working on the request.
  StatusOr<HttpResponse> Post(std::string_view body, const HttpHeaderList& headers);

  const HttpUrl& url() const { return url_; }

 private:
  struct Connection;
  HttpUrl url_;
  HttpPostOptions options_;
  std::unique_ptr<Connection> connection_;
};

// Whether a failed attempt (transport error or status) is worth trying again: transport errors,
// 408, 429 and 5xx are; other statuses are answers.
bool IsRetryableHttpStatus(int status);

}  // namespace wojak
