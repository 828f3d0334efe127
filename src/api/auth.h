// Bearer-token access levels of the REST API, with constant-time token comparison.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wojak::api {

// Ordered: each level may do everything the ones below it may.
enum class Access : uint8_t { kNone, kRead, kRms, kAdmin };

struct AuthResult {
  Access access = Access::kNone;
  // A token was presented but matched none (or the header was not "Bearer <token>"): 401 even
  // where anonymous access would do, so a misconfigured client notices.
  bool bad_credentials = false;
};

class TokenAuthenticator {
 public:
  TokenAuthenticator(std::optional<std::string> read_token, std::optional<std::string> rms_token,
                     std::optional<std::string> admin_token);

  // `authorization` is the Authorization header's value, nullopt when absent. Without a header
  // the access is kRead when no read token is configured, kNone otherwise.
  AuthResult Authenticate(std::optional<std::string_view> authorization) const;
  bool admin_enabled() const { return admin_token_.has_value(); }

 private:
  std::optional<std::string> read_token_;
  std::optional<std::string> rms_token_;
  std::optional<std::string> admin_token_;
};

// Compares in time that depends on neither content nor length (both sides are hashed first,
// then the digests compared with CRYPTO_memcmp).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace wojak::api
