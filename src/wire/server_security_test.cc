// The engine transport's security: CURVE client allowlist through ZAP, refusal of plain tcp
// reachable from other hosts, and the ipc socket file's mode and group. Loopback only: the
// refusal tests use an address this machine does not have, so nothing is ever bound off loopback.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cstdlib>
#include <filesystem>

#include "wire/server.h"
#include "wojak/client.h"

namespace wojak {
namespace {

using std::chrono::milliseconds;

struct KeyPair {
  std::string public_key;
  std::string secret_key;
};

KeyPair NewKeyPair() {
  char public_key[41];
  char secret_key[41];
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return {public_key, secret_key};
}

std::string ServerPublicKey(const std::string& secret_key) {
  char public_key[41];
  EXPECT_EQ(zmq_curve_public(public_key, secret_key.c_str()), 0);
  return public_key;
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = std::filesystem::temp_directory_path() / "wojak-wire-XXXXXX";
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A CURVE server on loopback that lets in only `allowed`.
std::unique_ptr<ZmqServer> CurveServer(const KeyPair& server_keys,
                                       std::vector<std::string> allowed) {
  ZmqServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  options.curve_secret_key = server_keys.secret_key;
  options.curve_allowed_clients = std::move(allowed);
  StatusOr<std::unique_ptr<ZmqServer>> server = ZmqServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

StatusOr<std::unique_ptr<EngineClient>> ConnectAs(const ZmqServer& server,
                                                  const KeyPair& server_keys,
                                                  const KeyPair& client_keys,
                                                  milliseconds timeout) {
  ClientOptions options;
  options.endpoint = server.endpoint();
  options.curve_server_public_key = ServerPublicKey(server_keys.secret_key);
  options.curve_client_public_key = client_keys.public_key;
  options.curve_client_secret_key = client_keys.secret_key;
  options.connect_timeout = timeout;
  return EngineClient::Connect(options);
}

TEST(CurveAllowlistTest, AllowlistedClientCompletesTheHandshake) {
  KeyPair server_keys = NewKeyPair();
  KeyPair sidecar = NewKeyPair();
  auto server = CurveServer(server_keys, {NewKeyPair().public_key, sidecar.public_key});
  ASSERT_NE(server, nullptr);
  auto client = ConnectAs(*server, server_keys, sidecar, milliseconds(5000));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ(server->counters().clients_refused.load(), 0u);
}

TEST(CurveAllowlistTest, ClientWithAnUnlistedKeyIsRefused) {
  KeyPair server_keys = NewKeyPair();
  KeyPair sidecar = NewKeyPair();
  KeyPair stranger = NewKeyPair();
  auto server = CurveServer(server_keys, {sidecar.public_key});
  ASSERT_NE(server, nullptr);
  auto client = ConnectAs(*server, server_keys, stranger, milliseconds(1000));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_GE(server->counters().clients_refused.load(), 1u);
  EXPECT_EQ(server->counters().requests_received.load(), 0u);
}

TEST(CurveAllowlistTest, ARefusedClientDoesNotStopAnAllowedOne) {
  KeyPair server_keys = NewKeyPair();
  KeyPair sidecar = NewKeyPair();
  auto server = CurveServer(server_keys, {sidecar.public_key});
  ASSERT_NE(server, nullptr);
  ASSERT_FALSE(ConnectAs(*server, server_keys, NewKeyPair(), milliseconds(500)).ok());
  EXPECT_TRUE(ConnectAs(*server, server_keys, sidecar, milliseconds(5000)).ok());
}

TEST(CurveAllowlistTest, MalformedAllowlistKeyIsInvalidArgument) {
  ZmqServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  options.curve_secret_key = NewKeyPair().secret_key;
  options.curve_allowed_clients = {"not-a-key"};
  StatusOr<std::unique_ptr<ZmqServer>> server = ZmqServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("curve_allowed_clients[0]"), std::string::npos);
}

// 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to this machine, so even a faulty
// check could not end up listening there.
TEST(InsecureTcpTest, PlainTcpReachableFromOtherHostsIsRefusedBeforeBinding) {
  ZmqServerOptions options;
  options.endpoint = "tcp://192.0.2.1:5555";
  StatusOr<std::unique_ptr<ZmqServer>> server = ZmqServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kFailedPrecondition) << server.status().ToString();
}

TEST(InsecureTcpTest, PlainLoopbackTcpIsServed) {
  ZmqServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  EXPECT_TRUE(ZmqServer::Start(options).ok());
}

TEST(IpcSocketTest, SocketFileIsReadableAndWritableByOwnerAndGroupOnly) {
  ScratchDir dir;
  ZmqServerOptions options;
  options.endpoint = "ipc://" + dir.path() + "/engine.sock";
  auto server = ZmqServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() + "/engine.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
}

// A group this process may give files to, other than the one they get anyway.
std::optional<gid_t> OtherUsableGroup() {
  if (::geteuid() == 0) {
    for (gid_t candidate : {gid_t{1}, gid_t{2}, gid_t{100}}) {
      if (candidate != ::getegid() && ::getgrgid(candidate) != nullptr) return candidate;
    }
  }
  std::vector<gid_t> groups(static_cast<size_t>(std::max(::getgroups(0, nullptr), 0)));
  ::getgroups(static_cast<int>(groups.size()), groups.data());
  for (gid_t candidate : groups) {
    if (candidate != ::getegid()) return candidate;
  }
  return std::nullopt;
}

TEST(IpcSocketTest, SocketFileBelongsToTheConfiguredGroup) {
  std::optional<gid_t> group = OtherUsableGroup();
  if (!group) GTEST_SKIP() << "this user belongs to no second group";
  ScratchDir dir;
  ZmqServerOptions options;
  options.endpoint = "ipc://" + dir.path() + "/engine.sock";
  options.ipc_group = ::getgrgid(*group)->gr_name;
  auto server = ZmqServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() + "/engine.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_gid, *group);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
}

TEST(IpcSocketTest, UnknownGroupIsInvalidArgument) {
  ScratchDir dir;
  ZmqServerOptions options;
  options.endpoint = "ipc://" + dir.path() + "/engine.sock";
  options.ipc_group = "no-such-group-wojak";
  auto server = ZmqServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("no-such-group-wojak"), std::string::npos);
}

}  // namespace
}  // namespace wojak
