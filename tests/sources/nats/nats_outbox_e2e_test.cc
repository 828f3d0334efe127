// The outbox's NATS broker sink end to end, with real processes: `wojak engine` (outbox.sink:
// sidecar) → `wojak sidecar --source nats` (sidecar.outbox_endpoint) → nats-server -js. An
// escalation lands on the JetStream subject with the exact webhook body; with the sidecar down
// the relay's cursor stays put; after a restart every row arrives, in order, none missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "engine/outbox_relay.h"
#include "sidecar/sources/nats/nats_testbed.h"
#include "support/process.h"
#include "wojak/client.h"

namespace wojak::sidecar::nats {
namespace {

using namespace std::chrono_literals;
using wojak::testing::ChildProcess;
using wojak::testing::TempDir;

// Limits off, the session open at any hour; orders above 2 lots of NIFTY escalate.
std::string EngineConfig(const std::string& outbox_endpoint) {
  return R"(
session:
  enforce: false
risk:
  limits:
    max_orders_per_second: none
    max_open_orders: none
    max_daily_orders: none
    max_exposure: none
    max_order_value: none
    max_position_lots_per_instrument: none
    max_position_lots_per_underlying: none
    max_daily_loss: none
  rules:
    escalate_notional: {above: "4000000.00"}
executor:
  kind: sandbox
  sandbox:
    fill_ratio: 1.0
    latency_max: 1ms
api:
  enabled: false
outbox:
  enabled: true
  sink: sidecar
  sidecar_endpoint: )" +
         outbox_endpoint + R"(
  timeout: 3s
  backoff_initial: 20ms
  backoff_max: 200ms
  poll_interval: 50ms
)";
}

OrderRequest BigOrder(const std::string& id) {
  OrderRequest o;
  o.client_order_id = id;
  o.account = "ACC9";
  o.strategy = "s1";
  o.exchange = "NFO";
  o.symbol = "NIFTY26DECFUT";
  o.side = Side::kBuy;
  o.quantity = 750;
  o.order_type = OrderType::kLimit;
  o.price = Paise::FromRupees(26065);
  return o;
}

class NatsOutboxEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = NatsServerProcess::Start(dir_.File("nats"));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    nats_ = std::move(server).value();
    ASSERT_TRUE(CreateStream(nats_->url(), "ORDERS", {"orders.>"}).ok());
    ASSERT_TRUE(CreateStream(nats_->url(), "DEAD", {"wojak.dead-letter"}).ok());
    ASSERT_TRUE(CreateStream(nats_->url(), "OUTBOX", {"wojak.outbox.>"}).ok());

    wojak::testing::WriteFile(dir_.File("engine.yaml"), EngineConfig(OutboxEndpoint()));
    engine_ = ChildProcess::Start(
        {wojak::testing::WojakBinary(), "engine", "--config", dir_.File("engine.yaml"), "--data",
         dir_.path(), "--endpoint", EngineEndpoint(), "--instruments",
         wojak::testing::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
         wojak::testing::SourceDir() + "/tests/testdata/freeze_limits.csv"},
        dir_.File("engine.log"));
    ASSERT_TRUE(LogShows(dir_.File("engine.log"), "engine_ready", engine_, 30s))
        << wojak::testing::ReadFile(dir_.File("engine.log"));
    ClientOptions options;
    options.endpoint = EngineEndpoint();
    options.connect_timeout = 5s;
    auto client = EngineClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  std::string EngineEndpoint() const { return "ipc://" + dir_.File("engine.sock"); }
  std::string OutboxEndpoint() const { return "ipc://" + dir_.File("outbox.sock"); }

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

  ChildProcess StartSidecar() {
    const std::string name = "sidecar-" + std::to_string(++sidecar_starts_);
    const std::string config = dir_.File(name + ".yaml");
    wojak::testing::WriteFile(config,
                              "sidecar:\n  outbox_endpoint: " + OutboxEndpoint() +
                                  "\n  outbox_publish_timeout: 2s\n"
                                  "sources:\n  nats:\n    servers: [\"" +
                                  nats_->url() +
                                  "\"]\n    stream: ORDERS\n    subject: \"orders.>\"\n"
                                  "    consumer: sidecars\n    outbox:\n      servers: [\"" +
                                  nats_->url() + "\"]\n");
    ChildProcess sidecar =
        ChildProcess::Start({wojak::testing::WojakBinary(), "sidecar", "--source", "nats",
                             "--config", config, "--endpoint", EngineEndpoint()},
                            dir_.File(name + ".log"));
    EXPECT_TRUE(LogShows(dir_.File(name + ".log"), "outbox_server_started", sidecar, 20s))
        << wojak::testing::ReadFile(dir_.File(name + ".log"));
    return sidecar;
  }

  Decision Call(const Request& request) {
    auto id = client_->Send(request);
    EXPECT_TRUE(id.ok());
    for (int i = 0; i < 100; ++i) {
      auto replies = client_->Poll(100ms);
      if (!replies.ok()) break;
      for (const Reply& reply : *replies) {
        if (reply.request_id == *id) return reply.decision;
      }
    }
    ADD_FAILURE() << "no reply";
    return {};
  }

  // Runs one query against the engine's journal (read-only, beside the running engine) and
  // returns every row's columns as text.
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(dir_.File("wojak.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
      ADD_FAILURE() << "cannot open the journal";
      sqlite3_close(db);
      return rows;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK) {
      while (sqlite3_step(statement) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int i = 0; i < sqlite3_column_count(statement); ++i) {
          const unsigned char* text = sqlite3_column_text(statement, i);
          row.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
        }
        rows.push_back(std::move(row));
      }
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return rows;
  }

  // How often the engine logged a failed delivery so far.
  size_t DeliveryFailures() {
    const std::string log = wojak::testing::ReadFile(dir_.File("engine.log"));
    size_t count = 0;
    for (size_t at = log.find("outbox_delivery_failed"); at != std::string::npos;
         at = log.find("outbox_delivery_failed", at + 1)) {
      ++count;
    }
    return count;
  }

  std::string Cursor() {
    auto rows = Query("SELECT value FROM meta WHERE key = 'outbox_cursor'");
    return rows.empty() ? "none" : rows[0][0];
  }

  // The journal's outbox rows as the webhook would have sent them, in outbox_seq order.
  std::vector<std::string> WebhookBodies() {
    std::vector<std::string> bodies;
    for (const auto& r :
         Query("SELECT outbox_seq, entry_seq, topic, payload FROM outbox ORDER BY outbox_seq")) {
      bodies.push_back(WebhookBody({std::stoull(r[0]), std::stoull(r[1]), r[2], r[3]}));
    }
    return bodies;
  }

  std::vector<ReceivedMessage> ReadOutboxSubject(size_t count, std::chrono::milliseconds timeout) {
    auto messages = ReadStream(nats_->url(), "OUTBOX", "wojak.outbox.>", count, timeout);
    EXPECT_TRUE(messages.ok()) << messages.status().ToString();
    return messages.ok() ? *messages : std::vector<ReceivedMessage>{};
  }

  TempDir dir_;
  std::unique_ptr<NatsServerProcess> nats_;
  ChildProcess engine_;
  std::unique_ptr<EngineClient> client_;
  int sidecar_starts_ = 0;
};

