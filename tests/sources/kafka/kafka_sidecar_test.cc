// `wojak sidecar --source kafka` as a real process between librdkafka's mock cluster and a real
// engine process: decisions and dead letters, replay after kill -9 (answered DUPLICATE), two
// sidecars sharing a group, and per-partition order of decisions.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "sidecar/sources/kafka/kafka_source.h"
#include "sidecar/sources/kafka/kafka_testbed.h"
#include "support/process.h"

namespace wojak::sidecar::kafka {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;
using Steady = std::chrono::steady_clock;

constexpr const char* kOrders = "orders";
constexpr const char* kDeadLetters = "orders.dlq";
constexpr const char* kReplies = "decisions";
constexpr const char* kGroup = "wojak-test";
constexpr int kPartitions = 4;

const std::string kEngineConfig =
    std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.8
    latency_max: 1ms
api:
  enabled: false
)";

// A valid order without client_order_id: the sidecar derives it from topic/partition/offset.
std::string OrderJson(const std::string& account, int quantity = 75) {
  return R"({"account":")" + account +
         R"(","strategy":"s","exchange":"NFO","symbol":"NIFTY26DECFUT","side":"BUY","quantity":)" +
         std::to_string(quantity) +
         R"(,"order_type":"LIMIT","product":"NRML","price":"26065","validity":"DAY"})";
}

struct Reply {
  int32_t partition = 0;
  int64_t offset = 0;
  nlohmann::json decision;
};

class KafkaSidecarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = KafkaMockCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->CreateTopic(kOrders, kPartitions).ok());
    ASSERT_TRUE(cluster_->CreateTopic(kDeadLetters, 1).ok());
    ASSERT_TRUE(cluster_->CreateTopic(kReplies, 1).ok());
    testing::WriteFile(dir_.File("engine.yaml"), kEngineConfig);
    engine_ =
        ChildProcess::Start({testing::WojakBinary(), "engine", "--config", dir_.File("engine.yaml"),
                             "--data", dir_.path(), "--endpoint", Endpoint(), "--instruments",
                             testing::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
                             testing::SourceDir() + "/tests/testdata/freeze_limits.csv"},
                            dir_.File("engine.log"));
    ASSERT_TRUE(LogShows(dir_.File("engine.log"), "engine_ready", engine_, 20s))
        << testing::ReadFile(dir_.File("engine.log"));
  }

  std::string Endpoint() const { return "ipc://" + dir_.File("engine.sock"); }

  static bool LogShows(const std::string& path, const std::string& text, ChildProcess& process,
                       std::chrono::milliseconds timeout) {
    return testing::WaitUntil(
               [&] {
                 return testing::ReadFile(path).find(text) != std::string::npos ||
                        !process.running();
               },
               timeout) &&
           process.running();
  }

  // Starts a sidecar and waits until the group gave it partitions (when `expect_partitions`).
  ChildProcess StartSidecar(const std::string& name, const std::string& commit_interval = "100ms",
                            bool expect_partitions = true) {
    const std::string config = dir_.File(name + ".yaml");
    testing::WriteFile(config,
                       "sidecar:\n  request_timeout: 5s\nsources:\n  kafka:\n"
                       "    brokers: \"" +
                           cluster_->bootstrap_servers() +
                           "\"\n"
                           "    topics: [" +
                           kOrders +
                           "]\n"
                           "    group_id: " +
                           kGroup +
                           "\n"
                           "    dead_letter_topic: " +
                           kDeadLetters +
                           "\n"
                           "    reply_topic: " +
                           kReplies +
                           "\n"
                           "    commit_interval: " +
                           commit_interval +
                           "\n"
                           "    session_timeout: 6s\n"
                           "    heartbeat_interval: 500ms\n");
    ChildProcess sidecar =
        ChildProcess::Start({testing::WojakBinary(), "sidecar", "--source", "kafka", "--config",
                             config, "--endpoint", Endpoint()},
                            dir_.File(name + ".log"));
    if (expect_partitions) {
      EXPECT_TRUE(LogShows(dir_.File(name + ".log"), "kafka_partitions_assigned", sidecar, 30s))
          << testing::ReadFile(dir_.File(name + ".log"));
    }
    return sidecar;
  }

  void Publish(const std::vector<KafkaRecord>& records) {
    Status produced = ProduceRecords(cluster_->bootstrap_servers(), records);
    ASSERT_TRUE(produced.ok()) << produced.ToString();
  }

  std::vector<KafkaRecord> Orders(int count, int first_account = 0) {
    std::vector<KafkaRecord> records;
    for (int i = 0; i < count; ++i) {
      const std::string account = "ACC" + std::to_string(first_account + i % 6);
      records.push_back({kOrders, account, OrderJson(account), {}});
    }
    return records;
  }

  int64_t CommittedTotal() {
    auto offsets =
        CommittedOffsets(cluster_->bootstrap_servers(), kGroup, kOrders, kPartitions, 5s);
    if (!offsets.ok()) return -1;
    int64_t total = 0;
    for (const auto& [partition, offset] : *offsets) total += std::max<int64_t>(offset, 0);
    return total;
  }

  std::vector<Reply> Replies(size_t at_least, std::chrono::milliseconds timeout = 30s) {
    auto records = ReadTopic(cluster_->bootstrap_servers(), kReplies, at_least, timeout);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    std::vector<Reply> replies;
    if (!records.ok()) return replies;
    for (const ConsumedRecord& record : *records) {
      Reply reply;
      reply.partition = std::stoi(record.headers.at(std::string(kOriginalPartitionHeader)));
      reply.offset = std::stoll(record.headers.at(std::string(kOriginalOffsetHeader)));
      reply.decision = nlohmann::json::parse(record.value);
      replies.push_back(std::move(reply));
    }
    return replies;
  }

  size_t ReplyCount() {
    auto records = ReadTopic(cluster_->bootstrap_servers(), kReplies, SIZE_MAX, 1s);
    return records.ok() ? records->size() : 0;
  }

  // Orders in the engine's journal, by "account/client_order_id".
  std::set<std::string> JournalOrders() {
    engine_.Signal(SIGTERM);
    EXPECT_EQ(engine_.Wait(10s), 0);
    ChildProcess list = ChildProcess::Start(
        {testing::WojakBinary(), "orders", "--data", dir_.path(), "--json", "--limit", "100000"},
        dir_.File("orders.json"));
    EXPECT_EQ(list.Wait(30s), 0);
    std::set<std::string> ids;
    size_t rows = 0;
    for (const auto& row : nlohmann::json::parse(testing::ReadFile(dir_.File("orders.json")))) {
      ids.insert(row["account"].get<std::string>() + "/" +
                 row["client_order_id"].get<std::string>());
      ++rows;
    }
    EXPECT_EQ(rows, ids.size()) << "an order was recorded twice";
    return ids;
  }

  // Every message answered, none decided twice (DUPLICATE replies repeat an earlier decision),
  // and per partition the engine decided messages in offset order.
  static void ExpectDecidedOnceInPartitionOrder(const std::vector<Reply>& replies,
                                                size_t expected_messages) {
    std::map<std::pair<int32_t, int64_t>, uint64_t> first_seq;
    std::set<std::pair<int32_t, int64_t>> answered;
    for (const Reply& reply : replies) {
      answered.emplace(reply.partition, reply.offset);
      // A decision whose reply was lost in a crash shows up only as a later DUPLICATE.
      if (reply.decision["decision"] == "DUPLICATE") continue;
      auto [it, inserted] = first_seq.emplace(std::make_pair(reply.partition, reply.offset),
                                              reply.decision["seq"].get<uint64_t>());
      EXPECT_TRUE(inserted) << "decided twice: " << reply.partition << "/" << reply.offset;
    }
    EXPECT_EQ(answered.size(), expected_messages);
    std::map<int32_t, uint64_t> last_seq;
    for (const auto& [coordinates, seq] : first_seq) {
      EXPECT_GT(seq, last_seq[coordinates.first])
          << "partition " << coordinates.first << " offset " << coordinates.second
          << " decided before an earlier offset";
      last_seq[coordinates.first] = seq;
    }
  }

  TempDir dir_;
  std::unique_ptr<KafkaMockCluster> cluster_;
  ChildProcess engine_;
};

TEST_F(KafkaSidecarTest, DecidesOrdersRepliesAndDeadLettersMalformedOnesThenCommits) {
  std::vector<KafkaRecord> records = Orders(40);
  records.push_back({kOrders, "ACC1", R"({"account":"ACC1","quantity":"many"})", {}});
  records.push_back({kOrders, "ACC2", "not json at all", {}});
  records.push_back({kOrders, "ACC3", OrderJson("ACC3", 70), {}});  // not a lot multiple
  Publish(records);
  ChildProcess sidecar = StartSidecar("sidecar");
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return CommittedTotal() == static_cast<int64_t>(records.size()); }, 30s))
      << "committed " << CommittedTotal() << "\n"
      << testing::ReadFile(dir_.File("sidecar.log"));

  std::vector<Reply> replies = Replies(41);
  ASSERT_EQ(replies.size(), 41u);
  ExpectDecidedOnceInPartitionOrder(replies, 41);
  size_t rejected = 0;
  for (const Reply& reply : replies) {
    EXPECT_EQ(reply.decision["client_order_id"].get<std::string>().rfind("d-", 0), 0u);
    if (reply.decision["decision"] == "REJECTED") ++rejected;
  }
  EXPECT_EQ(rejected, 1u);

  auto dead = ReadTopic(cluster_->bootstrap_servers(), kDeadLetters, 2, 10s);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 2u);
  std::set<std::string> bodies;
  for (const ConsumedRecord& letter : *dead) {
    bodies.insert(letter.value);
    EXPECT_EQ(letter.headers.at(std::string(kDeadLetterKindHeader)), "malformed");
    EXPECT_FALSE(letter.headers.at(std::string(kReasonHeader)).empty());
    EXPECT_EQ(letter.headers.at(std::string(kOriginalTopicHeader)), kOrders);
  }
  EXPECT_TRUE(bodies.count("not json at all"));

  sidecar.Signal(SIGTERM);
  EXPECT_EQ(sidecar.Wait(15s), 0) << testing::ReadFile(dir_.File("sidecar.log"));
  EXPECT_EQ(JournalOrders().size(), 41u);
}

