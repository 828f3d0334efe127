// Client ↔ server tests over real ZeroMQ sockets (ipc:// in a temp dir and tcp://127.0.0.1).
#include "wire/server.h"

#include <flatbuffers/flatbuffers.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "schema/wojak_generated.h"
#include "wire/codec.h"
#include "wojak/client.h"

namespace wojak {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Generous bounds: tests assert on what arrives, never on how fast.
constexpr milliseconds kWait{10000};

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/wojak-wire-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

OrderRequest SampleOrder(std::string client_order_id = "c-1") {
  OrderRequest o;
  o.client_order_id = std::move(client_order_id);
  o.account = "ACC1";
  o.strategy = "s";
  o.exchange = "NFO";
  o.symbol = "NIFTY26JAN24000CE";
  o.quantity = 75;
  o.price = Paise::FromPaise(12050);
  return o;
}

// The sequencer's part, reduced to: accept every order and echo its client order id.
class EchoSequencer {
 public:
  explicit EchoSequencer(ZmqServer& server) : server_(server) {
    thread_ = std::thread([this] { Run(); });
  }
  ~EchoSequencer() {
    server_.StopIntake();
    thread_.join();
  }

 private:
  void Run() {
    std::vector<InboundRequest> batch;
    std::vector<OutboundReply> replies;
    while (true) {
      if (server_.inbound().PopAll(batch, std::chrono::seconds(1)) == 0) {
        if (server_.inbound().closed()) return;
        continue;
      }
      for (InboundRequest& in : batch) {
        Decision d;
        d.kind = DecisionKind::kAccepted;
        if (auto* order = std::get_if<OrderRequest>(&in.request)) {
          d.client_order_id = order->client_order_id;
          d.account = order->account;
        }
        replies.push_back({in.routing_id, in.request_id, std::move(d), ""});
      }
      server_.SendReplies(std::move(replies));
      replies.clear();
    }
  }

  ZmqServer& server_;
  std::thread thread_;
};

std::unique_ptr<ZmqServer> StartServer(ZmqServerOptions options) {
  StatusOr<std::unique_ptr<ZmqServer>> server = ZmqServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(*server) : nullptr;
}

std::unique_ptr<EngineClient> ConnectClient(ClientOptions options) {
  options.connect_timeout = kWait;
  StatusOr<std::unique_ptr<EngineClient>> client = EngineClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(*client) : nullptr;
}

ClientOptions ClientFor(const ZmqServer& server) {
  ClientOptions options;
  options.endpoint = server.endpoint();
  return options;
}

// Polls until the reply to request_id arrives (or kWait passes).
std::optional<Reply> AwaitReply(EngineClient& client, uint64_t request_id) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    StatusOr<std::vector<Reply>> replies = client.Poll(milliseconds(200));
    if (!replies.ok()) return std::nullopt;
    for (Reply& r : *replies) {
      if (r.request_id == request_id) return r;
    }
  }
  return std::nullopt;
}

ZmqServerOptions TcpOptions() {
  ZmqServerOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  return options;
}

TEST(ZmqServerTest, OrderRoundTripsOverIpc) {
  TempDir dir;
  ZmqServerOptions options;
  options.endpoint = "ipc://" + dir.path() + "/run/engine.sock";
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  EchoSequencer sequencer(*server);
  auto client = ConnectClient(ClientFor(*server));
  ASSERT_NE(client, nullptr);

  StatusOr<uint64_t> id = client->Send(SampleOrder("ipc-1"));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(client->in_flight(), 1);
  std::optional<Reply> reply = AwaitReply(*client, *id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->decision.kind, DecisionKind::kAccepted);
  EXPECT_EQ(reply->decision.client_order_id, "ipc-1");
  EXPECT_EQ(client->in_flight(), 0);
}

