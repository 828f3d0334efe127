// `wojak sidecar --source nats` as a real process between nats-server -js and a real engine
// process: decisions, replies and dead letters; kill -9 mid-stream (unacked messages come back
// after AckWait and are answered DUPLICATE); two sidecars sharing one durable consumer; and an
// R3 stream on a 3-node cluster that keeps serving when a node dies.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "sidecar/sources/nats/nats_source.h"
#include "sidecar/sources/nats/nats_testbed.h"
#include "support/process.h"

namespace wojak::sidecar::nats {
namespace {

using namespace std::chrono_literals;
using wojak::testing::ChildProcess;
using wojak::testing::TempDir;

const std::string kEngineConfig =
    std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.8
    latency_max: 1ms
api:
  enabled: false
)";

// A valid order without client_order_id: the sidecar derives it from stream/sequence.
std::string OrderJson(const std::string& account, int quantity = 75) {
  return R"({"account":")" + account +
         R"(","strategy":"s","exchange":"NFO","symbol":"NIFTY26DECFUT","side":"BUY","quantity":)" +
         std::to_string(quantity) +
         R"(,"order_type":"LIMIT","product":"NRML","price":"26065","validity":"DAY"})";
}

class NatsSidecarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wojak::testing::WriteFile(dir_.File("engine.yaml"), kEngineConfig);
    engine_ = ChildProcess::Start(
        {wojak::testing::WojakBinary(), "engine", "--config", dir_.File("engine.yaml"), "--data",
         dir_.path(), "--endpoint", Endpoint(), "--instruments",
         wojak::testing::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
         wojak::testing::SourceDir() + "/tests/testdata/freeze_limits.csv"},
        dir_.File("engine.log"));
    ASSERT_TRUE(LogShows(dir_.File("engine.log"), "engine_ready", engine_, 20s))
        << wojak::testing::ReadFile(dir_.File("engine.log"));
  }

  void StartServer() {
    auto server = NatsServerProcess::Start(dir_.File("nats"));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    servers_.push_back(std::move(server).value());
    CreateStreams(1);
  }

  void CreateStreams(int replicas) {
    ASSERT_TRUE(CreateStream(Url(), "ORDERS", {"orders.>"}, true, replicas).ok());
    ASSERT_TRUE(CreateStream(Url(), "DEAD", {"wojak.dead-letter"}, true, replicas).ok());
    ASSERT_TRUE(CreateStream(Url(), "REPLIES", {"replies.>"}, true, replicas).ok());
  }

  std::string Url() const { return servers_.front()->url(); }
  std::string Endpoint() const { return "ipc://" + dir_.File("engine.sock"); }

  static bool LogShows(const std::string& path, const std::string& text, ChildProcess& process,
                       std::chrono::milliseconds timeout) {
    return wojak::testing::WaitUntil(
               [&] {
                 return wojak::testing::ReadFile(path).find(text) != std::string::npos ||
                        !process.running();
               },
               timeout) &&
           process.running();
  }

  ChildProcess StartSidecar(const std::string& name) {
    std::string servers;
    for (const auto& server : servers_) {
      servers += (servers.empty() ? "\"" : ", \"") + server->url() + "\"";
    }
    const std::string config = dir_.File(name + ".yaml");
    wojak::testing::WriteFile(config,
                              "sidecar:\n  request_timeout: 5s\nsources:\n  nats:\n"
                              "    servers: [" +
                                  servers +
                                  "]\n"
                                  "    stream: ORDERS\n"
                                  "    subject: \"orders.>\"\n"
                                  "    consumer: sidecars\n"
                                  "    ack_wait: 2s\n"
                                  "    reply_subject_prefix: replies\n");
    ChildProcess sidecar =
        ChildProcess::Start({wojak::testing::WojakBinary(), "sidecar", "--source", "nats",
                             "--config", config, "--endpoint", Endpoint()},
                            dir_.File(name + ".log"));
    EXPECT_TRUE(LogShows(dir_.File(name + ".log"), "nats_source_started", sidecar, 20s))
        << wojak::testing::ReadFile(dir_.File(name + ".log"));
    return sidecar;
  }

  void Publish(const std::vector<std::string>& bodies, size_t first_account = 0) {
    auto publisher = NatsPublisher::Connect({.servers = {Url()}});
    ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
    for (size_t i = 0; i < bodies.size(); ++i) {
      const std::string subject = "orders.ACC" + std::to_string(first_account + i % 6);
      // Retried: a cluster that lost the stream's leader answers once it elected a new one.
      Status published;
      ASSERT_TRUE(wojak::testing::WaitUntil(
          [&] {
            published = (*publisher)->Publish({subject, bodies[i], {}, ""}, 2s);
            return published.ok();
          },
          20s))
          << published.ToString();
    }
  }

  static std::vector<std::string> Orders(int count) {
    std::vector<std::string> bodies;
    for (int i = 0; i < count; ++i) bodies.push_back(OrderJson("ACC" + std::to_string(i % 6)));
    return bodies;
  }

  uint64_t AckFloor() {
    auto state = ReadConsumerState(Url(), "ORDERS", "sidecars");
    return state.ok() ? state->ack_floor : 0;
  }

  // Replies by original stream sequence (one per message: the stream drops repeats by id).
  std::map<uint64_t, nlohmann::json> Replies(size_t expected) {
    auto replies = ReadStream(Url(), "REPLIES", "replies.>", expected, 10s);
    EXPECT_TRUE(replies.ok()) << replies.status().ToString();
    std::map<uint64_t, nlohmann::json> by_sequence;
    if (!replies.ok()) return by_sequence;
    for (const ReceivedMessage& reply : *replies) {
      const uint64_t sequence = std::stoull(reply.headers.at(kOriginalSequenceHeader));
      EXPECT_TRUE(by_sequence.emplace(sequence, nlohmann::json::parse(reply.data)).second)
          << "two replies stored for sequence " << sequence;
    }
    return by_sequence;
  }

  size_t JournalOrders() {
    engine_.Signal(SIGTERM);
    EXPECT_EQ(engine_.Wait(10s), 0);
    ChildProcess list = ChildProcess::Start({wojak::testing::WojakBinary(), "orders", "--data",
                                             dir_.path(), "--json", "--limit", "100000"},
                                            dir_.File("orders.json"));
    EXPECT_EQ(list.Wait(30s), 0);
    std::set<std::string> ids;
    size_t rows = 0;
    for (const auto& row :
         nlohmann::json::parse(wojak::testing::ReadFile(dir_.File("orders.json")))) {
      ids.insert(row["account"].get<std::string>() + "/" +
                 row["client_order_id"].get<std::string>());
      ++rows;
    }
    EXPECT_EQ(rows, ids.size()) << "an order was recorded twice";
    return ids.size();
  }

  TempDir dir_;
  ChildProcess engine_;
  std::vector<std::unique_ptr<NatsServerProcess>> servers_;
};

