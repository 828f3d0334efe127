// `wojak engine` + `wojak sidecar --source rabbitmq` as real processes against rabbitmq-server:
// orders decided and answered over RPC, malformed ones dead-lettered; a sidecar killed -9 with
// decided-but-unacked messages gets them redelivered (redelivered flag) and the engine answers
// DUPLICATE; a broker restart in the middle of a stream loses nothing and decides nothing twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "rabbitmq_broker.h"
#include "support/process.h"

namespace wojak::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TempDir* broker_dir = nullptr;
RabbitBroker* broker = nullptr;

class BrokerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    broker_dir = new TempDir();
    broker = RabbitBroker::StartOrAttach(broker_dir->File("broker")).release();
  }
  void TearDown() override {
    delete broker;
    delete broker_dir;
  }
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new BrokerEnvironment);

// Limits off and the session open at any hour, so only the order's content decides.
const std::string kEngineConfig =
    std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.8
    latency_max: 1ms
)";

std::string OrderJson(int n, int quantity = 75) {
  return json{{"account", "ACC" + std::to_string(n % 3)},
              {"strategy", "s"},
              {"exchange", "NFO"},
              {"symbol", "NIFTY26DECFUT"},
              {"side", "BUY"},  // one side only: no self-trade between test orders
              {"quantity", quantity},
              {"order_type", "LIMIT"},
              {"product", "NRML"},
              {"price", "26065.00"}}
      .dump();
}

class RabbitProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    queue_ = UniqueQueueName("orders");
    replies_ = UniqueQueueName("replies");
    client_ = std::make_unique<AmqpTestClient>(broker->connection_options());
    client_->DeclareQueue(replies_);
    WriteFile(dir_.File("engine.yaml"), kEngineConfig);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- sidecar log ---\n" << ReadFile(dir_.File("sidecar.log"));
      std::cerr << "--- engine log (tail) ---\n";
      const std::string engine_log = ReadFile(dir_.File("engine.log"));
      std::cerr << engine_log.substr(engine_log.size() > 4000 ? engine_log.size() - 4000 : 0);
    }
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

  // The sidecar's config: the test's queue, a long request timeout (tests stop the engine on
  // purpose), fast reconnects.
  void StartSidecar(int window = 256) {
    WriteFile(dir_.File("sidecar.yaml"),
              "sidecar:\n"
              "  window: " +
                  std::to_string(window) +
                  "\n"
                  "  request_timeout: 60s\n"
                  "  heartbeat_interval: 30s\n"
                  "sources:\n"
                  "  rabbitmq:\n"
                  "    host: 127.0.0.1\n"
                  "    port: " +
                  std::to_string(broker->port()) +
                  "\n"
                  "    queue: " +
                  queue_ +
                  "\n"
                  "    prefetch: " +
                  std::to_string(window) +
                  "\n"
                  "    reconnect_initial: 100ms\n"
                  "    reconnect_max: 1s\n"
                  "    heartbeat: 10s\n");
    const size_t connected_before = Count(ReadFile(dir_.File("sidecar.log")), "rabbitmq_connected");
    sidecar_ =
        ChildProcess::Start({WojakBinary(), "sidecar", "--source", "rabbitmq", "--config",
                             dir_.File("sidecar.yaml"), "--endpoint", endpoint()},
                            dir_.File("sidecar.log"), {"WOJAK_SOURCES_RABBITMQ_PASSWORD=guest"});
    ASSERT_TRUE(WaitUntil(
        [&] {
          return Count(ReadFile(dir_.File("sidecar.log")), "rabbitmq_connected") >
                     connected_before ||
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

  void PublishOrders(int from, int to) {
    std::vector<sidecar::rabbitmq::RabbitOutgoing> batch;
    for (int i = from; i < to; ++i) {
      sidecar::rabbitmq::RabbitOutgoing message;
      message.routing_key = queue_;
      message.body = OrderJson(i);
      message.message_id = "m-" + std::to_string(i);
      message.reply_to = replies_;
      message.correlation_id = "c-" + std::to_string(i);
      batch.push_back(std::move(message));
    }
    client_->PublishAll(batch);
  }

  // Replies by correlation id; a correlation id answered twice keeps every answer.
  void CollectReplies(size_t count, std::chrono::milliseconds timeout) {
    WaitUntil(
        [&] {
          while (auto reply = client_->Get(replies_)) {
            replies_by_id_[reply->correlation_id].push_back(json::parse(reply->body));
            ++reply_count_;
          }
          return reply_count_ >= count;
        },
        timeout);
  }

  // Orders in the journal (`wojak orders --json`).
  json JournalOrders() {
    ChildProcess list = ChildProcess::Start(
        {WojakBinary(), "orders", "--data", dir_.path(), "--json", "--limit", "100000"},
        dir_.File("orders.json"));
    EXPECT_EQ(list.Wait(30s), 0) << ReadFile(dir_.File("orders.json"));
    json rows = json::parse(ReadFile(dir_.File("orders.json")), nullptr, false);
    std::remove(dir_.File("orders.json").c_str());
    return rows.is_discarded() ? json::array() : rows;
  }

  // After the sidecar stopped: nothing ready and nothing unacked (a message the sidecar held is
  // one or the other while the broker processes the closed connection).
  void ExpectDrained() {
    auto counts = broker->QueueCounts(queue_);
    ASSERT_TRUE(counts.has_value());
    EXPECT_EQ(counts->first + counts->second, 0) << "queue " << queue_ << " still holds messages";
  }

  void StopAll() {
    sidecar_.Signal(SIGTERM);
    EXPECT_EQ(sidecar_.Wait(20s), 0) << "the sidecar drains and exits 0 on SIGTERM";
    engine_.Signal(SIGTERM);
    EXPECT_EQ(engine_.Wait(20s), 0);
  }

  TempDir dir_;
  std::string queue_;
  std::string replies_;
  std::unique_ptr<AmqpTestClient> client_;
  ChildProcess engine_;
  ChildProcess sidecar_;
  std::map<std::string, std::vector<json>> replies_by_id_;
  size_t reply_count_ = 0;
};

TEST_F(RabbitProcessTest, DecidesOrdersRepliesOverRpcAndDeadLettersTheMalformed) {
  ASSERT_NO_FATAL_FAILURE(StartEngine());
  ASSERT_NO_FATAL_FAILURE(StartSidecar());
  constexpr int kOrders = 300;
  PublishOrders(0, kOrders);
  client_->Publish(queue_, OrderJson(kOrders, 70), "m-lot", replies_, "c-lot");
  client_->Publish(queue_, R"({"account":"ACC1","colour":"blue"})", "m-bad", replies_, "c-bad");
  CollectReplies(kOrders + 2, 60s);
  ASSERT_EQ(reply_count_, static_cast<size_t>(kOrders + 2));
  for (int i = 0; i < kOrders; ++i) {
    const auto& answers = replies_by_id_["c-" + std::to_string(i)];
    ASSERT_EQ(answers.size(), 1u) << "order " << i;
    EXPECT_EQ(answers[0]["decision"], "ACCEPTED") << answers[0].dump();
  }
  EXPECT_EQ(replies_by_id_["c-lot"].at(0)["decision"], "REJECTED");
  EXPECT_EQ(replies_by_id_["c-lot"].at(0)["reasons"][0]["code"], "QTY_NOT_LOT_MULTIPLE");
  EXPECT_EQ(replies_by_id_["c-bad"].at(0)["decision"], "REJECTED");
  auto dead = client_->WaitFor(queue_ + ".dead-letter", 10s);
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->message_id, "m-bad");
  EXPECT_NE(dead->headers["x-wojak-dead-letter-reason"].find("colour"), std::string::npos)
      << dead->headers["x-wojak-dead-letter-reason"];
  StopAll();
  ExpectDrained();
  EXPECT_EQ(JournalOrders().size(), static_cast<size_t>(kOrders + 1));
}

TEST_F(RabbitProcessTest, KilledSidecarsDecidedButUnackedMessagesComeBackAndAreAnsweredDuplicate) {
  ASSERT_NO_FATAL_FAILURE(StartEngine());
  constexpr int kOrders = 60;
  ASSERT_NO_FATAL_FAILURE(StartSidecar(/*window=*/kOrders));
  // Freeze the engine so the sidecar holds every message unacked, in flight.
  engine_.Signal(SIGSTOP);
  PublishOrders(0, kOrders);
  // Nothing is acked while the engine is frozen, so an empty ready count means the broker
  // delivered all of them to the sidecar.
  ASSERT_TRUE(WaitUntil([&] { return client_->Ready(queue_) == 0; }, 30s))
      << "the sidecar should hold all " << kOrders << " messages unacked";
  // Freeze the broker, then let the engine decide everything: the sidecar publishes the
  // replies but gets no confirms, so it acks nothing. Kill it in that state: every order is
  // decided and durable, none is acked.
  client_.reset();
  broker->Pause();
  engine_.Signal(SIGCONT);
  ASSERT_TRUE(WaitUntil([&] { return JournalOrders().size() == kOrders; }, 60s));
  sidecar_.Kill();
  broker->Resume();
  client_ = std::make_unique<AmqpTestClient>(broker->connection_options());

  std::optional<FetchedMessage> peek;
  ASSERT_TRUE(
      WaitUntil([&] { return (peek = client_->Get(queue_, /*requeue=*/true)).has_value(); }, 10s));
  EXPECT_TRUE(peek->redelivered) << "the broker flags what the dead consumer held";

  ASSERT_NO_FATAL_FAILURE(StartSidecar(kOrders));
  auto all_duplicated = [&] {
    CollectReplies(0, 0ms);
    size_t duplicated = 0;
    for (const auto& [id, answers] : replies_by_id_) {
      duplicated += answers.back()["decision"] == "DUPLICATE" ? 1 : 0;
    }
    return duplicated == static_cast<size_t>(kOrders);
  };
  EXPECT_TRUE(WaitUntil(all_duplicated, 60s)) << "every order is answered DUPLICATE";
  for (int i = 0; i < kOrders; ++i) {
    const auto& answers = replies_by_id_["c-" + std::to_string(i)];
    // The killed sidecar's reply may still have reached the broker; the redelivery's comes last
    // and repeats the original decision.
    ASSERT_FALSE(answers.empty()) << "order " << i;
    ASSERT_LE(answers.size(), 2u) << "order " << i;
    EXPECT_EQ(answers.back()["decision"], "DUPLICATE") << answers.back().dump();
    EXPECT_EQ(answers.back()["original"]["decision"], "ACCEPTED") << answers.back().dump();
    if (answers.size() == 2) {
      EXPECT_EQ(answers.front()["decision"], "ACCEPTED");
    }
  }
  StopAll();
  ExpectDrained();
  EXPECT_EQ(JournalOrders().size(), static_cast<size_t>(kOrders)) << "nothing decided twice";
}

TEST_F(RabbitProcessTest, BrokerRestartMidStreamLosesNothingAndDecidesNothingTwice) {
  ASSERT_NO_FATAL_FAILURE(StartEngine());
  ASSERT_NO_FATAL_FAILURE(StartSidecar(/*window=*/256));
  constexpr int kWarmUp = 100;
  constexpr int kBefore = 1500;
  constexpr int kAfter = 300;
  constexpr int kWindow = 256;
  PublishOrders(0, kWarmUp);
  CollectReplies(kWarmUp, 30s);
  ASSERT_EQ(reply_count_, static_cast<size_t>(kWarmUp));
  // Freeze the engine so a full window is in flight when the broker goes away: those decisions
  // arrive after the connection died, so their acks must be dropped and the broker must
  // redeliver them. The rest of the stream waits in the queue.
  engine_.Signal(SIGSTOP);
  PublishOrders(kWarmUp, kBefore);
  ASSERT_TRUE(WaitUntil([&] { return client_->Ready(queue_) == kBefore - kWarmUp - kWindow; }, 30s))
      << "the sidecar should hold a full window (" << kWindow << ") unacked";
  client_.reset();  // its connections die with the broker
  broker->Stop();
  engine_.Signal(SIGCONT);
  broker->Start();
  client_ = std::make_unique<AmqpTestClient>(broker->connection_options());
  PublishOrders(kBefore, kBefore + kAfter);

  size_t duplicates = 0;
  WaitUntil(
      [&] {
        CollectReplies(0, 0ms);
        return replies_by_id_.size() == static_cast<size_t>(kBefore + kAfter);
      },
      120s);
  for (const auto& [id, answers] : replies_by_id_) {
    for (const json& answer : answers) {
      if (answer["decision"] == "DUPLICATE") {
        ++duplicates;
        EXPECT_EQ(answer["original"]["decision"], "ACCEPTED") << answer.dump();
      } else {
        EXPECT_EQ(answer["decision"], "ACCEPTED") << answer.dump();
      }
    }
  }
  EXPECT_EQ(replies_by_id_.size(), static_cast<size_t>(kBefore + kAfter))
      << "every order answered at least once";
  EXPECT_GE(duplicates, static_cast<size_t>(kWindow))
      << "the in-flight window was redelivered after the restart";
  const std::string log = ReadFile(dir_.File("sidecar.log"));
  EXPECT_GE(Count(log, "rabbitmq_link_lost"), 1u);
  EXPECT_GE(Count(log, "rabbitmq_connected"), 2u);
  StopAll();
  ExpectDrained();
  json orders = JournalOrders();
  std::set<std::string> ids;
  for (const json& row : orders) {
    ids.insert(row["account"].get<std::string>() + "/" + row["client_order_id"].get<std::string>());
  }
  EXPECT_EQ(orders.size(), static_cast<size_t>(kBefore + kAfter));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kBefore + kAfter)) << "each order decided once";
}

}  // namespace
}  // namespace wojak::testing