TEST(ZmqServerTest, OrderRoundTripsOverTcp) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(server->endpoint(), HasSubstr("tcp://127.0.0.1:"));
  EXPECT_THAT(server->endpoint(), ::testing::Not(HasSubstr("*")));
  EchoSequencer sequencer(*server);
  auto client = ConnectClient(ClientFor(*server));
  ASSERT_NE(client, nullptr);

  StatusOr<uint64_t> id = client->Send(SampleOrder("tcp-1"));
  ASSERT_TRUE(id.ok());
  std::optional<Reply> reply = AwaitReply(*client, *id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->decision.client_order_id, "tcp-1");
}

TEST(ZmqServerTest, PipelinedRequestsAreAllAnsweredOnce) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  EchoSequencer sequencer(*server);
  ClientOptions client_options = ClientFor(*server);
  client_options.max_in_flight = 64;
  auto client = ConnectClient(client_options);
  ASSERT_NE(client, nullptr);

  constexpr int kRequests = 2000;
  int sent = 0;
  std::set<uint64_t> answered;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (answered.size() < kRequests && std::chrono::steady_clock::now() < deadline) {
    while (sent < kRequests && client->in_flight() < 64) {
      ASSERT_TRUE(client->Send(SampleOrder("p-" + std::to_string(sent))).ok());
      ++sent;
    }
    StatusOr<std::vector<Reply>> replies = client->Poll(milliseconds(100));
    ASSERT_TRUE(replies.ok());
    for (const Reply& r : *replies) EXPECT_TRUE(answered.insert(r.request_id).second);
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(kRequests));
  EXPECT_EQ(server->counters().requests_received.load(), static_cast<uint64_t>(kRequests));
}

TEST(ZmqServerTest, IpcSocketFileIsGroupOnly) {
  TempDir dir;
  ZmqServerOptions options;
  std::string path = dir.path() + "/engine.sock";
  options.endpoint = "ipc://" + path;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0660u);
}

TEST(ZmqServerTest, StaleIpcSocketFileIsReplaced) {
  TempDir dir;
  ZmqServerOptions options;
  options.endpoint = "ipc://" + dir.path() + "/engine.sock";
  // Leave a socket file nobody serves, as a crashed engine would: bind, then close without unlink.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string path = dir.path() + "/engine.sock";
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(dir.path() + "/engine.sock"));
  auto second = StartServer(options);
  ASSERT_NE(second, nullptr);
  EchoSequencer sequencer(*second);
  auto client = ConnectClient(ClientFor(*second));
  ASSERT_NE(client, nullptr);
  StatusOr<uint64_t> id = client->Send(SampleOrder());
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(AwaitReply(*client, *id).has_value());
}

TEST(ZmqServerTest, LiveIpcSocketIsNotStolen) {
  TempDir dir;
  ZmqServerOptions options;
  options.endpoint = "ipc://" + dir.path() + "/engine.sock";
  auto first = StartServer(options);
  ASSERT_NE(first, nullptr);
  StatusOr<std::unique_ptr<ZmqServer>> second = ZmqServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("already serving"));
}

TEST(ZmqServerTest, PingIsAnsweredWithoutTheSequencer) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  auto client = ConnectClient(ClientFor(*server));
  ASSERT_NE(client, nullptr);
  StatusOr<uint64_t> id = client->Send(PingRequest{});
  ASSERT_TRUE(id.ok());
  std::optional<Reply> reply = AwaitReply(*client, *id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(reply->is_pong);
  EXPECT_EQ(server->inbound().size(), 0u);
}

// A raw DEALER so the test can send frames the real client never would.
class RawDealer {
 public:
  explicit RawDealer(const std::string& endpoint) {
    context_ = zmq_ctx_new();
    socket_ = zmq_socket(context_, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_connect(socket_, endpoint.c_str());
  }
  ~RawDealer() {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  void Send(std::string_view frame, bool more = false) {
    ASSERT_GE(zmq_send(socket_, frame.data(), frame.size(), more ? ZMQ_SNDMORE : 0), 0);
  }
  std::optional<std::string> Receive() {
    zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, kWait.count()) <= 0) return std::nullopt;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    zmq_msg_recv(&msg, socket_, 0);
    std::string out(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    zmq_msg_close(&msg);
    return out;
  }

 private:
  void* context_;
  void* socket_;
};

TEST(ZmqServerTest, MalformedFrameGetsErrorReplyAndServerKeepsServing) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  EchoSequencer sequencer(*server);
  RawDealer dealer(server->endpoint());

