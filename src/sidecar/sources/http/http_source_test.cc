// Tests for the HTTP source against real sockets on 127.0.0.1: a test thread plays the pipeline
// (polls messages, then acks, nacks or dead-letters them) while clients send requests.
#include "sidecar/sources/http/http_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "model/order_json.h"
#include "sidecar/request_builder.h"
#include "sidecar/sources/http/http_client.h"
#include "sidecar/sources/http/http_signing.h"

namespace wojak::sidecar::http {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr char kKeyId[] = "strategy-1";
constexpr char kSecret[] = "test-secret-0123456789";
constexpr char kOrder[] =
    R"({"client_order_id":"c1","account":"ACC1","exchange":"NFO","symbol":"NIFTY26JAN24000CE",)"
    R"("side":"SELL","quantity":75,"order_type":"LIMIT","product":"NRML","price":"120.50"})";

// Plays the pipeline: takes every message the source hands out and lets the test act on it.
class FakePipeline {
 public:
  explicit FakePipeline(Source& source) : source_(source), thread_([this] { Run(); }) {}
  ~FakePipeline() {
    stop_ = true;
    thread_.join();
  }

  // The next message, waiting up to 10 s; fails the test when none arrives.
  std::optional<Message> Next() {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, std::chrono::seconds(10), [this] { return !messages_.empty(); })) {
      ADD_FAILURE() << "no message reached the pipeline";
      return std::nullopt;
    }
    Message message = std::move(messages_.front());
    messages_.pop_front();
    return message;
  }
  size_t received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void Run() {
    while (!stop_) {
      StatusOr<std::vector<Message>> polled = source_.Poll(64, milliseconds(5));
      if (!polled.ok() || polled->empty()) continue;
      std::lock_guard lock(mutex_);
      for (Message& message : *polled) {
        messages_.push_back(std::move(message));
        ++received_;
      }
      ready_.notify_all();
    }
  }

  Source& source_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Message> messages_;
  size_t received_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

Decision Accepted(const std::string& client_order_id) {
  Decision decision;
  decision.kind = DecisionKind::kAccepted;
  decision.client_order_id = client_order_id;
  decision.account = "ACC1";
  decision.order_id = "W-000000000007";
  decision.seq = 7;
  return decision;
}

class HttpSourceTest : public testing::Test {
 protected:
  HttpSourceTest() : engine_available_(std::make_shared<std::atomic<bool>>(true)) {
    options_.listen_port = 0;
    HttpKey key;
    key.id = kKeyId;
    key.secret = kSecret;
    auto scope = std::make_shared<AccountScope>();
    scope->accounts.insert("ACC1");
    key.scope = scope;
    options_.auth.keys.push_back(key);
  }
  ~HttpSourceTest() override {
    pipeline_.reset();
    if (source_) source_->Stop();
  }

  void StartSource() {
    source_ = std::make_unique<HttpSource>(options_, engine_available_);
    Status status = source_->Start();
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_NE(source_->port(), 0);
    pipeline_ = std::make_unique<FakePipeline>(*source_);
  }

