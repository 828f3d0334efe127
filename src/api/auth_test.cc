// Bearer-token access levels and the constant-time comparison.
#include "api/auth.h"

#include <gtest/gtest.h>

namespace wojak::api {
namespace {

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("secret-token", "secret-token"));
  EXPECT_FALSE(ConstantTimeEquals("secret-token", "secret-tokeN"));
  EXPECT_FALSE(ConstantTimeEquals("secret-token", "secret-token-longer"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(TokenAuthenticatorTest, WithoutReadTokenAnonymousMayRead) {
  TokenAuthenticator auth(std::nullopt, std::nullopt, "admin-secret");
  AuthResult result = auth.Authenticate(std::nullopt);
  EXPECT_EQ(result.access, Access::kRead);
  EXPECT_FALSE(result.bad_credentials);
}

TEST(TokenAuthenticatorTest, WithReadTokenAnonymousGetsNothing) {
  TokenAuthenticator auth("read-secret", std::nullopt, "admin-secret");
  EXPECT_EQ(auth.Authenticate(std::nullopt).access, Access::kNone);
  EXPECT_EQ(auth.Authenticate("Bearer read-secret").access, Access::kRead);
}

TEST(TokenAuthenticatorTest, EachTokenGrantsItsLevel) {
  TokenAuthenticator auth("read-secret", "rms-secret", "admin-secret");
  EXPECT_EQ(auth.Authenticate("Bearer read-secret").access, Access::kRead);
  EXPECT_EQ(auth.Authenticate("Bearer rms-secret").access, Access::kRms);
  EXPECT_EQ(auth.Authenticate("Bearer admin-secret").access, Access::kAdmin);
}

TEST(TokenAuthenticatorTest, WrongOrMalformedTokenIsBadCredentials) {
  TokenAuthenticator auth(std::nullopt, std::nullopt, "admin-secret");
  for (const char* header : {"Bearer nope", "Basic YWRtaW4=", "Bearer ", "admin-secret"}) {
    AuthResult result = auth.Authenticate(header);
    EXPECT_TRUE(result.bad_credentials) << header;
    EXPECT_EQ(result.access, Access::kNone) << header;
  }
}

TEST(TokenAuthenticatorTest, AdminDisabledWithoutAdminToken) {
  TokenAuthenticator auth(std::nullopt, "rms-secret", std::nullopt);
  EXPECT_FALSE(auth.admin_enabled());
  EXPECT_TRUE(auth.Authenticate("Bearer admin-secret").bad_credentials);
}

}  // namespace
}  // namespace wojak::api