  dealer.Send("this is not a flatbuffer");
  std::optional<std::string> error_frame = dealer.Receive();
  ASSERT_TRUE(error_frame.has_value());
  StatusOr<Reply> error = DecodeReply(*error_frame);
  ASSERT_TRUE(error.ok());
  EXPECT_THAT(error->error, HasSubstr("not a Wojak envelope"));
  EXPECT_EQ(server->counters().malformed_frames.load(), 1u);

  dealer.Send(EncodeRequest(42, SampleOrder("after-garbage")));
  std::optional<std::string> ok_frame = dealer.Receive();
  ASSERT_TRUE(ok_frame.has_value());
  StatusOr<Reply> ok = DecodeReply(*ok_frame);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->request_id, 42u);
  EXPECT_EQ(ok->decision.client_order_id, "after-garbage");
}

TEST(ZmqServerTest, MultiFrameMessageIsMalformed) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  RawDealer dealer(server->endpoint());
  dealer.Send(EncodeRequest(9, SampleOrder()), /*more=*/true);
  dealer.Send("extra");
  std::optional<std::string> frame = dealer.Receive();
  ASSERT_TRUE(frame.has_value());
  StatusOr<Reply> reply = DecodeReply(*frame);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->request_id, 9u);
  EXPECT_THAT(reply->error, HasSubstr("one frame per message, got 2"));
}

TEST(ZmqServerTest, UnsupportedVersionErrorCarriesTheRequestId) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  RawDealer dealer(server->endpoint());
  flatbuffers::FlatBufferBuilder b;
  b.Finish(wire::CreateEnvelope(b, 7, 31, wire::Body::Ping, wire::CreatePing(b).Union()));
  std::string frame(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  dealer.Send(frame);
  std::optional<std::string> reply_frame = dealer.Receive();
  ASSERT_TRUE(reply_frame.has_value());
  StatusOr<Reply> reply = DecodeReply(*reply_frame);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->request_id, 31u);
  EXPECT_THAT(reply->error, HasSubstr("version 7 is not supported"));
}

TEST(ZmqServerTest, FullQueueIsAnsweredRetryWithEngineBusy) {
  ZmqServerOptions options = TcpOptions();
  options.inbound_capacity = 1;
  options.busy_retry_after_ms = 50;
  auto server = StartServer(options);  // no sequencer: the queue never drains
  ASSERT_NE(server, nullptr);
  auto client = ConnectClient(ClientFor(*server));
  ASSERT_NE(client, nullptr);

  StatusOr<uint64_t> queued = client->Send(SampleOrder("first"));
  StatusOr<uint64_t> refused = client->Send(SampleOrder("second"));
  ASSERT_TRUE(queued.ok());
  ASSERT_TRUE(refused.ok());
  std::optional<Reply> reply = AwaitReply(*client, *refused);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->decision.kind, DecisionKind::kRetry);
  EXPECT_EQ(reply->decision.retry_after_ms, 50u);
  EXPECT_EQ(reply->decision.client_order_id, "second");
  ASSERT_EQ(reply->decision.reasons.size(), 1u);
  EXPECT_EQ(reply->decision.reasons[0].code, ReasonCode::k_ENGINE_BUSY);
  EXPECT_EQ(server->counters().busy_replies.load(), 1u);
  EXPECT_EQ(server->inbound().size(), 1u);
}

TEST(ZmqServerTest, StopIntakeAnswersRetryAndClosesTheQueue) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  auto client = ConnectClient(ClientFor(*server));
  ASSERT_NE(client, nullptr);
  server->StopIntake();
  EXPECT_TRUE(server->inbound().closed());
  StatusOr<uint64_t> id = client->Send(SampleOrder("late"));
  ASSERT_TRUE(id.ok());
  std::optional<Reply> reply = AwaitReply(*client, *id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->decision.kind, DecisionKind::kRetry);
  ASSERT_EQ(reply->decision.reasons.size(), 1u);
  EXPECT_THAT(reply->decision.reasons[0].message, HasSubstr("shutting down"));
}

