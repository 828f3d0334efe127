// SHA-256 entry hashing (OpenSSL EVP) and streaming chain verification.
#include "journal/hash_chain.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace wojak {
namespace {

void AppendLittleEndian(std::string& out, uint64_t value, int bytes) {
  char encoded[8];
  for (int i = 0; i < bytes; ++i) encoded[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(encoded, static_cast<size_t>(bytes));
}

void AppendLengthPrefixed(std::string& out, std::string_view field) {
  AppendLittleEndian(out, field.size(), 4);
  out.append(field);
}

}  // namespace

EntryHasher::EntryHasher()
    : context_(EVP_MD_CTX_new()), sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
  // Without a digest the journal cannot work at all; there is no meaningful way to continue.
  if (context_ == nullptr || sha256_ == nullptr) std::abort();
  buffer_.reserve(512);
}

EntryHasher::~EntryHasher() {
  EVP_MD_free(sha256_);
  EVP_MD_CTX_free(context_);
}

Hash EntryHasher::Compute(const Hash& prev_hash, const Entry& entry) {
  buffer_.clear();
  buffer_.append(reinterpret_cast<const char*>(prev_hash.data()), prev_hash.size());
  AppendLittleEndian(buffer_, entry.seq, 8);
  AppendLittleEndian(buffer_, static_cast<uint64_t>(entry.time_ns), 8);
  AppendLittleEndian(buffer_, static_cast<uint8_t>(entry.kind), 1);
  AppendLengthPrefixed(buffer_, entry.account);
  AppendLengthPrefixed(buffer_, entry.client_order_id);
  AppendLengthPrefixed(buffer_, entry.payload);

  Hash hash{};
  unsigned int length = 0;
  if (EVP_DigestInit_ex2(context_, sha256_, nullptr) != 1 ||
      EVP_DigestUpdate(context_, buffer_.data(), buffer_.size()) != 1 ||
      EVP_DigestFinal_ex(context_, hash.data(), &length) != 1 || length != hash.size()) {
    std::abort();  // SHA-256 over a memory buffer cannot fail short of a broken OpenSSL
  }
  return hash;
}

Status ChainVerifier::Check(const Entry& entry) {
  if (entry.seq != last_seq_ + 1) {
    return DataLoss("entry seq " + std::to_string(entry.seq) + " follows seq " +
                    std::to_string(last_seq_) + " (expected seq " + std::to_string(last_seq_ + 1) +
                    ")");
  }
  if (entry.prev_hash != last_hash_) {
    return DataLoss("entry seq " + std::to_string(entry.seq) +
                    ": prev_hash does not match the hash of seq " + std::to_string(last_seq_));
  }
  Hash expected = hasher_.Compute(last_hash_, entry);
  if (entry.hash != expected) {
    return DataLoss("entry seq " + std::to_string(entry.seq) +
                    ": stored hash does not match its content (content or hash altered)");
  }
  last_seq_ = entry.seq;
  last_hash_ = expected;
  return OkStatus();
}

std::string HashToHex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(hash.size() * 2);
  for (uint8_t byte : hash) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xf]);
  }
  return hex;
}

}  // namespace wojak