TEST_F(KafkaSidecarTest, KillNineReplaysUncommittedOffsetsAndTheEngineAnswersDuplicate) {
  std::vector<KafkaRecord> records = Orders(30);
  Publish(records);
  // Nothing is committed during the first run, so everything it decided comes back.
  ChildProcess first = StartSidecar("first", "1h");
  ASSERT_TRUE(testing::WaitUntil([&] { return ReplyCount() >= 10; }, 30s))
      << testing::ReadFile(dir_.File("first.log"));
  first.Kill();
  const size_t decided_before_kill = ReplyCount();
  EXPECT_EQ(CommittedTotal(), 0);

  ChildProcess second = StartSidecar("second");
  ASSERT_TRUE(testing::WaitUntil([&] { return CommittedTotal() == 30; }, 45s))
      << "committed " << CommittedTotal() << "\n"
      << testing::ReadFile(dir_.File("second.log"));
  std::vector<Reply> replies = Replies(decided_before_kill + 30);
  ExpectDecidedOnceInPartitionOrder(replies, 30);
  size_t duplicates = 0;
  for (const Reply& reply : replies) {
    if (reply.decision["decision"] != "DUPLICATE") continue;
    ++duplicates;
    EXPECT_EQ(reply.decision["original"]["decision"], "ACCEPTED") << reply.decision.dump();
  }
  EXPECT_GE(duplicates, decided_before_kill) << "every decision before the kill is replayed";
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(15s), 0);
  EXPECT_EQ(JournalOrders().size(), 30u) << "replayed messages must not become new orders";
}

TEST_F(KafkaSidecarTest, TwoSidecarsShareTheGroupAndDecideEveryOrderOnceInPartitionOrder) {
  Publish(Orders(60));
  ChildProcess first = StartSidecar("first");
  ChildProcess second = StartSidecar("second", "100ms", /*expect_partitions=*/false);
  // The newcomer is given partitions by a cooperative rebalance while orders keep flowing.
  Publish(Orders(60, 6));
  ASSERT_TRUE(LogShows(dir_.File("second.log"), "kafka_partitions_assigned", second, 45s))
      << testing::ReadFile(dir_.File("second.log"));
  Publish(Orders(60, 12));
  ASSERT_TRUE(testing::WaitUntil([&] { return CommittedTotal() == 180; }, 45s))
      << "committed " << CommittedTotal() << "\n"
      << testing::ReadFile(dir_.File("first.log")) << testing::ReadFile(dir_.File("second.log"));
  EXPECT_NE(testing::ReadFile(dir_.File("first.log")).find("kafka_partitions_revoking"),
            std::string::npos);
  std::vector<Reply> replies = Replies(180);
  ExpectDecidedOnceInPartitionOrder(replies, 180);
  first.Signal(SIGTERM);
  second.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(15s), 0);
  EXPECT_EQ(second.Wait(15s), 0);
  EXPECT_EQ(JournalOrders().size(), 180u);
}

TEST_F(KafkaSidecarTest, BenchReportsTheEndToEndRateNextToTheBareConsumerRate) {
  ChildProcess bench = ChildProcess::Start(
      {testing::WojakBinary(), "bench", "source", "--source", "kafka", "--json", "--orders", "500",
       "--instruments", testing::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
       testing::SourceDir() + "/tests/testdata/freeze_limits.csv"},
      dir_.File("bench.json"));
  ASSERT_EQ(bench.Wait(120s), 0) << testing::ReadFile(dir_.File("bench.json"));
  const std::string output = testing::ReadFile(dir_.File("bench.json"));
  auto result = nlohmann::json::parse(output.substr(output.rfind("{\"")), nullptr, false);
  ASSERT_TRUE(result.is_object()) << output;
  EXPECT_EQ(result["source"], "kafka");
  EXPECT_EQ(result["settled"], 500);
  EXPECT_GT(result["orders_per_s"].get<double>(), 0);
  EXPECT_GT(result["bare_consumer_per_s"].get<double>(), 0);
}

}  // namespace
}  // namespace wojak::sidecar::kafka
