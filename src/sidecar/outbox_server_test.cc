// OutboxServer driven through a DEALER (the engine's side) with a fake publisher: a row the
// broker did not confirm is answered ok=false with the reason, the same row offered again is
// published and answered ok, and the counters say so.
#include "sidecar/outbox_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zmq.h>

#include <filesystem>
#include <mutex>
#include <vector>

#include "wire/codec.h"
#include "wire/zmq_socket_setup.h"

namespace wojak::sidecar {
namespace {

using namespace std::chrono_literals;

// Refuses the first `failures` publishes, then confirms; records what it was asked to publish.
class FakePublisher final : public OutboxPublisher {
 public:
  struct Log {
    std::mutex mutex;
    bool started = false;
    bool stopped = false;
    std::vector<OutboxMessage> published;
    std::chrono::milliseconds last_timeout{0};
  };

  FakePublisher(std::shared_ptr<Log> log, int failures) : log_(log), failures_(failures) {}
  Status Start() override {
    std::lock_guard lock(log_->mutex);
    log_->started = true;
    return OkStatus();
  }
  Status Publish(const OutboxMessage& message, std::chrono::milliseconds timeout) override {
    std::lock_guard lock(log_->mutex);
    log_->last_timeout = timeout;
    if (failures_ > 0) {
      --failures_;
      return Unavailable("broker did not confirm");
    }
    log_->published.push_back(message);
    return OkStatus();
  }
  void Stop() override {
    std::lock_guard lock(log_->mutex);
    log_->stopped = true;
  }

 private:
  std::shared_ptr<Log> log_;
  int failures_;
};

class OutboxServerTest : public ::testing::Test {
 protected:
  OutboxServerTest() {
    std::string pattern = std::filesystem::temp_directory_path() / "wojak-outbox-XXXXXX";
    dir_ = ::mkdtemp(pattern.data());
    options_.endpoint = "ipc://" + dir_ + "/outbox.sock";
    options_.publish_timeout = 1234ms;
  }
  ~OutboxServerTest() override {
    if (dealer_ != nullptr) zmq_close(dealer_);
    zmq_ctx_term(context_);
    std::filesystem::remove_all(dir_);
  }

  // Starts the server and connects the test's DEALER (as a CURVE client with `client_keys`
  // {public, secret} when the server has a CURVE key).
  std::unique_ptr<OutboxServer> StartServer(int failures,
                                            std::pair<std::string, std::string> client_keys = {},
                                            int receive_timeout_ms = 10000) {
    auto server = OutboxServer::Start(options_, std::make_unique<FakePublisher>(log_, failures),
                                      "fake", registry_);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return nullptr;
    dealer_ = zmq_socket(context_, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(dealer_, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(dealer_, ZMQ_RCVTIMEO, &receive_timeout_ms, sizeof(receive_timeout_ms));
    if (!options_.curve_secret_key.empty()) {
      char server_public[41];
      zmq_curve_public(server_public, options_.curve_secret_key.c_str());
      Status curve =
          ConfigureCurveClient(dealer_, server_public, client_keys.first, client_keys.second);
      EXPECT_TRUE(curve.ok()) << curve.ToString();
    }
    EXPECT_EQ(zmq_connect(dealer_, (*server)->endpoint().c_str()), 0);
    return std::move(server).value();
  }

  static std::pair<std::string, std::string> KeyPair() {
    char public_key[41];
    char secret_key[41];
    zmq_curve_keypair(public_key, secret_key);
    return {public_key, secret_key};
  }

  StatusOr<OutboxReceipt> Deliver(const OutboxDelivery& delivery) {
    std::string frame = EncodeOutboxDelivery(next_request_id_++, delivery);
    if (zmq_send(dealer_, frame.data(), frame.size(), 0) < 0) return Unavailable("send");
    char buffer[4096];
    int size = zmq_recv(dealer_, buffer, sizeof(buffer), 0);
    if (size < 0) return DeadlineExceeded("no receipt");
    return DecodeOutboxReceipt(std::string_view(buffer, static_cast<size_t>(size)));
  }

  std::string Metric(const std::string& name) {
    std::string text = registry_.RenderPrometheus();
    std::string prefix = name + "{source=\"fake\"} ";
    size_t at = text.find(prefix);
    if (at == std::string::npos) return "absent";
    return text.substr(at + prefix.size(), text.find('\n', at) - at - prefix.size());
  }

  std::string dir_;
  OutboxServerOptions options_;
  std::shared_ptr<FakePublisher::Log> log_ = std::make_shared<FakePublisher::Log>();
  MetricsRegistry registry_;
  void* context_ = zmq_ctx_new();
  void* dealer_ = nullptr;
  uint64_t next_request_id_ = 1;
};

const OutboxDelivery kRow{7, 42, "escalation", "ACC1",
                          R"({"outbox_seq":7,"entry_seq":42,"topic":"escalation","payload":{}})"};

TEST_F(OutboxServerTest, UnconfirmedRowIsRefusedWithTheReasonThenConfirmedWhenOfferedAgain) {
  auto server = StartServer(/*failures=*/1);
  ASSERT_NE(server, nullptr);

  StatusOr<OutboxReceipt> first = Deliver(kRow);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->outbox_seq, 7u);
  EXPECT_FALSE(first->ok);
  EXPECT_NE(first->error.find("broker did not confirm"), std::string::npos) << first->error;

  StatusOr<OutboxReceipt> second = Deliver(kRow);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->outbox_seq, 7u);
  EXPECT_TRUE(second->ok) << second->error;

