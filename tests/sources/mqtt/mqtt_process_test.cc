// `wojak engine` + `wojak sidecar --source mqtt` as real processes against mosquitto: orders from
// mosquitto_pub decided and published to <prefix>/decisions/<account>, malformed ones
// dead-lettered; a sidecar killed -9 with decided-but-unacknowledged orders gets them again
// (DUP) and the engine answers DUPLICATE; a broker restart mid-stream loses nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "mosquitto_broker.h"
#include "support/process.h"

namespace wojak::testing {
namespace {

namespace mq = sidecar::mqtt;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kEngineConfig =
    std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.8
    latency_max: 1ms
)";

// Every order carries its own client_order_id, so the decisions can be matched to orders.
std::string OrderJson(int n, int quantity = 75) {
  return json{{"client_order_id", "o-" + std::to_string(n)},
              {"account", "ACC" + std::to_string(n % 3)},
              {"strategy", "s"},
              {"exchange", "NFO"},
              {"symbol", "NIFTY26DECFUT"},
              {"side", "BUY"},
              {"quantity", quantity},
              {"order_type", "LIMIT"},
              {"product", "NRML"},
              {"price", "26065.00"}}
      .dump();
}

class MqttProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteFile(dir_.File("engine.yaml"), kEngineConfig); }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- sidecar log (tail) ---\n" << Tail(ReadFile(dir_.File("sidecar.log")));
      std::cerr << "--- engine log (tail) ---\n" << Tail(ReadFile(dir_.File("engine.log")));
      if (broker_) std::cerr << "--- mosquitto log (tail) ---\n" << Tail(broker_->log());
    }
  }
  static std::string Tail(const std::string& text) {
    return text.substr(text.size() > 6000 ? text.size() - 6000 : 0);
  }

  void StartBroker(const std::string& extra_config = "") {
    broker_ = std::make_unique<MosquittoBroker>(dir_.File(""), extra_config);
  }

  std::string endpoint() const { return "ipc://" + dir_.File("engine.sock"); }

  void StartEngine() {
    engine_ = ChildProcess::Start(
        {WojakBinary(), "engine", "--config", dir_.File("engine.yaml"), "--data", dir_.path(),
         "--endpoint", endpoint(), "--instruments", SourceDir() + "/tests/testdata/instruments.csv",
         "--freeze", SourceDir() + "/tests/testdata/freeze_limits.csv"},
        dir_.File("engine.log"));
    ASSERT_TRUE(WaitUntil(
        [&] {
          return ReadFile(dir_.File("engine.log")).find("engine_ready") != std::string::npos ||
                 !engine_.running();
        },
        30s));
    ASSERT_TRUE(engine_.running()) << ReadFile(dir_.File("engine.log"));
  }

  void StartSidecar(const std::string& protocol = "3.1.1", int window = 256) {
    WriteFile(dir_.File("sidecar.yaml"),
              "log:\n"
              "  level: debug\n"
              "sidecar:\n"
              "  window: " +
                  std::to_string(window) +
                  "\n"
                  "  request_timeout: 60s\n"
                  "  heartbeat_interval: 30s\n"
                  "sources:\n"
                  "  mqtt:\n"
                  "    host: 127.0.0.1\n"
                  "    port: " +
                  std::to_string(broker_->port()) +
                  "\n"
                  "    protocol: '" +
                  protocol +
                  "'\n"
                  "    client_id: wojak-test-sidecar\n"
                  "    receive_maximum: " +
                  std::to_string(window) +
                  "\n"
                  "    keep_alive: 10s\n"
                  "    reconnect_initial: 50ms\n"
                  "    reconnect_max: 500ms\n");
    const size_t before = Count(ReadFile(dir_.File("sidecar.log")), "mqtt_connected");
    sidecar_ = ChildProcess::Start({WojakBinary(), "sidecar", "--source", "mqtt", "--config",
                                    dir_.File("sidecar.yaml"), "--endpoint", endpoint()},
                                   dir_.File("sidecar.log"));
    ASSERT_TRUE(WaitUntil(
        [&] {
          return Count(ReadFile(dir_.File("sidecar.log")), "mqtt_connected") > before ||
                 !sidecar_.running();
        },
        30s));
    ASSERT_TRUE(sidecar_.running()) << ReadFile(dir_.File("sidecar.log"));
  }

  static size_t Count(const std::string& text, const std::string& needle) {
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++count;
    }
    return count;
  }

  void PublishOrders(MqttTestClient& publisher, int from, int to) {
    std::vector<mq::MqttOutgoing> batch;
    for (int i = from; i < to; ++i)
      batch.push_back({"wojak/orders/s1", OrderJson(i), 1, false, {}});
    publisher.PublishAll(batch);
  }

  // Decisions by client_order_id (every answer kept).
  std::map<std::string, std::vector<json>> DecisionsById(const MqttTestClient& observer) {
    std::map<std::string, std::vector<json>> by_id;
    for (const auto& p : observer.received()) {
      if (p.topic.rfind("wojak/decisions/", 0) != 0) continue;
      json decision = json::parse(p.payload);
      by_id[decision.value("client_order_id", "")].push_back(decision);
    }
    return by_id;
  }

  json JournalOrders() {
    ChildProcess list = ChildProcess::Start(
        {WojakBinary(), "orders", "--data", dir_.path(), "--json", "--limit", "100000"},
        dir_.File("orders.json"));
    EXPECT_EQ(list.Wait(30s), 0) << ReadFile(dir_.File("orders.json"));
    json rows = json::parse(ReadFile(dir_.File("orders.json")), nullptr, false);
    std::remove(dir_.File("orders.json").c_str());
    return rows.is_discarded() ? json::array() : rows;
  }

  // Connects as the sidecar would and checks the broker holds nothing for it any more.
  void ExpectSessionEmpty(mq::MqttVersion version) {
    auto client = mq::MqttClient::Connect(broker_->ClientOptions("wojak-test-sidecar", version));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    MqttTestClient marker(*broker_, "marker-publisher");
    marker.Publish("wojak/orders/marker", "marker");
    std::vector<mq::PublishPacket> got;
    WaitUntil(
        [&] {
          auto events = (*client)->Read(20ms);
          if (!events.ok()) return true;
          for (auto& e : *events) {
            if (e.kind == mq::MqttEvent::Kind::kPublish) got.push_back(e.publish);
          }
          return !got.empty();
        },
        10s);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0].payload, "marker") << "an order was left unacknowledged: " << got[0].payload;
  }

  void StopAll() {
    sidecar_.Signal(SIGTERM);
    EXPECT_EQ(sidecar_.Wait(20s), 0) << "the sidecar drains and exits 0 on SIGTERM";
    engine_.Signal(SIGTERM);
    EXPECT_EQ(engine_.Wait(20s), 0);
  }

  TempDir dir_;
  std::unique_ptr<MosquittoBroker> broker_;
  ChildProcess engine_;
  ChildProcess sidecar_;
};

