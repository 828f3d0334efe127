// The journal's hash chain: how an entry's SHA-256 is computed and how a run of entries is checked.
#pragma once

#include <string>
#include <string_view>

#include "journal/journal.h"

// OpenSSL's context type, kept out of this header.
struct evp_md_ctx_st;
struct evp_md_st;

namespace wojak {

// prev_hash of the first entry (seq 1).
inline constexpr Hash kGenesisHash{};

// Computes entry hashes. The hashed bytes are, in order (integers little-endian):
//   prev_hash (32 bytes) | seq (u64) | time_ns (i64) | kind (u8)
//   | u32 length + account | u32 length + client_order_id | u32 length + payload
// Length prefixes keep field boundaries unambiguous ("AB"+"C" differs from "A"+"BC"). Reuses its
// buffer and OpenSSL context, so hashing allocates nothing once warm. Not thread-safe.
class EntryHasher {
 public:
  EntryHasher();
  ~EntryHasher();
  EntryHasher(const EntryHasher&) = delete;
  EntryHasher& operator=(const EntryHasher&) = delete;

  // The hash `entry` must carry when it follows an entry whose hash is `prev_hash`. Ignores the
  // entry's own prev_hash/hash fields.
  Hash Compute(const Hash& prev_hash, const Entry& entry);

 private:
  evp_md_ctx_st* context_;
  evp_md_st* sha256_;
  std::string buffer_;
};

// Checks entries one by one as they stream past: seq continues the previous entry, prev_hash
// links to the previous entry's hash, and hash is what EntryHasher computes. Errors are DATA_LOSS
// naming the seq of the first bad entry.
class ChainVerifier {
 public:
  // Expects the entry after (`prev_seq`, `prev_hash`); (0, kGenesisHash) for a whole journal.
  ChainVerifier(Seq prev_seq, const Hash& prev_hash) : last_seq_(prev_seq), last_hash_(prev_hash) {}

  Status Check(const Entry& entry);
  Seq last_seq() const { return last_seq_; }
  const Hash& last_hash() const { return last_hash_; }

 private:
  EntryHasher hasher_;
  Seq last_seq_;
  Hash last_hash_;
};

// Lowercase hex, 64 characters.
std::string HashToHex(const Hash& hash);

}  // namespace wojak
