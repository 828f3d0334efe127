// Tests for entry hashing and streaming chain verification.
#include "journal/hash_chain.h"

#include <gtest/gtest.h>

#include "journal/test_util.h"

namespace wojak {
namespace {

Entry GoldenEntry() {
  Entry entry;
  entry.seq = 1;
  entry.time_ns = 1'700'000'000'000'000'000;
  entry.kind = EntryKind::kNewOrder;
  entry.account = "ACC1";
  entry.client_order_id = "s1-000001";
  entry.payload = "payload";
  return entry;
}

// Pins the hashed byte layout documented in hash_chain.h; the expected value was computed with
// Python's hashlib over the same bytes, so another language can check a journal independently.
TEST(EntryHasherTest, MatchesTheDocumentedByteLayout) {
  EntryHasher hasher;
  EXPECT_EQ(HashToHex(hasher.Compute(kGenesisHash, GoldenEntry())),
            "763ffb17c37c0f2866b7c8161bebe923e0d5ae1c3d0505f386d88b74e5e276b9");
}

TEST(EntryHasherTest, FieldBoundariesAreUnambiguous) {
  EntryHasher hasher;
  Entry a = GoldenEntry();
  Entry b = GoldenEntry();
  a.account = "AB";
  a.client_order_id = "C";
  b.account = "A";
  b.client_order_id = "BC";
  EXPECT_NE(hasher.Compute(kGenesisHash, a), hasher.Compute(kGenesisHash, b));
}

TEST(EntryHasherTest, DependsOnPrevHash) {
  EntryHasher hasher;
  Hash other{};
  other[0] = 1;
  EXPECT_NE(hasher.Compute(kGenesisHash, GoldenEntry()), hasher.Compute(other, GoldenEntry()));
}

std::vector<Entry> Chain(size_t count) {
  std::vector<Entry> entries = testing::SampleEntries(1, count);
  EntryHasher hasher;
  Hash prev = kGenesisHash;
  for (Entry& entry : entries) {
    entry.prev_hash = prev;
    entry.hash = hasher.Compute(prev, entry);
    prev = entry.hash;
  }
  return entries;
}

TEST(ChainVerifierTest, AcceptsAnIntactChain) {
  ChainVerifier verifier(0, kGenesisHash);
  std::vector<Entry> entries = Chain(5);
  for (const Entry& entry : entries) ASSERT_TRUE(verifier.Check(entry).ok());
  EXPECT_EQ(verifier.last_seq(), 5u);
  EXPECT_EQ(verifier.last_hash(), entries.back().hash);
}

TEST(ChainVerifierTest, AlteredPayloadIsDataLossNamingTheSeq) {
  std::vector<Entry> entries = Chain(5);
  entries[2].payload[0] ^= 1;
  ChainVerifier verifier(0, kGenesisHash);
  ASSERT_TRUE(verifier.Check(entries[0]).ok());
  ASSERT_TRUE(verifier.Check(entries[1]).ok());
  Status status = verifier.Check(entries[2]);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("seq 3"), std::string::npos) << status.ToString();
}

TEST(ChainVerifierTest, MissingEntryIsDataLossNamingTheGap) {
  std::vector<Entry> entries = Chain(5);
  ChainVerifier verifier(0, kGenesisHash);
  ASSERT_TRUE(verifier.Check(entries[0]).ok());
  Status status = verifier.Check(entries[2]);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("expected seq 2"), std::string::npos) << status.ToString();
}

TEST(ChainVerifierTest, RehashedEntryStillBreaksTheNextLink) {
  // Someone edits entry 2 and recomputes its hash: entry 3's prev_hash no longer matches.
  std::vector<Entry> entries = Chain(3);
  entries[1].payload = "forged";
  EntryHasher hasher;
  entries[1].hash = hasher.Compute(entries[1].prev_hash, entries[1]);
  ChainVerifier verifier(0, kGenesisHash);
  ASSERT_TRUE(verifier.Check(entries[0]).ok());
  ASSERT_TRUE(verifier.Check(entries[1]).ok());
  Status status = verifier.Check(entries[2]);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("seq 3: prev_hash"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace wojak