TEST_F(MqttProcessTest, DecidesOrdersFromMosquittoPubPublishesDecisionsAndDeadLetters) {
  ASSERT_NO_FATAL_FAILURE(StartBroker("max_inflight_messages 1000\n"));
  MqttTestClient observer(*broker_, "observer");
  observer.Subscribe({"wojak/decisions/#", "wojak/dead-letter"});
  ASSERT_NO_FATAL_FAILURE(StartEngine());
  ASSERT_NO_FATAL_FAILURE(StartSidecar("3.1.1"));
  constexpr int kOrders = 300;
  std::vector<std::string> lines;
  for (int i = 0; i < kOrders; ++i) lines.push_back(OrderJson(i));
  lines.push_back(OrderJson(kOrders, 70));
  lines.push_back(R"({"account":"ACC1","client_order_id":"bad-1","colour":"blue"})");
  ASSERT_EQ(MosquittoPublishLines(*broker_, "wojak/orders/s1", lines, dir_.path()), 0);

  observer.Collect(kOrders + 1 + 2, 60s);  // decisions, plus a rejection and a dead letter
  auto decisions = DecisionsById(observer);
  for (int i = 0; i < kOrders; ++i) {
    const auto& answers = decisions["o-" + std::to_string(i)];
    ASSERT_EQ(answers.size(), 1u) << "order " << i;
    EXPECT_EQ(answers[0]["decision"], "ACCEPTED") << answers[0].dump();
  }
  EXPECT_EQ(decisions["o-" + std::to_string(kOrders)].at(0)["reasons"][0]["code"],
            "QTY_NOT_LOT_MULTIPLE");
  EXPECT_EQ(decisions["bad-1"].at(0)["decision"], "REJECTED");
  bool dead_lettered = false;
  for (const auto& p : observer.received()) {
    if (p.topic == "wojak/dead-letter") {
      dead_lettered =
          json::parse(p.payload)["reason"].get<std::string>().find("colour") != std::string::npos;
    }
  }
  EXPECT_TRUE(dead_lettered);
  StopAll();
  ExpectSessionEmpty(mq::MqttVersion::k311);
  EXPECT_EQ(JournalOrders().size(), static_cast<size_t>(kOrders + 1));
}

