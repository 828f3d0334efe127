// Tests for HTTP source authentication: signatures, timestamp window, nonces, tokens, rate limits.
#include "sidecar/sources/http/http_auth.h"

#include <gtest/gtest.h>

#include "sidecar/sources/http/http_signing.h"

namespace wojak::sidecar::http {
namespace {

constexpr Nanos kNow = 1'700'000'000LL * kNanosPerSecond;
constexpr char kSecret[] = "0123456789abcdef-secret";
constexpr char kTarget[] = "/v1/orders";
constexpr char kBody[] = R"({"account":"ACC1"})";

HttpKey Key(std::string id, std::string secret, int64_t rate = 0) {
  HttpKey key;
  key.id = std::move(id);
  key.secret = std::move(secret);
  auto scope = std::make_shared<AccountScope>();
  scope->accounts.insert("ACC1");
  key.scope = scope;
  key.rate_per_s = rate;
  return key;
}

class HttpAuthTest : public testing::Test {
 protected:
  HttpAuthTest() : clock_(kNow) { options_.keys.push_back(Key("k1", kSecret)); }

  HttpAuthenticator& Auth() {
    if (!auth_) auth_ = std::make_unique<HttpAuthenticator>(options_, clock_);
    return *auth_;
  }

  // Headers signed at the clock's current time (or `at_ms`) with a fresh nonce.
  struct Signed {
    SignedHeaders signed_headers;
    AuthHeaders View() const {
      return {signed_headers.key, signed_headers.timestamp, signed_headers.nonce,
              signed_headers.signature, ""};
    }
  };
  Signed Sign(std::string_view body = kBody, std::string secret = kSecret,
              std::string nonce = RandomHex128()) {
    return {SignRequest("k1", secret, "POST", kTarget, body, clock_.Now() / kNanosPerMilli, nonce)};
  }
  AuthResult Check(const Signed& request, std::string_view body = kBody) {
    return Auth().Authenticate("POST", kTarget, body, request.View());
  }

  ManualClock clock_;
  HttpAuthOptions options_;
  std::unique_ptr<HttpAuthenticator> auth_;
};

TEST_F(HttpAuthTest, AcceptsAValidSignatureAndReturnsTheKeysScope) {
  AuthResult result = Check(Sign());
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.key_id, "k1");
  ASSERT_NE(result.scope, nullptr);
  EXPECT_TRUE(result.scope->Allows("ACC1"));
  EXPECT_FALSE(result.scope->Allows("ACC2"));
}

TEST_F(HttpAuthTest, RejectsASignatureMadeWithAnotherSecret) {
  AuthResult result = Check(Sign(kBody, "another-secret-of-16+"));
  EXPECT_EQ(result.http_status, 401);
  EXPECT_EQ(result.error, "bad signature");
}

TEST_F(HttpAuthTest, RejectsATamperedBody) {
  AuthResult result = Check(Sign(kBody), R"({"account":"ACC2"})");
  EXPECT_EQ(result.http_status, 401);
}

TEST_F(HttpAuthTest, RejectsAnUnknownKey) {
  Signed request = Sign();
  request.signed_headers.key = "nobody";
  EXPECT_EQ(Check(request).http_status, 401);
}

TEST_F(HttpAuthTest, RejectsMissingHeaders) {
  EXPECT_EQ(Auth().Authenticate("POST", kTarget, kBody, AuthHeaders{}).http_status, 401);
}

TEST_F(HttpAuthTest, RejectsATimestampOlderThanTheWindow) {
  Signed request = Sign();
  clock_.Advance(5001 * kNanosPerMilli);
  AuthResult result = Check(request);
  EXPECT_EQ(result.http_status, 401);
  EXPECT_NE(result.error.find("window"), std::string::npos);
}

TEST_F(HttpAuthTest, RejectsATimestampFromTheFuture) {
  clock_.Advance(6 * kNanosPerSecond);
  Signed request = Sign();
  clock_.Set(kNow);
  EXPECT_EQ(Check(request).http_status, 401);
}

// Found by tests/fuzz/http_auth_fuzz: the skew was a signed difference that overflowed for
// INT64_MIN and wrapped into the window.
TEST_F(HttpAuthTest, RejectsTheMostNegativeTimestamp) {
  SignedHeaders signed_headers =
      SignRequest("k1", kSecret, "POST", kTarget, kBody, INT64_MIN, RandomHex128());
  AuthResult result = Check(Signed{signed_headers});
  EXPECT_EQ(result.http_status, 401);
  EXPECT_NE(result.error.find("window"), std::string::npos) << result.error;
}

TEST_F(HttpAuthTest, RejectsAReplayedNonce) {
  Signed request = Sign();
  ASSERT_TRUE(Check(request).ok());
  AuthResult replay = Check(request);
  EXPECT_EQ(replay.http_status, 401);
  EXPECT_NE(replay.error.find("nonce"), std::string::npos);
}

TEST_F(HttpAuthTest, RejectsAShortNonce) {
  EXPECT_EQ(Check(Sign(kBody, kSecret, "short")).http_status, 401);
}

TEST_F(HttpAuthTest, RefusesWhenTheNonceCacheIsFullUntilNoncesExpire) {
  options_.nonce_cache_size = 2;
  ASSERT_TRUE(Check(Sign()).ok());
  ASSERT_TRUE(Check(Sign()).ok());
  AuthResult full = Check(Sign());
  EXPECT_EQ(full.http_status, 503);
  clock_.Advance(10 * kNanosPerSecond);
  EXPECT_TRUE(Check(Sign()).ok());
}

TEST_F(HttpAuthTest, AcceptsAKnownBearerTokenOnly) {
  options_.mode = AuthMode::kBearer;
  AuthHeaders good;
  std::string header = std::string("Bearer ") + kSecret;
  good.authorization = header;
  EXPECT_TRUE(Auth().Authenticate("POST", kTarget, kBody, good).ok());
  AuthHeaders bad;
  bad.authorization = "Bearer not-the-token-at-all";
  EXPECT_EQ(Auth().Authenticate("POST", kTarget, kBody, bad).http_status, 401);
  EXPECT_EQ(Auth().Authenticate("POST", kTarget, kBody, AuthHeaders{}).http_status, 401);
}

TEST_F(HttpAuthTest, ModeNoneAllowsEveryAccount) {
  options_.mode = AuthMode::kNone;
  AuthResult result = Auth().Authenticate("POST", kTarget, kBody, AuthHeaders{});
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.scope->Allows("ANY"));
}

TEST_F(HttpAuthTest, RateLimitRefusesBeyondTheRateAndRefillsOverTime) {
  options_.keys[0].rate_per_s = 10;
  AuthResult first = Auth().ChargeRate(Check(Sign()), 10);
  ASSERT_TRUE(first.ok());
  AuthResult limited = Auth().ChargeRate(Check(Sign()), 1);
  EXPECT_EQ(limited.http_status, 429);
  EXPECT_GT(limited.retry_after.count(), 0);
  clock_.Advance(kNanosPerSecond / 10);
  EXPECT_TRUE(Auth().ChargeRate(Check(Sign()), 1).ok());
}

TEST(HttpSigningTest, CanonicalStringCoversEveryPart) {
  EXPECT_EQ(CanonicalString("POST", "/v1/orders", "1700000000000", "n0nce", "k1", ""),
            "WOJAK-HMAC-SHA256\nPOST\n/v1/orders\n1700000000000\nn0nce\nk1\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HttpSigningTest, HmacMatchesTheRfc4231TestVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace wojak::sidecar::http