  std::unique_ptr<HttpClient> Client(ClientAuth auth = ClientAuth::kHmac) {
    HttpClientOptions client_options;
    client_options.port = source_->port();
    client_options.tls = options_.tls;
    client_options.auth = auth;
    client_options.key_id = kKeyId;
    client_options.secret = kSecret;
    StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Connect(client_options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  std::future<StatusOr<HttpResult>> PostAsync(HttpClient& client, std::string target,
                                              std::string body, HttpHeaders headers = {}) {
    return std::async(std::launch::async, [&client, target, body, headers] {
      return client.Post(target, body, headers);
    });
  }

  HttpResult Get(std::future<StatusOr<HttpResult>>& future) {
    StatusOr<HttpResult> result = future.get();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : HttpResult{};
  }

  HttpSourceOptions options_;
  std::shared_ptr<std::atomic<bool>> engine_available_;
  std::unique_ptr<HttpSource> source_;
  std::unique_ptr<FakePipeline> pipeline_;
};

TEST_F(HttpSourceTest, AnswersAnAckedOrderWith200AndTheDecision) {
  StartSource();
  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders", kOrder);
  std::optional<Message> message = pipeline_->Next();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, MessageKind::kNewOrder);
  EXPECT_EQ(message->body, kOrder);
  ASSERT_NE(message->scope, nullptr);
  EXPECT_TRUE(message->scope->Allows("ACC1"));
  ASSERT_TRUE(source_->Ack(*message, Accepted("c1")).ok());
  HttpResult result = Get(response);
  EXPECT_EQ(result.status, 200);
  json body = json::parse(result.body);
  EXPECT_EQ(body["decision"], "ACCEPTED");
  EXPECT_EQ(body["order_id"], "W-000000000007");
}

TEST_F(HttpSourceTest, AnswersADeadLetteredOrderWith422AndEveryFieldError) {
  StartSource();
  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders", R"({"account":"ACC1","side":"UP"})");
  std::optional<Message> message = pipeline_->Next();
  ASSERT_TRUE(message);
  BuildResult built = BuildRequest("http", *message);
  ASSERT_TRUE(std::holds_alternative<DeadLetterInfo>(built));
  ASSERT_TRUE(source_->DeadLetter(*message, std::get<DeadLetterInfo>(built)).ok());
  HttpResult result = Get(response);
  EXPECT_EQ(result.status, 422);
  json body = json::parse(result.body);
  EXPECT_EQ(body["decision"], "REJECTED");
  EXPECT_EQ(body["reasons"].size(), std::get<DeadLetterInfo>(built).decision.reasons.size());
  EXPECT_GE(body["reasons"].size(), 6u);
}

TEST_F(HttpSourceTest, AnswersANackWith503AndRetryAfter) {
  StartSource();
  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders", kOrder);
  std::optional<Message> message = pipeline_->Next();
  ASSERT_TRUE(message);
  ASSERT_TRUE(source_->Nack(*message, milliseconds(2500)).ok());
  HttpResult result = Get(response);
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(result.retry_after, "3");
  json body = json::parse(result.body);
  EXPECT_EQ(body["decision"], "RETRY");
  EXPECT_EQ(body["retry_after_ms"], 2500);
}

TEST_F(HttpSourceTest, AnswersAForbiddenAccountWith403) {
  StartSource();
  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders", kOrder);
  std::optional<Message> message = pipeline_->Next();
  ASSERT_TRUE(message);
  DeadLetterInfo info;
  info.kind = DeadLetterKind::kForbidden;
  info.reason = "credentials do not cover account 'ACC1'";
  ASSERT_TRUE(source_->DeadLetter(*message, info).ok());
  EXPECT_EQ(Get(response).status, 403);
}

TEST_F(HttpSourceTest, AnswersAnArrayWithOneResultPerOrderAndTheWorstStatus) {
  StartSource();
  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders", std::string("[") + kOrder + "," + kOrder + "]");
  std::optional<Message> first = pipeline_->Next();
  std::optional<Message> second = pipeline_->Next();
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->identity, second->identity);
  ASSERT_TRUE(source_->Nack(*second, milliseconds(100)).ok());
  ASSERT_TRUE(source_->Ack(*first, Accepted("c1")).ok());
  HttpResult result = Get(response);
  EXPECT_EQ(result.status, 503);
  json body = json::parse(result.body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["decision"], "ACCEPTED");
  EXPECT_EQ(body[1]["decision"], "RETRY");
}

TEST_F(HttpSourceTest, RefusesAnArrayAboveTheBatchLimitWithoutReachingThePipeline) {
  options_.max_batch = 2;
  StartSource();
  auto client = Client();
  StatusOr<HttpResult> result =
      client->Post("/v1/orders", std::string("[") + kOrder + "," + kOrder + "," + kOrder + "]");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 413);
  EXPECT_EQ(pipeline_->received(), 0u);
}

TEST_F(HttpSourceTest, RefusesABodyAboveTheSizeLimit) {
  options_.max_body_bytes = 256;
  StartSource();
  auto client = Client();
  StatusOr<HttpResult> result = client->Post("/v1/orders", std::string(1000, ' ') + kOrder);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, 413);
  EXPECT_EQ(pipeline_->received(), 0u);
}

TEST_F(HttpSourceTest, AnswersUnknownPathsWith404AndWrongMethodsWith405) {
  StartSource();
  auto client = Client();
  StatusOr<HttpResult> missing = client->Post("/v2/orders", kOrder);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  StatusOr<HttpResult> wrong_method = client->Get("/v1/orders");
  ASSERT_TRUE(wrong_method.ok());
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(pipeline_->received(), 0u);
}

TEST_F(HttpSourceTest, RefusesAnUnsignedRequestWith401BeforeThePipeline) {
  StartSource();
  auto client = Client(ClientAuth::kNone);
  StatusOr<HttpResult> result = client->Post("/v1/orders", kOrder);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 401);
  EXPECT_EQ(pipeline_->received(), 0u);
}