TEST_F(MqttProcessTest, KilledSidecarsUnacknowledgedOrdersComeBackDupAndAreAnsweredDuplicate) {
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  MqttTestClient observer(*broker_, "observer", mq::MqttVersion::k5);
  observer.Subscribe({"wojak/decisions/#"});
  MqttTestClient publisher(*broker_, "publisher", mq::MqttVersion::k5);
  ASSERT_NO_FATAL_FAILURE(StartEngine());
  constexpr int kOrders = 60;
  ASSERT_NO_FATAL_FAILURE(StartSidecar("5", /*window=*/kOrders));
  // Freeze the engine: the sidecar takes every order and holds it unacknowledged.
  engine_.Signal(SIGSTOP);
  PublishOrders(publisher, 0, kOrders);
  ASSERT_TRUE(WaitUntil(
      [&] { return Count(ReadFile(dir_.File("sidecar.log")), "mqtt_received") == kOrders; }, 30s))
      << "the sidecar should have received all " << kOrders << " orders";
  // Freeze the broker, then let the engine decide everything: the sidecar publishes the
  // decisions but the broker cannot acknowledge them, so no order is acknowledged. Kill the
  // sidecar in that state: every order is decided and durable, none is acknowledged.
  broker_->Pause();
  engine_.Signal(SIGCONT);
  ASSERT_TRUE(WaitUntil([&] { return JournalOrders().size() == kOrders; }, 60s));
  sidecar_.Kill();
  broker_->Resume();

  ASSERT_NO_FATAL_FAILURE(StartSidecar("5", kOrders));
  std::map<std::string, std::vector<json>> decisions;
  auto all_duplicated = [&] {
    observer.Collect(0, 50ms);
    decisions = DecisionsById(observer);
    size_t duplicated = 0;
    for (const auto& [id, answers] : decisions) {
      duplicated += answers.back()["decision"] == "DUPLICATE" ? 1 : 0;
    }
    return duplicated == static_cast<size_t>(kOrders);
  };
  EXPECT_TRUE(WaitUntil(all_duplicated, 60s)) << "every order is answered DUPLICATE";
  ASSERT_EQ(decisions.size(), static_cast<size_t>(kOrders));
  for (const auto& [id, answers] : decisions) {
    // The killed sidecar's decision may still have reached the broker; the redelivery's comes
    // last and repeats the original decision.
    ASSERT_LE(answers.size(), 2u) << id;
    EXPECT_EQ(answers.back()["decision"], "DUPLICATE") << answers.back().dump();
    EXPECT_EQ(answers.back()["original"]["decision"], "ACCEPTED") << answers.back().dump();
    if (answers.size() == 2) {
      EXPECT_EQ(answers.front()["decision"], "ACCEPTED");
    }
  }
  const std::string log = ReadFile(dir_.File("sidecar.log"));
  EXPECT_EQ(Count(log, "\"dup\":true"), static_cast<size_t>(kOrders))
      << "the broker marks the redeliveries DUP";
  StopAll();
  ExpectSessionEmpty(mq::MqttVersion::k5);
  EXPECT_EQ(JournalOrders().size(), static_cast<size_t>(kOrders)) << "nothing decided twice";
}

