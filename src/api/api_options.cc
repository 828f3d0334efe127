// Reading the `api:` section.
#include "api/api_options.h"

#include <charconv>

namespace wojak::api {

ApiOptions ReadApiOptions(ConfigSection api) {
  ApiOptions o;
  o.enabled = api.Bool("enabled", o.enabled,
                       "Serve the query/admin REST API, /metrics, /healthz and /readyz.");
  o.listen = api.String("listen", o.listen,
                        "HOST:PORT to listen on (port 0: any free port, logged as api_listening).");
  if (!SplitHostPort(o.listen).ok())
    api.Error("listen", "expected HOST:PORT, got '" + o.listen + "'");
  o.threads =
      static_cast<int>(api.Int("threads", o.threads, "I/O threads of the API server.", 1, 64));
  o.read_token =
      api.Secret("read_token", "Bearer token for the read endpoints; unset = reads need no token.");
  o.rms_token = api.Secret("rms_token",
                           "Bearer token of the heavy RMS: may post escalation verdicts and read.");
  o.admin_token = api.Secret(
      "admin_token",
      "Bearer token for halt/resume/reload and verdicts; unset = admin endpoints answer 403.");
  o.max_body_bytes =
      static_cast<size_t>(api.Int("max_body_bytes", static_cast<int64_t>(o.max_body_bytes),
                                  "Larger request bodies are refused with 413.", 1, 16 << 20));
  o.max_header_bytes =
      static_cast<size_t>(api.Int("max_header_bytes", static_cast<int64_t>(o.max_header_bytes),
                                  "Larger request headers are refused with 431.", 512, 1 << 20));
  o.max_connections =
      static_cast<int>(api.Int("max_connections", o.max_connections,
                               "Open connections beyond it are closed at once.", 1, 1 << 20));
  o.rate_limit_per_second =
      api.Int("rate_limit_per_second", o.rate_limit_per_second,
              "Sustained /v1/ requests per second per client address; beyond it 429.", 1, 1 << 30);
  o.rate_limit_burst =
      api.Int("rate_limit_burst", o.rate_limit_burst,
              "Requests a client may make at once before the rate applies.", 1, 1 << 30);
  o.idle_timeout = api.Duration("idle_timeout", o.idle_timeout,
                                "A keep-alive connection idle this long is closed.");
  o.engine_timeout = api.Duration("engine_timeout", o.engine_timeout,
                                  "Longest wait for the engine's reply to an admin or verdict "
                                  "request (then 503).");
  return o;
}

StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return InvalidArgument("expected HOST:PORT, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  const char* begin = listen.data() + colon + 1;
  const char* end = listen.data() + listen.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port > 65535) {
    return InvalidArgument("expected HOST:PORT with a port 0-65535, got '" + listen + "'");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace wojak::api
