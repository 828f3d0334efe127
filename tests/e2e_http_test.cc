// End to end over HTTP: a strategy's orders through the real sidecar and engine processes. Every
// decision and reason code of a mixed scenario, credentials that must never reach the engine, and
// kill -9 of the engine under load: every 200 answer is in the journal, nothing decided twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "common/clock.h"
#include "conformance/harness.h"
#include "sidecar/sources/http/http_client.h"
#include "sidecar/sources/http/http_signing.h"
#include "support/process.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using conformance::EngineProcess;
using conformance::OrderJson;
using conformance::SidecarProcess;
using nlohmann::json;
using sidecar::http::HttpClient;
using sidecar::http::HttpClientOptions;
using sidecar::http::HttpHeaders;
using sidecar::http::HttpResult;
namespace support = ::wojak::testing;

constexpr char kAlphaSecret[] = "alpha-secret-0123456789";
constexpr char kBetaSecret[] = "beta-secret-0123456789";

// Key "alpha" trades ACC1 and ACC2; key "beta" only ACC3.
constexpr char kSourceConfig[] =
    "    listen: 127.0.0.1:0\n"
    "    max_batch: 10\n"
    "    auth:\n"
    "      mode: hmac\n"
    "      keys:\n"
    "        alpha:\n"
    "          accounts: [ACC1, ACC2]\n"
    "        beta:\n"
    "          accounts: [ACC3]\n";

std::optional<uint16_t> ListeningPort(const std::string& log_path) {
  const std::regex listening(R"("event":"http_source_listening".*"port":([0-9]+))");
  std::smatch match;
  std::string log;
  if (!support::WaitUntil(
          [&] {
            log = support::ReadFile(log_path);
            return std::regex_search(log, match, listening);
          },
          10s)) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(std::stoi(match[1].str()));
}

class E2eHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<EngineProcess>(dir_.path());
    ASSERT_TRUE(engine_->Start());
    sidecar_ = std::make_unique<SidecarProcess>(dir_.path(), "http", engine_->endpoint());
    ASSERT_TRUE(sidecar_->Start(
        kSourceConfig, {std::string("WOJAK_SOURCES_HTTP_AUTH_KEYS_ALPHA_SECRET=") + kAlphaSecret,
                        std::string("WOJAK_SOURCES_HTTP_AUTH_KEYS_BETA_SECRET=") + kBetaSecret}));
    std::optional<uint16_t> port = ListeningPort(sidecar_->log_path());
    ASSERT_TRUE(port);
    port_ = *port;
    ASSERT_TRUE(support::WaitUntil(
        [&] {
          auto probe = Client("alpha", kAlphaSecret);
          auto ready = probe->Get("/readyz");
          return ready.ok() && ready->status == 200;
        },
        20s));
  }
  void TearDown() override {
    if (sidecar_) {
      EXPECT_TRUE(sidecar_->Stop());
    }
  }

  std::unique_ptr<HttpClient> Client(const std::string& key, const std::string& secret) {
    HttpClientOptions options;
    options.port = port_;
    options.key_id = key;
    options.secret = secret;
    auto client = HttpClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }
  std::unique_ptr<HttpClient> Alpha() { return Client("alpha", kAlphaSecret); }

  // Posts and returns (status, parsed body).
  std::pair<int, json> Post(HttpClient& client, const std::string& target, const std::string& body,
                            const HttpHeaders& headers = {}) {
    StatusOr<HttpResult> result = client.Post(target, body, headers);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) return {0, json()};
    return {result->status, json::parse(result->body, nullptr, false)};
  }

  static std::set<std::string> Codes(const json& decision) {
    std::set<std::string> codes;
    for (const json& reason : decision["reasons"]) codes.insert(reason["code"].get<std::string>());
    return codes;
  }

  std::map<std::string, std::vector<json>> JournalById() {
    EXPECT_TRUE(engine_->Stop());
    std::map<std::string, std::vector<json>> by_id;
    for (const json& row : engine_->Orders()) {
      by_id[row["client_order_id"].get<std::string>()].push_back(row);
    }
    return by_id;
  }

  support::TempDir dir_;
  std::unique_ptr<EngineProcess> engine_;
  std::unique_ptr<SidecarProcess> sidecar_;
  uint16_t port_ = 0;
};

std::string WithField(const std::string& order, const std::string& field, const json& value) {
  json document = json::parse(order);
  document[field] = value;
  return document.dump();
}