TEST(ZmqServerTest, RepliesHandedOverBeforeStopReachAPollingClient) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  auto client = ConnectClient(ClientFor(*server));
  ASSERT_NE(client, nullptr);
  StatusOr<uint64_t> id = client->Send(SampleOrder("drained"));
  ASSERT_TRUE(id.ok());
  std::vector<InboundRequest> batch;
  ASSERT_EQ(server->inbound().PopAll(batch, kWait), 1u);
  std::vector<OutboundReply> replies;
  Decision decision;
  decision.kind = DecisionKind::kAccepted;
  decision.client_order_id = "drained";
  replies.push_back({batch[0].routing_id, batch[0].request_id, decision, ""});
  // The engine's drain: last replies, then Stop(), while the client keeps polling as a sidecar
  // does.
  std::thread stopper([&] {
    server->SendReplies(std::move(replies));
    server->Stop();
  });
  std::optional<Reply> reply = AwaitReply(*client, *id);
  stopper.join();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->decision.client_order_id, "drained");
}

TEST(ZmqServerTest, RepliesHandedOverAfterStopAreDroppedAndCounted) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  server->Stop();
  std::vector<OutboundReply> replies(2);
  server->SendReplies(std::move(replies));
  EXPECT_EQ(server->counters().dropped_replies.load(), 2u);
}

TEST(ZmqServerTest, ReplyToDisconnectedClientIsCountedUnroutable) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  std::vector<InboundRequest> batch;
  {
    auto client = ConnectClient(ClientFor(*server));
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Send(SampleOrder()).ok());
    ASSERT_EQ(server->inbound().PopAll(batch, kWait), 1u);
  }
  // The client is gone once the server notices the disconnect; retry until it has.
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (server->counters().unroutable_replies.load() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::vector<OutboundReply> replies;
    replies.push_back({batch[0].routing_id, batch[0].request_id, Decision{}, ""});
    server->SendReplies(std::move(replies));
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(server->counters().unroutable_replies.load(), 1u);
}

TEST(ZmqServerTest, PreEncodedReplyIsSentUnchanged) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  auto client = ConnectClient(ClientFor(*server));
  ASSERT_NE(client, nullptr);
  StatusOr<uint64_t> id = client->Send(SampleOrder());
  ASSERT_TRUE(id.ok());
  std::vector<InboundRequest> batch;
  ASSERT_EQ(server->inbound().PopAll(batch, kWait), 1u);
  std::vector<OutboundReply> replies;
  replies.push_back({batch[0].routing_id, 0, Decision{}, EncodeErrorReply(*id, "engine says no")});
  server->SendReplies(std::move(replies));
  std::optional<Reply> reply = AwaitReply(*client, *id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error, "engine says no");
}

TEST(EngineClientTest, FullWindowIsResourceExhausted) {
  auto server = StartServer(TcpOptions());  // no sequencer: nothing is answered
  ASSERT_NE(server, nullptr);
  ClientOptions options = ClientFor(*server);
  options.max_in_flight = 2;
  auto client = ConnectClient(options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(SampleOrder("a")).ok());
  ASSERT_TRUE(client->Send(SampleOrder("b")).ok());
  StatusOr<uint64_t> third = client->Send(SampleOrder("c"));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(client->in_flight(), 2);
}