TEST_F(NatsSidecarTest, DecidesOrdersRepliesAndDeadLettersMalformedOnes) {
  StartServer();
  std::vector<std::string> bodies = Orders(30);
  bodies.push_back(R"({"account":"ACC1","quantity":"many"})");
  bodies.push_back(OrderJson("ACC2", 70));  // not a lot multiple: REJECTED, not dead-lettered
  Publish(bodies);
  ChildProcess sidecar = StartSidecar("sidecar");
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return AckFloor() == bodies.size(); }, 30s))
      << "ack floor " << AckFloor() << "\n"
      << wojak::testing::ReadFile(dir_.File("sidecar.log"));
  std::map<uint64_t, nlohmann::json> replies = Replies(31);
  ASSERT_EQ(replies.size(), 31u);
  size_t rejected = 0;
  for (const auto& [sequence, decision] : replies) {
    EXPECT_EQ(decision["client_order_id"].get<std::string>().rfind("d-", 0), 0u);
    if (decision["decision"] == "REJECTED") ++rejected;
  }
  EXPECT_EQ(rejected, 1u);
  auto dead = ReadStream(Url(), "DEAD", "wojak.dead-letter", 1, 5s);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().headers.at(kOriginalSequenceHeader), "31");
  EXPECT_EQ(dead->front().headers.at(kDeadLetterKindHeader), "malformed");
  sidecar.Signal(SIGTERM);
  EXPECT_EQ(sidecar.Wait(15s), 0) << wojak::testing::ReadFile(dir_.File("sidecar.log"));
  EXPECT_EQ(JournalOrders(), 31u);
}