TEST_F(HttpSourceTest, RefusesARequestSignedWithTheWrongSecret) {
  StartSource();
  HttpHeaders forged =
      SignedRequestHeaders(kKeyId, "wrong-secret-0123456789", "POST", "/v1/orders", kOrder);
  auto client = Client(ClientAuth::kNone);
  StatusOr<HttpResult> result = client->Post("/v1/orders", kOrder, forged);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 401);
  EXPECT_EQ(pipeline_->received(), 0u);
}

TEST_F(HttpSourceTest, TurnsACancelIntoACancelMessageForTheKeysOnlyAccount) {
  StartSource();
  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders/c%2D1/cancel", "");
  std::optional<Message> message = pipeline_->Next();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, MessageKind::kCancel);
  EXPECT_EQ(message->body, CancelBody("ACC1", "c-1"));
  ASSERT_TRUE(source_->Ack(*message, Accepted("c-1")).ok());
  EXPECT_EQ(Get(response).status, 200);
}

TEST_F(HttpSourceTest, GivesTheSameIdentityToARequestResentWithItsIdempotencyKey) {
  StartSource();
  auto client = Client();
  std::string identities[2];
  for (std::string& identity : identities) {
    auto response = PostAsync(*client, "/v1/orders", kOrder, {{"Idempotency-Key", "batch-42"}});
    std::optional<Message> message = pipeline_->Next();
    ASSERT_TRUE(message);
    identity = message->identity;
    ASSERT_TRUE(source_->Ack(*message, Accepted("c1")).ok());
    Get(response);
  }
  EXPECT_EQ(identities[0], identities[1]);
}