  std::lock_guard lock(log_->mutex);
  ASSERT_EQ(log_->published.size(), 1u);
  const OutboxMessage& published = log_->published[0];
  EXPECT_EQ(published.outbox_seq, 7u);
  EXPECT_EQ(published.entry_seq, 42u);
  EXPECT_EQ(published.topic, "escalation");
  EXPECT_EQ(published.account, "ACC1");
  EXPECT_EQ(published.body, kRow.body);
  EXPECT_EQ(log_->last_timeout, 1234ms);
}

TEST_F(OutboxServerTest, CountsPublishedRowsAndFailuresPerSource) {
  auto server = StartServer(/*failures=*/2);
  ASSERT_NE(server, nullptr);
  for (int attempt = 0; attempt < 3; ++attempt) ASSERT_TRUE(Deliver(kRow).ok());

  EXPECT_EQ(Metric("wojak_sidecar_outbox_published_total"), "1");
  EXPECT_EQ(Metric("wojak_sidecar_outbox_failures_total"), "2");
}

TEST_F(OutboxServerTest, StartsThePublisherAndStopsItOnStop) {
  auto server = StartServer(0);
  ASSERT_NE(server, nullptr);
  {
    std::lock_guard lock(log_->mutex);
    EXPECT_TRUE(log_->started);
    EXPECT_FALSE(log_->stopped);
  }
  server->Stop();
  std::lock_guard lock(log_->mutex);
  EXPECT_TRUE(log_->stopped);
}

TEST_F(OutboxServerTest, IpcSocketFileIsOwnerAndGroupOnly) {
  auto server = StartServer(0);
  ASSERT_NE(server, nullptr);
  struct stat info {};
  ASSERT_EQ(::stat((dir_ + "/outbox.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660u);
}

TEST_F(OutboxServerTest, CurveEngineWithAnAllowedKeyIsServed) {
  auto [server_public, server_secret] = KeyPair();
  auto engine_keys = KeyPair();
  options_.endpoint = "tcp://127.0.0.1:*";
  options_.curve_secret_key = server_secret;
  options_.curve_allowed_clients = {engine_keys.first};
  auto server = StartServer(0, engine_keys);
  ASSERT_NE(server, nullptr);

  StatusOr<OutboxReceipt> receipt = Deliver(kRow);

  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_TRUE(receipt->ok);
}

TEST_F(OutboxServerTest, CurveClientWithAnotherKeyPublishesNothing) {
  auto [server_public, server_secret] = KeyPair();
  options_.endpoint = "tcp://127.0.0.1:*";
  options_.curve_secret_key = server_secret;
  options_.curve_allowed_clients = {KeyPair().first};
  auto server = StartServer(0, KeyPair(), /*receive_timeout_ms=*/1000);
  ASSERT_NE(server, nullptr);

  EXPECT_FALSE(Deliver(kRow).ok());

  std::lock_guard lock(log_->mutex);
  EXPECT_TRUE(log_->published.empty());
}

TEST(OutboxServerOptionsTest, CurveKeyNeedsAnAllowlistOfEngines) {
  std::map<std::string, std::string> env = {
      {"WOJAK_SIDECAR_OUTBOX_CURVE_SECRET_KEY", std::string(40, 'a')}};
  auto config = ConfigDocument::Parse("sidecar:\n  outbox_endpoint: tcp://0.0.0.0:7100\n", &env);
  ASSERT_TRUE(config.ok());
  ReadOutboxServerOptions((*config)->Root().Section("sidecar", ""));
  ASSERT_EQ((*config)->errors().all().size(), 1u);
  EXPECT_NE((*config)->errors().all()[0].find("outbox_curve_allowed_clients"), std::string::npos)
      << (*config)->errors().all()[0];
}

TEST(OutboxServerOptionsTest, PlainTcpReachableFromOtherHostsIsRefused) {
  std::map<std::string, std::string> no_env;
  auto config = ConfigDocument::Parse("sidecar:\n  outbox_endpoint: tcp://0.0.0.0:7100\n", &no_env);
  ASSERT_TRUE(config.ok());
  ReadOutboxServerOptions((*config)->Root().Section("sidecar", ""));
  ASSERT_EQ((*config)->errors().all().size(), 1u);
  EXPECT_NE((*config)->errors().all()[0].find("outbox_endpoint"), std::string::npos);
}

TEST(OutboxServerOptionsTest, OffByDefault) {
  std::map<std::string, std::string> no_env;
  auto config = ConfigDocument::Parse("sidecar: {}\n", &no_env);
  ASSERT_TRUE(config.ok());
  OutboxServerOptions options = ReadOutboxServerOptions((*config)->Root().Section("sidecar", ""));
  EXPECT_TRUE(options.endpoint.empty());
  EXPECT_TRUE((*config)->errors().empty());
}

TEST(MakeOutboxPublisherTest, SourceWithoutPublisherIsAnErrorNamingIt) {
  auto config = ConfigDocument::Parse("sources: {}\n");
  ASSERT_TRUE(config.ok());
  auto publisher = MakeOutboxPublisher("no-such-source", (*config)->Root().Section("x", ""));
  ASSERT_FALSE(publisher.ok());
  EXPECT_NE(publisher.status().message().find("'no-such-source'"), std::string::npos);
}

}  // namespace
}  // namespace wojak::sidecar
