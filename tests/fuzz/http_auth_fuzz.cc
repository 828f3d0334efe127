// Fuzzes the HTTP source's request authentication. The input is newline-separated: key id,
// timestamp, nonce, signature, Authorization header, method, target, then the body. A signature
// of "SIGN" is replaced by the correct one, so the fuzzer also explores what follows a valid
// signature (timestamp window, nonce replay cache). Properties: an HMAC request is accepted only
// with the right signature, a replayed one never; no error message echoes a secret.
#include <charconv>
#include <vector>

#include "common/clock.h"
#include "fuzz/fuzz_check.h"
#include "sidecar/sources/http/http_auth.h"
#include "sidecar/sources/http/http_signing.h"

namespace wojak::sidecar::http {
namespace {

constexpr std::string_view kKeyId = "strategy-1";
constexpr std::string_view kSecret = "fuzz-secret-0123456789abcdef";
constexpr std::string_view kToken = "fuzz-token-0123456789abcdef";
// 2023-11-14T22:13:20Z, the clock every input sees.
constexpr Nanos kNow = 1'700'000'000'000 * kNanosPerMilli;
constexpr std::string_view kSignPlaceholder = "SIGN";
constexpr int64_t kWindowMs = 5000;

HttpAuthOptions Options(AuthMode mode) {
  HttpAuthOptions options;
  options.mode = mode;
  options.timestamp_window = std::chrono::milliseconds(kWindowMs);
  options.nonce_cache_size = 4;
  auto scope = std::make_shared<AccountScope>();
  scope->any_account = true;
  options.keys.push_back(
      {std::string(kKeyId), std::string(mode == AuthMode::kBearer ? kToken : kSecret), scope, 2});
  return options;
}

// Splits off the first `count` lines; the rest is the body.
std::vector<std::string_view> SplitFields(std::string_view input, size_t count) {
  std::vector<std::string_view> fields;
  while (fields.size() < count) {
    size_t end = input.find('\n');
    if (end == std::string_view::npos) {
      fields.push_back(input);
      input = {};
      continue;
    }
    fields.push_back(input.substr(0, end));
    input.remove_prefix(end + 1);
  }
  fields.push_back(input);
  return fields;
}

// Whether `timestamp` is Unix milliseconds within the window around kNow.
bool InWindow(std::string_view timestamp) {
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ms);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return false;
  const int64_t now_ms = kNow / kNanosPerMilli;
  return ms >= now_ms - kWindowMs && ms <= now_ms + kWindowMs;
}

void CheckNoSecretIn(const AuthResult& result) {
  fuzz::Check(result.error.find(kSecret) == std::string::npos, "error echoes the HMAC secret");
  fuzz::Check(result.error.find(kToken) == std::string::npos, "error echoes the bearer token");
}

}  // namespace
}  // namespace wojak::sidecar::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wojak;
  using namespace wojak::sidecar::http;
  std::vector<std::string_view> f = SplitFields(fuzz::AsText(data, size), 7);
  const std::string_view method = f[5], target = f[6], body = f[7];
  AuthHeaders headers{f[0], f[1], f[2], f[3], f[4]};
  const std::string expected_signature = HmacSha256Hex(
      kSecret,
      CanonicalString(method, target, headers.timestamp, headers.nonce, headers.key, body));
  if (headers.signature == kSignPlaceholder) headers.signature = expected_signature;

  ManualClock clock(kNow);
  HttpAuthenticator hmac(Options(AuthMode::kHmac), clock);
  AuthResult first = hmac.Authenticate(method, target, body, headers);
  CheckNoSecretIn(first);
  if (first.ok()) {
    fuzz::Check(headers.key == kKeyId, "accepted with an unknown key");
    fuzz::Check(headers.signature == expected_signature, "accepted with a wrong signature");
    fuzz::Check(InWindow(headers.timestamp), "accepted a timestamp outside the window");
    fuzz::Check(first.key_id == kKeyId && first.scope != nullptr, "accepted without a scope");
    AuthResult replay = hmac.Authenticate(method, target, body, headers);
    fuzz::Check(!replay.ok(), "a replayed request is accepted");
    CheckNoSecretIn(replay);
    for (int orders : {1, 2, 3}) CheckNoSecretIn(hmac.ChargeRate(first, orders));
  }

  HttpAuthenticator bearer(Options(AuthMode::kBearer), clock);
  AuthResult by_token = bearer.Authenticate(method, target, body, headers);
  CheckNoSecretIn(by_token);
  fuzz::Check(!by_token.ok() || headers.authorization == "Bearer " + std::string(kToken),
              "bearer accepted with a wrong token");
  return 0;
}