TEST_F(HttpSourceTest, ReportsEngineStateOnHealthAndReadiness) {
  StartSource();
  auto client = Client(ClientAuth::kNone);
  engine_available_->store(false);
  StatusOr<HttpResult> health = client->Get("/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body)["engine"], "down");
  StatusOr<HttpResult> not_ready = client->Get("/readyz");
  ASSERT_TRUE(not_ready.ok());
  EXPECT_EQ(not_ready->status, 503);
  engine_available_->store(true);
  StatusOr<HttpResult> ready = client->Get("/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
}

TEST_F(HttpSourceTest, ServesPrometheusMetricsCountingResponsesByCode) {
  StartSource();
  auto client = Client(ClientAuth::kNone);
  StatusOr<HttpResult> refused = client->Post("/v1/orders", kOrder);
  ASSERT_TRUE(refused.ok());
  ASSERT_EQ(refused->status, 401);
  StatusOr<HttpResult> metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("wojak_http_responses_total{code=\"401\"}"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("wojak_http_connections"), std::string::npos);
}

// A raw socket so several requests can be written before any response is read.
int ConnectRaw(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string SignedRawRequest(const std::string& body, bool keep_alive = true) {
  std::string request = "POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] :
       SignedRequestHeaders(kKeyId, kSecret, "POST", "/v1/orders", body)) {
    request += name + ": " + value + "\r\n";
  }
  if (!keep_alive) request += "Connection: close\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return request;
}

std::string ReadAll(int fd) {
  std::string data;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
  return data;
}

TEST_F(HttpSourceTest, AnswersPipelinedRequestsInRequestOrder) {
  StartSource();
  int fd = ConnectRaw(source_->port());
  ASSERT_GE(fd, 0);
  std::string requests;
  for (int i = 0; i < 3; ++i) {
    std::string body = kOrder;
    body.replace(body.find("\"c1\""), 4, "\"p" + std::to_string(i) + "\"");
    requests += SignedRawRequest(body, /*keep_alive=*/i < 2);
  }
  ASSERT_EQ(write(fd, requests.data(), requests.size()), static_cast<ssize_t>(requests.size()));
  std::vector<Message> messages;
  for (int i = 0; i < 3; ++i) {
    std::optional<Message> message = pipeline_->Next();
    ASSERT_TRUE(message);
    messages.push_back(*message);
  }
  // Decided in reverse: the responses must still come back in request order.
  for (int i = 2; i >= 0; --i) {
    ASSERT_TRUE(source_->Ack(messages[i], Accepted("p" + std::to_string(i))).ok());
  }
  std::string responses = ReadAll(fd);
  close(fd);
  size_t p0 = responses.find("\"p0\"");
  size_t p1 = responses.find("\"p1\"");
  size_t p2 = responses.find("\"p2\"");
  ASSERT_NE(p0, std::string::npos) << responses;
  ASSERT_NE(p1, std::string::npos);
  ASSERT_NE(p2, std::string::npos);
  EXPECT_LT(p0, p1);
  EXPECT_LT(p1, p2);
}

TEST_F(HttpSourceTest, SurvivesAClientThatDisconnectsBeforeItsAnswer) {
  StartSource();
  int fd = ConnectRaw(source_->port());
  ASSERT_GE(fd, 0);
  std::string request = SignedRawRequest(kOrder);
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::optional<Message> orphan = pipeline_->Next();
  ASSERT_TRUE(orphan);
  close(fd);
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(source_->Ack(*orphan, Accepted("c1")).ok());

  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders", kOrder);
  std::optional<Message> message = pipeline_->Next();
  ASSERT_TRUE(message);
  ASSERT_TRUE(source_->Ack(*message, Accepted("c1")).ok());
  EXPECT_EQ(Get(response).status, 200);
}

TEST_F(HttpSourceTest, StoppingIntakeAnswersQueuedAndNewOrdersWith503) {
  StartSource();
  pipeline_.reset();  // nobody polls: the order stays queued in the source
  auto client = Client();
  auto response = PostAsync(*client, "/v1/orders", kOrder);
  std::this_thread::sleep_for(milliseconds(100));
  source_->StopIntake();
  EXPECT_EQ(Get(response).status, 503);
  auto late_client = Client();
  StatusOr<HttpResult> late = late_client->Post("/v1/orders", kOrder);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->status, 503);
}

// Self-signed certificate made with the openssl command line tool in a fresh directory.
class HttpsSourceTest : public HttpSourceTest {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("wojak-http-tls-" + std::to_string(getpid()) + "-" + RandomHex128());
    std::filesystem::create_directories(directory_);
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
        (directory_ / "key.pem").string() + " -out " + (directory_ / "cert.pem").string() +
        " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0);
    options_.tls = true;
    options_.tls_cert_file = (directory_ / "cert.pem").string();
    options_.tls_key_file = (directory_ / "key.pem").string();
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path directory_;
};

TEST_F(HttpsSourceTest, ServesOrdersOverTls) {
  StartSource();
  HttpClientOptions client_options;
  client_options.port = source_->port();
  client_options.tls = true;
  client_options.ca_file = options_.tls_cert_file;
  client_options.key_id = kKeyId;
  client_options.secret = kSecret;
  StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Connect(client_options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto response = PostAsync(**client, "/v1/orders", kOrder);
  std::optional<Message> message = pipeline_->Next();
  ASSERT_TRUE(message);
  ASSERT_TRUE(source_->Ack(*message, Accepted("c1")).ok());
  EXPECT_EQ(Get(response).status, 200);
}

TEST_F(HttpsSourceTest, RefusesPlainHttpOnTheTlsPort) {
  StartSource();
  HttpClientOptions client_options;
  client_options.port = source_->port();
  client_options.key_id = kKeyId;
  client_options.secret = kSecret;
  client_options.timeout = milliseconds(2000);
  StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Connect(client_options);
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE((*client)->Post("/v1/orders", kOrder).ok());
  EXPECT_EQ(pipeline_->received(), 0u);
}

// Whether a client limited to exactly `version` completes a TLS handshake with the source. The
// client's security level is lowered so that only the server can be the one refusing.
bool HandshakeSucceeds(uint16_t port, int version) {
  namespace net = boost::asio;
  net::io_context io_context;
  net::ssl::context context(net::ssl::context::tls_client);
  SSL_CTX_set_security_level(context.native_handle(), 0);
  SSL_CTX_set_min_proto_version(context.native_handle(), version);
  SSL_CTX_set_max_proto_version(context.native_handle(), version);
  context.set_verify_mode(net::ssl::verify_none);
  net::ssl::stream<net::ip::tcp::socket> stream(io_context, context);
  boost::system::error_code ec;
  stream.next_layer().connect({net::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return false;
  stream.handshake(net::ssl::stream_base::client, ec);
  return !ec;
}

TEST_F(HttpsSourceTest, RefusesTlsBelow12) {
  StartSource();
  EXPECT_TRUE(HandshakeSucceeds(source_->port(), TLS1_2_VERSION));
  EXPECT_FALSE(HandshakeSucceeds(source_->port(), TLS1_1_VERSION));
  EXPECT_FALSE(HandshakeSucceeds(source_->port(), TLS1_VERSION));
}

TEST_F(HttpsSourceTest, RefusesTls12WhenTheMinimumIs13) {
  options_.tls_min_version = "1.3";
  StartSource();
  EXPECT_TRUE(HandshakeSucceeds(source_->port(), TLS1_3_VERSION));
  EXPECT_FALSE(HandshakeSucceeds(source_->port(), TLS1_2_VERSION));
}

}  // namespace
}  // namespace wojak::sidecar::http