TEST_F(E2eHttpTest, DecidesAMixedScenarioWithEveryReasonCode) {
  auto client = Alpha();

  auto [accepted_status, accepted] = Post(*client, "/v1/orders", OrderJson("e2e-ok"));
  EXPECT_EQ(accepted_status, 200);
  EXPECT_EQ(accepted["decision"], "ACCEPTED");
  EXPECT_TRUE(accepted["order_id"].get<std::string>().rfind("W-", 0) == 0);

  auto [lot_status, lot] = Post(*client, "/v1/orders", OrderJson("e2e-lot", "ACC1", 70));
  EXPECT_EQ(lot_status, 200);
  EXPECT_EQ(lot["decision"], "REJECTED");
  EXPECT_EQ(Codes(lot), std::set<std::string>{"QTY_NOT_LOT_MULTIPLE"});

  // Several breaches at once: every one is reported, not just the first.
  auto [both_status, both] = Post(
      *client, "/v1/orders", WithField(OrderJson("e2e-both", "ACC1", 70), "price", "26065.05"));
  EXPECT_EQ(both_status, 200);
  EXPECT_EQ(both["decision"], "REJECTED");
  EXPECT_TRUE(Codes(both).count("QTY_NOT_LOT_MULTIPLE")) << both.dump();
  EXPECT_TRUE(Codes(both).count("PRICE_NOT_TICK_MULTIPLE")) << both.dump();

  auto [freeze_status, freeze] = Post(*client, "/v1/orders", OrderJson("e2e-freeze", "ACC1", 1875));
  EXPECT_EQ(freeze_status, 200);
  EXPECT_TRUE(Codes(freeze).count("QTY_ABOVE_FREEZE_LIMIT")) << freeze.dump();

  auto [unknown_status, unknown] =
      Post(*client, "/v1/orders", WithField(OrderJson("e2e-unknown"), "symbol", "NIFTY99XYZFUT"));
  EXPECT_EQ(unknown_status, 200);
  EXPECT_EQ(unknown["decision"], "REJECTED");
  EXPECT_TRUE(Codes(unknown).count("UNKNOWN_INSTRUMENT")) << unknown.dump();

  auto [escalated_status, escalated] =
      Post(*client, "/v1/orders", OrderJson("e2e-esc", "ACC1", 75, "remote"));
  EXPECT_EQ(escalated_status, 200);
  EXPECT_EQ(escalated["decision"], "ESCALATED");
  EXPECT_TRUE(Codes(escalated).count("ESCALATE_STRATEGY")) << escalated.dump();

  // Invalid: 422 listing every field error; it never reaches the engine.
  auto [invalid_status, invalid] = Post(
      *client, "/v1/orders",
      R"({"client_order_id":"e2e-invalid","account":"ACC1","side":"SIDEWAYS","quantity":"x","colour":1})");
  EXPECT_EQ(invalid_status, 422);
  std::set<std::string> fields;
  for (const json& reason : invalid["reasons"]) {
    EXPECT_EQ(reason["code"], "INVALID_ORDER");
    fields.insert(reason["field"].get<std::string>());
  }
  EXPECT_EQ(fields, (std::set<std::string>{"colour", "exchange", "symbol", "side", "quantity",
                                           "order_type", "product"}));

  // Sent again: the original decision, unchanged.
  auto [duplicate_status, duplicate] = Post(*client, "/v1/orders", OrderJson("e2e-ok"));
  EXPECT_EQ(duplicate_status, 200);
  EXPECT_EQ(duplicate["decision"], "DUPLICATE");
  EXPECT_EQ(duplicate["original"]["order_id"], accepted["order_id"]);
  EXPECT_EQ(duplicate["original"]["decision"], "ACCEPTED");

  // An array answers an array, one decision per order, in order.
  auto [array_status, array] =
      Post(*client, "/v1/orders",
           "[" + OrderJson("e2e-a1") + "," + OrderJson("e2e-a2", "ACC2", 70) + "]");
  EXPECT_EQ(array_status, 200);
  ASSERT_TRUE(array.is_array());
  ASSERT_EQ(array.size(), 2u);
  EXPECT_EQ(array[0]["decision"], "ACCEPTED");
  EXPECT_EQ(array[1]["decision"], "REJECTED");

  auto [cancel_status, cancel] =
      Post(*client, "/v1/orders/never-sent/cancel", R"({"account":"ACC1"})");
  EXPECT_EQ(cancel_status, 200);
  EXPECT_EQ(cancel["decision"], "REJECTED");
  EXPECT_TRUE(Codes(cancel).count("UNKNOWN_ORDER")) << cancel.dump();

  auto journal = JournalById();
  EXPECT_EQ(journal.count("e2e-invalid"), 0u);
  for (const char* id : {"e2e-ok", "e2e-lot", "e2e-both", "e2e-freeze", "e2e-esc", "e2e-a1"}) {
    EXPECT_EQ(journal[id].size(), 1u) << id;
  }
  EXPECT_EQ(journal["e2e-ok"][0]["order_id"], accepted["order_id"]);
}

