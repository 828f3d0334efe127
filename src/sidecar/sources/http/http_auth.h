// Authentication for the HTTP source: HMAC-signed requests (timestamp window + nonce replay
// cache), bearer tokens, or none (loopback only); every key is scoped to accounts and rate limited.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "sidecar/source.h"

namespace wojak::sidecar::http {

enum class AuthMode : uint8_t { kHmac, kBearer, kNone };

struct HttpKey {
  std::string id;
  std::string secret;  // the HMAC key (kHmac) or the token itself (kBearer)
  std::shared_ptr<const AccountScope> scope;
  int64_t rate_per_s = 0;  // orders per second, bursts up to one second's worth; 0 = unlimited
};

struct HttpAuthOptions {
  AuthMode mode = AuthMode::kHmac;
  // A signed request's timestamp must be within this of the server's clock (either way).
  std::chrono::milliseconds timestamp_window{5000};
  // Nonces seen within the last 2 * timestamp_window; when full, signed requests are refused
  // (503) rather than forgetting a nonce that could then be replayed.
  size_t nonce_cache_size = 500000;
  std::vector<HttpKey> keys;
};

// The credential headers of one request, as received (empty when absent).
struct AuthHeaders {
  std::string_view key;
  std::string_view timestamp;
  std::string_view nonce;
  std::string_view signature;
  std::string_view authorization;
};

struct AuthResult {
  int http_status = 200;                     // 200 = authenticated; 401, 429 or 503 otherwise
  std::string error;                         // for the response body; never contains a secret
  std::chrono::milliseconds retry_after{0};  // 429 / 503
  std::string key_id;
  std::shared_ptr<const AccountScope> scope;
  bool ok() const { return http_status == 200; }
};

// Thread-safe. `clock` gives wall time for timestamps and monotonic time for rate limits.
class HttpAuthenticator {
 public:
  HttpAuthenticator(HttpAuthOptions options, const Clock& clock);

  // Checks the credentials (and, for signed requests, records the nonce).
  AuthResult Authenticate(std::string_view method, std::string_view target, std::string_view body,
                          const AuthHeaders& headers);
  // Charges `orders` to the authenticated key's rate limit; 429 with retry_after when exceeded.
  AuthResult ChargeRate(AuthResult authenticated, int64_t orders);

  AuthMode mode() const { return options_.mode; }

 private:
  struct KeyState {
    HttpKey key;
    std::mutex mutex;
    int64_t micro_tokens = 0;  // 1e6 per order
    Nanos refilled_at = 0;
  };

  AuthResult AuthenticateHmac(std::string_view method, std::string_view target,
                              std::string_view body, const AuthHeaders& headers,
                              KeyState*& key_state);
  AuthResult AuthenticateBearer(const AuthHeaders& headers, KeyState*& key_state);
  // False when the nonce was seen before (a replay); sets `full` when nothing can be recorded.
  bool RecordNonce(std::string_view key_id, std::string_view nonce, bool& full);
  bool TakeTokens(KeyState& state, int64_t orders, std::chrono::milliseconds& retry_after);

  const HttpAuthOptions options_;
  const Clock& clock_;
  std::unordered_map<std::string, std::unique_ptr<KeyState>> keys_by_id_;
  std::unordered_map<std::string, KeyState*> keys_by_token_digest_;  // kBearer

  std::mutex nonce_mutex_;
  std::unordered_set<uint64_t> nonces_;
  std::deque<std::pair<Nanos, uint64_t>> nonce_expiry_;  // in arrival order = expiry order
  std::string nonce_salt_;
};

}  // namespace wojak::sidecar::http