TEST_F(NatsSidecarTest, KillNineLeavesUnackedMessagesForRedeliveryAnsweredDuplicate) {
  StartServer();
  Publish(Orders(20));
  ChildProcess first = StartSidecar("first");
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return AckFloor() == 20; }, 30s));
  // The engine stalls: the next orders reach the sidecar (delivered, unacked) and their
  // requests queue at the engine; then the sidecar dies.
  engine_.Signal(SIGSTOP);
  Publish(Orders(20), 6);
  ASSERT_TRUE(wojak::testing::WaitUntil(
      [&] {
        auto state = ReadConsumerState(Url(), "ORDERS", "sidecars");
        return state.ok() && state->ack_pending == 20;
      },
      30s));
  first.Kill();
  engine_.Signal(SIGCONT);
  // Only the server's redelivery (after AckWait) can bring them to the second sidecar.
  ChildProcess second = StartSidecar("second");
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return AckFloor() == 40; }, 30s))
      << "ack floor " << AckFloor() << "\n"
      << wojak::testing::ReadFile(dir_.File("second.log"));
  // One reply per message whichever sidecar sent it (repeats have the same message id); orders
  // the stalled engine decided for the dead sidecar come back DUPLICATE with their original.
  std::map<uint64_t, nlohmann::json> replies = Replies(40);
  EXPECT_EQ(replies.size(), 40u);
  for (const auto& [sequence, decision] : replies) {
    if (decision["decision"] == "DUPLICATE") {
      EXPECT_EQ(decision["original"]["decision"], "ACCEPTED") << decision.dump();
    }
  }
  second.Signal(SIGTERM);
  EXPECT_EQ(second.Wait(15s), 0);
  EXPECT_EQ(JournalOrders(), 40u) << "redelivered messages must not become new orders";
}

TEST_F(NatsSidecarTest, TwoSidecarsShareOneDurableConsumerAndDecideEveryOrderOnce) {
  StartServer();
  Publish(Orders(60));
  ChildProcess first = StartSidecar("first");
  ChildProcess second = StartSidecar("second");
  Publish(Orders(60), 6);
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return AckFloor() == 120; }, 30s))
      << "ack floor " << AckFloor();
  EXPECT_EQ(Replies(120).size(), 120u);
  first.Signal(SIGTERM);
  second.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(15s), 0);
  EXPECT_EQ(second.Wait(15s), 0);
  EXPECT_EQ(JournalOrders(), 120u);
}

TEST_F(NatsSidecarTest, ReplicatedStreamOnAThreeNodeClusterSurvivesTheLossOfANode) {
  auto cluster = NatsServerProcess::StartCluster(dir_.File("cluster"), 3);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  servers_ = std::move(cluster).value();
  CreateStreams(3);
  Publish(Orders(20));
  ChildProcess sidecar = StartSidecar("sidecar");
  EXPECT_EQ(wojak::testing::ReadFile(dir_.File("sidecar.log")).find("nats_stream_not_replicated"),
            std::string::npos);
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return AckFloor() == 20; }, 30s));
  servers_.back()->Kill();
  Publish(Orders(20), 6);
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return AckFloor() == 40; }, 30s))
      << "ack floor " << AckFloor() << "\n"
      << wojak::testing::ReadFile(dir_.File("sidecar.log"));
  sidecar.Signal(SIGTERM);
  EXPECT_EQ(sidecar.Wait(15s), 0);
  EXPECT_EQ(JournalOrders(), 40u);
}

TEST_F(NatsSidecarTest, BenchReportsTheEndToEndRateNextToTheBareConsumerRate) {
  ChildProcess bench = ChildProcess::Start(
      {wojak::testing::WojakBinary(), "bench", "source", "--source", "nats", "--json", "--orders",
       "500", "--instruments", wojak::testing::SourceDir() + "/tests/testdata/instruments.csv",
       "--freeze", wojak::testing::SourceDir() + "/tests/testdata/freeze_limits.csv"},
      dir_.File("bench.json"));
  ASSERT_EQ(bench.Wait(120s), 0) << wojak::testing::ReadFile(dir_.File("bench.json"));
  const std::string output = wojak::testing::ReadFile(dir_.File("bench.json"));
  auto result = nlohmann::json::parse(output.substr(output.rfind("{\"")), nullptr, false);
  ASSERT_TRUE(result.is_object()) << output;
  EXPECT_EQ(result["source"], "nats");
  EXPECT_EQ(result["settled"], 500);
  EXPECT_GT(result["orders_per_s"].get<double>(), 0);
  EXPECT_GT(result["bare_consumer_per_s"].get<double>(), 0);
}

}  // namespace
}  // namespace wojak::sidecar::nats
