// Which endpoints other hosts can reach, and when a plain one is refused.
#include "wire/transport_security.h"

#include <gtest/gtest.h>

namespace wojak {
namespace {

TEST(TransportSecurityTest, LoopbackAndLocalEndpointsAreNotReachableFromOtherHosts) {
  for (const char* endpoint :
       {"ipc:///run/wojak/engine.sock", "ipc://@abstract", "inproc://engine",
        "tcp://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://127.9.8.7:1", "tcp://localhost:5555",
        "tcp://[::1]:5555", "tcp://10.0.0.1;127.0.0.1:5555"}) {
    EXPECT_FALSE(IsReachableFromOtherHosts(endpoint)) << endpoint;
  }
}

TEST(TransportSecurityTest, WildcardAddressesInterfacesAndHostsAreReachableFromOtherHosts) {
  for (const char* endpoint : {"tcp://*:5555", "tcp://0.0.0.0:5555", "tcp://10.1.2.3:5555",
                               "tcp://eth0:5555", "tcp://[::]:5555", "tcp://engine.internal:5555",
                               "tcp://128.0.0.1:5555", "tcp://127.0.0.1;10.0.0.7:5555"}) {
    EXPECT_TRUE(IsReachableFromOtherHosts(endpoint)) << endpoint;
  }
}

TEST(TransportSecurityTest, RefusesPlainTcpOnAllInterfacesNamingTheWaysOut) {
  Status status = CheckEndpointSecurity("engine.endpoint", "tcp://0.0.0.0:5555", false, false);
  ASSERT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("engine.endpoint tcp://0.0.0.0:5555"), std::string::npos);
  EXPECT_NE(status.message().find("wojak keygen"), std::string::npos);
  EXPECT_NE(status.message().find("allow_insecure_tcp"), std::string::npos);
}

TEST(TransportSecurityTest, AllowsNonLoopbackTcpWithCurve) {
  EXPECT_TRUE(CheckEndpointSecurity("engine.endpoint", "tcp://*:5555", true, false).ok());
}

TEST(TransportSecurityTest, AllowsPlainNonLoopbackTcpOnlyWhenExplicitlyAllowed) {
  EXPECT_TRUE(CheckEndpointSecurity("engine.endpoint", "tcp://*:5555", false, true).ok());
}

TEST(TransportSecurityTest, AllowsPlainLoopbackTcpAndIpc) {
  EXPECT_TRUE(CheckEndpointSecurity("engine.endpoint", "tcp://127.0.0.1:1", false, false).ok());
  EXPECT_TRUE(CheckEndpointSecurity("engine.endpoint", "ipc://x/engine.sock", false, false).ok());
}

}  // namespace
}  // namespace wojak