TEST(EngineClientTest, AbandonFreesTheWindowAndDropsTheLateReply) {
  auto server = StartServer(TcpOptions());
  ASSERT_NE(server, nullptr);
  ClientOptions options = ClientFor(*server);
  options.max_in_flight = 1;
  auto client = ConnectClient(options);
  ASSERT_NE(client, nullptr);
  StatusOr<uint64_t> first = client->Send(SampleOrder("abandoned"));
  ASSERT_TRUE(first.ok());
  client->Abandon(*first);
  EXPECT_EQ(client->in_flight(), 0);
  StatusOr<uint64_t> second = client->Send(SampleOrder("kept"));
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);

  EchoSequencer sequencer(*server);
  std::optional<Reply> reply = AwaitReply(*client, *second);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->decision.client_order_id, "kept");
  // The abandoned request's reply was dropped, never returned.
  StatusOr<std::vector<Reply>> rest = client->Poll(milliseconds(100));
  ASSERT_TRUE(rest.ok());
  for (const Reply& r : *rest) EXPECT_NE(r.request_id, *first);
}

TEST(EngineClientTest, SendWithoutEngineIsResourceExhaustedNotBlocking) {
  TempDir dir;
  ClientOptions options;
  options.endpoint = "ipc://" + dir.path() + "/nobody.sock";
  StatusOr<std::unique_ptr<EngineClient>> client = EngineClient::Connect(options);
  ASSERT_TRUE(client.ok());
  StatusOr<uint64_t> id = (*client)->Send(SampleOrder());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ((*client)->in_flight(), 0);
}

TEST(EngineClientTest, ConnectTimeoutWithoutEngineIsUnavailable) {
  TempDir dir;
  ClientOptions options;
  options.endpoint = "ipc://" + dir.path() + "/nobody.sock";
  options.connect_timeout = milliseconds(50);
  StatusOr<std::unique_ptr<EngineClient>> client = EngineClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
}

TEST(EngineClientTest, ZeroWindowIsRefused) {
  ClientOptions options;
  options.max_in_flight = 0;
  EXPECT_EQ(EngineClient::Connect(options).status().code(), StatusCode::kInvalidArgument);
}

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

TEST(CurveTest, ClientWithServerKeyCompletesTheHandshake) {
  KeyPair server_keys = NewKeyPair();
  KeyPair client_keys = NewKeyPair();
  ZmqServerOptions server_options = TcpOptions();
  server_options.curve_secret_key = server_keys.secret_key;
  auto server = StartServer(server_options);
  ASSERT_NE(server, nullptr);
  EchoSequencer sequencer(*server);
  ClientOptions options = ClientFor(*server);
  options.curve_server_public_key = server_keys.public_key;
  options.curve_client_public_key = client_keys.public_key;
  options.curve_client_secret_key = client_keys.secret_key;
  auto client = ConnectClient(options);
  ASSERT_NE(client, nullptr);
  StatusOr<uint64_t> id = client->Send(SampleOrder("curve"));
  ASSERT_TRUE(id.ok());
  std::optional<Reply> reply = AwaitReply(*client, *id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->decision.client_order_id, "curve");
}

TEST(CurveTest, ClientWithoutKeysCannotConnect) {
  KeyPair server_keys = NewKeyPair();
  ZmqServerOptions server_options = TcpOptions();
  server_options.curve_secret_key = server_keys.secret_key;
  auto server = StartServer(server_options);
  ASSERT_NE(server, nullptr);
  ClientOptions options = ClientFor(*server);
  options.connect_timeout = milliseconds(500);
  StatusOr<std::unique_ptr<EngineClient>> client = EngineClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server->counters().requests_received.load(), 0u);
}

TEST(CurveTest, ClientWithWrongServerKeyCannotConnect) {
  KeyPair server_keys = NewKeyPair();
  ZmqServerOptions server_options = TcpOptions();
  server_options.curve_secret_key = server_keys.secret_key;
  auto server = StartServer(server_options);
  ASSERT_NE(server, nullptr);
  ClientOptions options = ClientFor(*server);
  options.curve_server_public_key = NewKeyPair().public_key;
  options.connect_timeout = milliseconds(500);
  StatusOr<std::unique_ptr<EngineClient>> client = EngineClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUnavailable);
}

TEST(CurveTest, MalformedKeyIsInvalidArgument) {
  ZmqServerOptions server_options = TcpOptions();
  server_options.curve_secret_key = "short";
  StatusOr<std::unique_ptr<ZmqServer>> server = ZmqServer::Start(server_options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wojak
