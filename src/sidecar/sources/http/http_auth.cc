// HTTP source authentication. Failures say which check failed but never echo a secret; digests
// are compared in constant time.
#include "sidecar/sources/http/http_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "sidecar/sources/http/http_signing.h"

namespace wojak::sidecar::http {
namespace {

constexpr int64_t kMicroTokensPerOrder = 1'000'000;
constexpr size_t kMinNonceLength = 16;
constexpr size_t kMaxNonceLength = 64;
constexpr std::string_view kBearerPrefix = "Bearer ";

std::string Sha256Bytes(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool IsNonceCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

AuthResult Unauthorized(std::string error) {
  AuthResult result;
  result.http_status = 401;
  result.error = std::move(error);
  return result;
}

}  // namespace

HttpAuthenticator::HttpAuthenticator(HttpAuthOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), nonce_salt_(RandomHex128()) {
  for (const HttpKey& key : options_.keys) {
    auto state = std::make_unique<KeyState>();
    state->key = key;
    state->micro_tokens = key.rate_per_s * kMicroTokensPerOrder;
    state->refilled_at = clock_.Monotonic();
    if (options_.mode == AuthMode::kBearer) {
      keys_by_token_digest_[Sha256Bytes(key.secret)] = state.get();
    }
    keys_by_id_[key.id] = std::move(state);
  }
}

AuthResult HttpAuthenticator::Authenticate(std::string_view method, std::string_view target,
                                           std::string_view body, const AuthHeaders& headers) {
  KeyState* key_state = nullptr;
  AuthResult result;
  switch (options_.mode) {
    case AuthMode::kNone: {
      auto scope = std::make_shared<AccountScope>();
      scope->any_account = true;
      result.scope = std::move(scope);
      return result;
    }
    case AuthMode::kHmac:
      result = AuthenticateHmac(method, target, body, headers, key_state);
      break;
    case AuthMode::kBearer:
      result = AuthenticateBearer(headers, key_state);
      break;
  }
  if (!result.ok()) return result;
  result.key_id = key_state->key.id;
  result.scope = key_state->key.scope;
  return result;
}

AuthResult HttpAuthenticator::ChargeRate(AuthResult authenticated, int64_t orders) {
  auto it = keys_by_id_.find(authenticated.key_id);
  if (!authenticated.ok() || it == keys_by_id_.end()) return authenticated;
  KeyState& key_state = *it->second;
  std::chrono::milliseconds retry_after{0};
  if (TakeTokens(key_state, orders, retry_after)) return authenticated;
  AuthResult limited;
  limited.http_status = 429;
  limited.error = "rate limit of key '" + key_state.key.id + "' exceeded (" +
                  std::to_string(key_state.key.rate_per_s) + " orders/s)";
  limited.retry_after = retry_after;
  return limited;
}

AuthResult HttpAuthenticator::AuthenticateHmac(std::string_view method, std::string_view target,
                                               std::string_view body, const AuthHeaders& headers,
                                               KeyState*& key_state) {
  if (headers.key.empty() || headers.timestamp.empty() || headers.nonce.empty() ||
      headers.signature.empty()) {
    return Unauthorized(
        "signed request required: X-Wojak-Key, X-Wojak-Timestamp, X-Wojak-Nonce and "
        "X-Wojak-Signature headers");
  }
  auto it = keys_by_id_.find(std::string(headers.key));
  if (it == keys_by_id_.end()) return Unauthorized("unknown key");
  key_state = it->second.get();

  int64_t timestamp_ms = 0;
  auto [end, ec] = std::from_chars(
      headers.timestamp.data(), headers.timestamp.data() + headers.timestamp.size(), timestamp_ms);
  if (ec != std::errc() || end != headers.timestamp.data() + headers.timestamp.size()) {
    return Unauthorized("X-Wojak-Timestamp must be Unix time in milliseconds");
  }
  const int64_t now_ms = clock_.Now() / kNanosPerMilli;
  // In uint64_t: the distance between any two int64_t values fits, whereas a signed difference
  // overflows for extreme timestamps (INT64_MIN) and could wrap into the window.
  const uint64_t skew_ms =
      timestamp_ms > now_ms ? static_cast<uint64_t>(timestamp_ms) - static_cast<uint64_t>(now_ms)
                            : static_cast<uint64_t>(now_ms) - static_cast<uint64_t>(timestamp_ms);
  if (skew_ms > static_cast<uint64_t>(options_.timestamp_window.count())) {
    return Unauthorized("X-Wojak-Timestamp is " + std::to_string(skew_ms) +
                        " ms from the server's clock (window " +
                        std::to_string(options_.timestamp_window.count()) + " ms)");
  }
  if (headers.nonce.size() < kMinNonceLength || headers.nonce.size() > kMaxNonceLength ||
      !std::all_of(headers.nonce.begin(), headers.nonce.end(), IsNonceCharacter)) {
    return Unauthorized("X-Wojak-Nonce must be 16 to 64 characters of [A-Za-z0-9_-]");
  }
  const std::string expected = HmacSha256Hex(
      key_state->key.secret,
      CanonicalString(method, target, headers.timestamp, headers.nonce, headers.key, body));
  if (!ConstantTimeEquals(expected, headers.signature)) return Unauthorized("bad signature");

  // Only authentic requests reach the cache, so nobody can fill it without a key.
  bool full = false;
  if (!RecordNonce(headers.key, headers.nonce, full)) {
    if (full) {
      AuthResult busy;
      busy.http_status = 503;
      busy.error = "nonce cache full; retry shortly";
      busy.retry_after = std::chrono::milliseconds(1000);
      return busy;
    }
    return Unauthorized("nonce already used (replayed request)");
  }
  return AuthResult{};
}

AuthResult HttpAuthenticator::AuthenticateBearer(const AuthHeaders& headers, KeyState*& key_state) {
  if (headers.authorization.substr(0, kBearerPrefix.size()) != kBearerPrefix) {
    return Unauthorized("Authorization: Bearer <token> required");
  }
  // Looking up the token's digest leaks nothing about the token; the map compares digests.
  auto it =
      keys_by_token_digest_.find(Sha256Bytes(headers.authorization.substr(kBearerPrefix.size())));
  if (it == keys_by_token_digest_.end()) return Unauthorized("unknown token");
  key_state = it->second;
  return AuthResult{};
}

bool HttpAuthenticator::RecordNonce(std::string_view key_id, std::string_view nonce, bool& full) {
  // A salted digest: fixed-size entries, and senders cannot aim collisions at other keys.
  std::string input = nonce_salt_;
  input.append(key_id).append("\n").append(nonce);
  const std::string digest = Sha256Bytes(input);
  uint64_t fingerprint = 0;
  std::memcpy(&fingerprint, digest.data(), sizeof fingerprint);

  const Nanos now = clock_.Now();
  std::lock_guard lock(nonce_mutex_);
  while (!nonce_expiry_.empty() && nonce_expiry_.front().first <= now) {
    nonces_.erase(nonce_expiry_.front().second);
    nonce_expiry_.pop_front();
  }
  if (nonces_.count(fingerprint) != 0) return false;
  if (nonces_.size() >= options_.nonce_cache_size) {
    full = true;
    return false;
  }
  nonces_.insert(fingerprint);
  // A replay is only possible while its timestamp is in the window: at most 2 windows from now.
  nonce_expiry_.emplace_back(now + 2 * options_.timestamp_window.count() * kNanosPerMilli,
                             fingerprint);
  return true;
}

bool HttpAuthenticator::TakeTokens(KeyState& state, int64_t orders,
                                   std::chrono::milliseconds& retry_after) {
  const int64_t rate = state.key.rate_per_s;
  if (rate <= 0) return true;
  const int64_t capacity = rate * kMicroTokensPerOrder;
  // A batch larger than the burst waits for a full bucket instead of being refused forever.
  const int64_t cost = std::min(orders * kMicroTokensPerOrder, capacity);
  std::lock_guard lock(state.mutex);
  const Nanos now = clock_.Monotonic();
  // Refill: rate orders per second = rate * 1e6 micro-tokens per 1e9 ns. Capped elapsed time
  // keeps the product far from overflow.
  const Nanos elapsed = std::min<Nanos>(now - state.refilled_at, 10 * kNanosPerSecond);
  state.micro_tokens = std::min(capacity, state.micro_tokens + elapsed * rate / 1000);
  state.refilled_at = now;
  if (state.micro_tokens >= cost) {
    state.micro_tokens -= cost;
    return true;
  }
  const int64_t missing = cost - state.micro_tokens;
  retry_after = std::chrono::milliseconds(std::max<int64_t>(1, missing / rate / 1000 + 1));
  return false;
}

}  // namespace wojak::sidecar::http