TEST_F(E2eHttpTest, RefusesBadCredentialsBeforeTheEngine) {
  const std::string order = OrderJson("auth-bad-signature");
  auto unsigned_client = Client("alpha", "");
  HttpHeaders forged = sidecar::http::SignedRequestHeaders("alpha", "not-the-alpha-secret-000",
                                                           "POST", "/v1/orders", order);
  EXPECT_EQ(Post(*unsigned_client, "/v1/orders", order, forged).first, 401);

  const std::string expired_order = OrderJson("auth-expired");
  const int64_t ten_seconds_ago_ms = RealClock::Instance().Now() / kNanosPerMilli - 10'000;
  sidecar::http::SignedHeaders old =
      sidecar::http::SignRequest("alpha", kAlphaSecret, "POST", "/v1/orders", expired_order,
                                 ten_seconds_ago_ms, sidecar::http::RandomHex128());
  HttpHeaders expired = {{"X-Wojak-Key", old.key},
                         {"X-Wojak-Timestamp", old.timestamp},
                         {"X-Wojak-Nonce", old.nonce},
                         {"X-Wojak-Signature", old.signature}};
  EXPECT_EQ(Post(*unsigned_client, "/v1/orders", expired_order, expired).first, 401);

  const std::string replayed_order = OrderJson("auth-replayed");
  HttpHeaders once = sidecar::http::SignedRequestHeaders("alpha", kAlphaSecret, "POST",
                                                         "/v1/orders", replayed_order);
  EXPECT_EQ(Post(*unsigned_client, "/v1/orders", replayed_order, once).first, 200);
  auto [replay_status, replay] = Post(*unsigned_client, "/v1/orders", replayed_order, once);
  EXPECT_EQ(replay_status, 401);
  EXPECT_NE(replay["error"].get<std::string>().find("nonce"), std::string::npos);

  auto beta = Client("beta", kBetaSecret);
  EXPECT_EQ(Post(*beta, "/v1/orders", OrderJson("auth-other-account", "ACC1")).first, 403);
  EXPECT_EQ(Post(*beta, "/v1/orders/auth-replayed/cancel", R"({"account":"ACC1"})").first, 403);

  auto journal = JournalById();
  EXPECT_EQ(journal.count("auth-bad-signature"), 0u);
  EXPECT_EQ(journal.count("auth-expired"), 0u);
  EXPECT_EQ(journal.count("auth-other-account"), 0u);
  EXPECT_EQ(journal["auth-replayed"].size(), 1u);
}

TEST_F(E2eHttpTest, KillNineUnderLoadKeepsEvery200AnswerAndDecidesNothingTwice) {
  constexpr int kClients = 4;
  constexpr int kOrdersPerClient = 150;
  std::mutex mutex;
  std::map<std::string, json> answered;  // client_order_id -> decision of its 200
  std::atomic<int> decided{0};
  std::atomic<int> retries{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = Alpha();
      for (int i = 0; i < kOrdersPerClient; ++i) {
        const std::string id = "load-" + std::to_string(c) + "-" + std::to_string(i);
        const std::string order = OrderJson(id, c % 2 == 0 ? "ACC1" : "ACC2", i % 9 == 0 ? 70 : 75);
        // Until decided: a 503 or a dropped connection means "not decided, send again".
        for (int attempt = 0; attempt < 2000; ++attempt) {
          StatusOr<HttpResult> result = client->Post("/v1/orders", order);
          if (result.ok() && result->status == 200) {
            std::lock_guard lock(mutex);
            answered[id] = json::parse(result->body);
            ++decided;
            break;
          }
          ++retries;
          std::this_thread::sleep_for(20ms);
        }
      }
    });
  }
  ASSERT_TRUE(support::WaitUntil([&] { return decided.load() >= 100; }, 60s));
  engine_->Kill();
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(engine_->Start());
  for (std::thread& client : clients) client.join();
  EXPECT_GT(retries.load(), 0) << "the kill should have made some orders wait";
  ASSERT_EQ(answered.size(), static_cast<size_t>(kClients * kOrdersPerClient));

  auto journal = JournalById();
  for (const auto& [id, decision] : answered) {
    ASSERT_EQ(journal[id].size(), 1u) << id << " decided " << journal[id].size() << " times";
    const json& original = decision.contains("original") ? decision["original"] : decision;
    EXPECT_EQ(original["order_id"], journal[id][0]["order_id"]) << id;
    EXPECT_EQ(original["decision"], journal[id][0]["decision"]["decision"]) << id;
  }
}

}  // namespace
}  // namespace wojak
