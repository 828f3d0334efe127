// Request signing for the HTTP source (docs/sources/http.md): HMAC-SHA256 over a canonical string
// of method, target, timestamp, nonce, key id and body hash. Used by the server to verify and by
// clients (tests, `bench http`, `wojak sign`) to sign.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wojak::sidecar::http {

inline constexpr std::string_view kKeyHeader = "X-Wojak-Key";
inline constexpr std::string_view kTimestampHeader = "X-Wojak-Timestamp";  // Unix milliseconds
inline constexpr std::string_view kNonceHeader = "X-Wojak-Nonce";
inline constexpr std::string_view kSignatureHeader = "X-Wojak-Signature";  // lowercase hex

// "WOJAK-HMAC-SHA256\n" METHOD "\n" TARGET "\n" TIMESTAMP "\n" NONCE "\n" KEY_ID "\n"
// hex(SHA-256(BODY)). TARGET is the request target exactly as sent (path and query).
std::string CanonicalString(std::string_view method, std::string_view target,
                            std::string_view timestamp_ms, std::string_view nonce,
                            std::string_view key_id, std::string_view body);

// Lowercase hex of HMAC-SHA256(secret, text).
std::string HmacSha256Hex(std::string_view secret, std::string_view text);
// Lowercase hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

struct SignedHeaders {
  std::string key;
  std::string timestamp;
  std::string nonce;
  std::string signature;
};

// Everything a client puts in the four X-Wojak-* headers.
SignedHeaders SignRequest(std::string_view key_id, std::string_view secret, std::string_view method,
                          std::string_view target, std::string_view body, int64_t timestamp_ms,
                          std::string_view nonce);

// 32 random hex digits (a valid nonce and a fresh message identity).
std::string RandomHex128();

}  // namespace wojak::sidecar::http
