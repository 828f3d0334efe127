// Token checks for the REST API.
#include "api/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>

namespace wojak::api {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest_a{};
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest_b{};
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), digest_a.data());
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), digest_b.data());
  return CRYPTO_memcmp(digest_a.data(), digest_b.data(), digest_a.size()) == 0;
}

TokenAuthenticator::TokenAuthenticator(std::optional<std::string> read_token,
                                       std::optional<std::string> rms_token,
                                       std::optional<std::string> admin_token)
    : read_token_(std::move(read_token)),
      rms_token_(std::move(rms_token)),
      admin_token_(std::move(admin_token)) {}

AuthResult TokenAuthenticator::Authenticate(std::optional<std::string_view> authorization) const {
  if (!authorization) return {read_token_ ? Access::kNone : Access::kRead, false};
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view value = *authorization;
  if (value.size() <= kScheme.size() || value.substr(0, kScheme.size()) != kScheme) {
    return {Access::kNone, true};
  }
  const std::string_view token = value.substr(kScheme.size());
  // Every configured token is compared, so the time taken does not tell which one matched.
  const bool admin = admin_token_ && ConstantTimeEquals(token, *admin_token_);
  const bool rms = rms_token_ && ConstantTimeEquals(token, *rms_token_);
  const bool read = read_token_ && ConstantTimeEquals(token, *read_token_);
  if (admin) return {Access::kAdmin, false};
  if (rms) return {Access::kRms, false};
  if (read) return {Access::kRead, false};
  return {Access::kNone, true};
}

}  // namespace wojak::api