TEST_F(NatsOutboxEndToEndTest, RowsReachJetStreamInOrderAndWaitInTheOutboxWhileTheSidecarIsDown) {
  ChildProcess sidecar = StartSidecar();
  ASSERT_EQ(Call(BigOrder("big-1")).kind, DecisionKind::kEscalated);

  std::vector<ReceivedMessage> first = ReadOutboxSubject(1, 20s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].subject, "wojak.outbox.escalation");
  EXPECT_EQ(first[0].headers["Nats-Msg-Id"], "wojak-outbox-1");
  EXPECT_EQ(first[0].headers["Wojak-Account"], "ACC9");
  ASSERT_EQ(WebhookBodies().size(), 1u);
  EXPECT_EQ(first[0].data, WebhookBodies()[0]);
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return Cursor() == "1"; }, 10s)) << Cursor();

  const size_t failures_before = DeliveryFailures();
  sidecar.Signal(SIGTERM);
  ASSERT_EQ(sidecar.Wait(20s), 0) << wojak::testing::ReadFile(sidecar.log_path());
  for (const char* id : {"big-2", "big-3", "big-4"}) {
    ASSERT_EQ(Call(BigOrder(id)).kind, DecisionKind::kEscalated);
  }
  // The relay keeps offering row 2 and failing.
  ASSERT_TRUE(wojak::testing::WaitUntil([&] { return DeliveryFailures() > failures_before; }, 20s));
  EXPECT_EQ(Cursor(), "1");
  EXPECT_EQ(ReadOutboxSubject(2, 500ms).size(), 1u);

  ChildProcess restarted = StartSidecar();
  std::vector<ReceivedMessage> all = ReadOutboxSubject(4, 30s);
  ASSERT_EQ(all.size(), 4u);
  const std::vector<std::string> bodies = WebhookBodies();
  ASSERT_EQ(bodies.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].headers["Nats-Msg-Id"], "wojak-outbox-" + std::to_string(i + 1));
    EXPECT_EQ(all[i].data, bodies[i]);
  }
  EXPECT_TRUE(wojak::testing::WaitUntil([&] { return Cursor() == "4"; }, 10s)) << Cursor();
  // Nothing beyond the four rows (a redelivery would have been dropped by its Nats-Msg-Id).
  EXPECT_EQ(ReadOutboxSubject(5, 500ms).size(), 4u);
}

}  // namespace
}  // namespace wojak::sidecar::nats
