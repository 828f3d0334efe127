// HMAC-SHA256 request signing with OpenSSL.
#include "sidecar/sources/http/http_signing.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <random>

namespace wojak::sidecar::http {
namespace {

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string CanonicalString(std::string_view method, std::string_view target,
                            std::string_view timestamp_ms, std::string_view nonce,
                            std::string_view key_id, std::string_view body) {
  std::string canonical = "WOJAK-HMAC-SHA256\n";
  canonical.append(method).append("\n");
  canonical.append(target).append("\n");
  canonical.append(timestamp_ms).append("\n");
  canonical.append(nonce).append("\n");
  canonical.append(key_id).append("\n");
  canonical.append(Sha256Hex(body));
  return canonical;
}

std::string HmacSha256Hex(std::string_view secret, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &length);
  return Hex(mac, length);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return Hex(digest, length);
}

SignedHeaders SignRequest(std::string_view key_id, std::string_view secret, std::string_view method,
                          std::string_view target, std::string_view body, int64_t timestamp_ms,
                          std::string_view nonce) {
  SignedHeaders headers;
  headers.key = key_id;
  headers.timestamp = std::to_string(timestamp_ms);
  headers.nonce = nonce;
  headers.signature = HmacSha256Hex(
      secret, CanonicalString(method, target, headers.timestamp, nonce, key_id, body));
  return headers;
}

std::string RandomHex128() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // RAND_bytes only fails without an entropy source; uniqueness is all a nonce needs here.
    thread_local std::mt19937_64 fallback{std::random_device{}()};
    for (unsigned char& byte : bytes) byte = static_cast<unsigned char>(fallback());
  }
  return Hex(bytes, sizeof bytes);
}

}  // namespace wojak::sidecar::http