TEST_F(MqttProcessTest, BrokerRestartMidStreamLosesNothingAndDecidesNothingTwice) {
  ASSERT_NO_FATAL_FAILURE(StartBroker("max_inflight_messages 100\n"));
  MqttTestClient observer(*broker_, "observer");
  observer.Subscribe({"wojak/decisions/#"});
  MqttTestClient publisher(*broker_, "publisher");
  ASSERT_NO_FATAL_FAILURE(StartEngine());
  ASSERT_NO_FATAL_FAILURE(StartSidecar("3.1.1"));
  constexpr int kWarmUp = 100;
  constexpr int kBefore = 1500;
  constexpr int kAfter = 300;
  constexpr int kInflight = 100;  // the broker's max_inflight_messages
  PublishOrders(publisher, 0, kWarmUp);
  observer.Collect(kWarmUp, 30s);
  ASSERT_EQ(observer.received().size(), static_cast<size_t>(kWarmUp));
  // Freeze the engine so the broker's whole in-flight window sits with the sidecar when the
  // broker goes: those decisions arrive on a dead connection and must not be acknowledged on
  // the next one. The rest of the stream waits in the broker's queue for our session.
  engine_.Signal(SIGSTOP);
  PublishOrders(publisher, kWarmUp, kBefore);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Count(ReadFile(dir_.File("sidecar.log")), "mqtt_received") ==
               static_cast<size_t>(kWarmUp + kInflight);
      },
      30s));
  broker_->Stop();
  engine_.Signal(SIGCONT);
  broker_->Start();
  publisher.Reconnect();
  observer.Reconnect();
  PublishOrders(publisher, kBefore, kBefore + kAfter);

  std::map<std::string, std::vector<json>> decisions;
  WaitUntil(
      [&] {
        observer.Collect(0, 50ms);
        decisions = DecisionsById(observer);
        return decisions.size() == static_cast<size_t>(kBefore + kAfter);
      },
      120s);
  EXPECT_EQ(decisions.size(), static_cast<size_t>(kBefore + kAfter))
      << "every order answered at least once";
  size_t duplicates = 0;
  for (const auto& [id, answers] : decisions) {
    for (const json& answer : answers) {
      if (answer["decision"] == "DUPLICATE") {
        ++duplicates;
        EXPECT_EQ(answer["original"]["decision"], "ACCEPTED") << answer.dump();
      } else {
        EXPECT_EQ(answer["decision"], "ACCEPTED") << answer.dump();
      }
    }
  }
  EXPECT_GE(duplicates, static_cast<size_t>(kInflight))
      << "the in-flight window was sent again after the restart";
  EXPECT_GE(Count(ReadFile(dir_.File("sidecar.log")), "mqtt_link_lost"), 1u);
  StopAll();
  ExpectSessionEmpty(mq::MqttVersion::k311);
  json orders = JournalOrders();
  std::set<std::string> ids;
  for (const json& row : orders) ids.insert(row["client_order_id"].get<std::string>());
  EXPECT_EQ(orders.size(), static_cast<size_t>(kBefore + kAfter));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kBefore + kAfter)) << "each order decided once";
}

}  // namespace
}  // namespace wojak::testing
