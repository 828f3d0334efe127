// Options of the query/admin REST API (the `api:` configuration section).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace wojak::api {

struct ApiOptions {
  bool enabled = true;
  // HOST:PORT on which the API listens. Port 0 picks a free one (logged as api_listening).
  // Not 8080: that is the HTTP source's default, and both often run on one host.
  std::string listen = "127.0.0.1:8081";
  int threads = 2;
  // Bearer tokens. Without read_token the read endpoints are open (the default listen address is
  // loopback); without admin_token the admin endpoints answer 403. rms_token may only post
  // escalation verdicts (and read); admin_token may do everything.
  std::optional<std::string> read_token;
  std::optional<std::string> rms_token;
  std::optional<std::string> admin_token;
  size_t max_body_bytes = 64 * 1024;
  size_t max_header_bytes = 8 * 1024;
  int max_connections = 256;
  // Per client address, a token bucket over /v1/ requests (probes and /metrics are exempt).
  int64_t rate_limit_per_second = 100;
  int64_t rate_limit_burst = 200;
  std::chrono::milliseconds idle_timeout{30000};
  // How long an admin or verdict request waits for the engine's reply.
  std::chrono::milliseconds engine_timeout{5000};
};

// Reads `api:`; violations go to the document's errors.
ApiOptions ReadApiOptions(ConfigSection api);

// "127.0.0.1:8080" -> host and port. INVALID_ARGUMENT naming the text otherwise.
StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& listen);

}  // namespace wojak::api
