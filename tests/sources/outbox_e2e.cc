// The outbox end-to-end harness: engine and sidecar processes, journal reads and the scenario.
#include "sources/outbox_e2e.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include "engine/outbox_relay.h"

namespace wojak::testing {
namespace {

using namespace std::chrono_literals;

// Limits off, the session open at any hour; orders above 2 lots of NIFTY escalate.
std::string EngineConfig(const std::string& outbox_endpoint) {
  return std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(  rules:
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
  o.account = kOutboxE2eAccount;
  o.strategy = "s1";
  o.exchange = "NFO";
  o.symbol = "NIFTY26DECFUT";
  o.side = Side::kBuy;
  o.quantity = 750;
  o.order_type = OrderType::kLimit;
  o.price = Paise::FromRupees(26065);
  return o;
}

bool LogShows(const std::string& path, const std::string& text, ChildProcess& process,
              std::chrono::milliseconds timeout) {
  return WaitUntil(
             [&] { return ReadFile(path).find(text) != std::string::npos || !process.running(); },
             timeout) &&
         process.running();
}

}  // namespace

bool OutboxEndToEnd::StartEngine() {
  WriteFile(dir_.File("engine.yaml"), EngineConfig(OutboxEndpoint()));
  engine_ = ChildProcess::Start({WojakBinary(), "engine", "--config", dir_.File("engine.yaml"),
                                 "--data", dir_.path(), "--endpoint", EngineEndpoint(),
                                 "--instruments", SourceDir() + "/tests/testdata/instruments.csv",
                                 "--freeze", SourceDir() + "/tests/testdata/freeze_limits.csv"},
                                dir_.File("engine.log"));
  if (!LogShows(dir_.File("engine.log"), "engine_ready", engine_, 30s)) {
    ADD_FAILURE() << ReadFile(dir_.File("engine.log"));
    return false;
  }
  ClientOptions options;
  options.endpoint = EngineEndpoint();
  options.connect_timeout = 5s;
  auto client = EngineClient::Connect(options);
  if (!client.ok()) {
    ADD_FAILURE() << client.status().ToString();
    return false;
  }
  client_ = std::move(client).value();
  return true;
}

ChildProcess OutboxEndToEnd::StartSidecar() {
  const std::string name = "sidecar-" + std::to_string(++sidecar_starts_);
  const std::string config = dir_.File(name + ".yaml");
  WriteFile(config, "sidecar:\n  outbox_endpoint: " + OutboxEndpoint() +
                        "\n  outbox_publish_timeout: 2s\n" + hooks_.SourcesYaml());
  ChildProcess sidecar =
      ChildProcess::Start({WojakBinary(), "sidecar", "--source", hooks_.SourceName(), "--config",
                           config, "--endpoint", EngineEndpoint()},
                          dir_.File(name + ".log"), hooks_.SidecarEnvironment());
  EXPECT_TRUE(LogShows(dir_.File(name + ".log"), "outbox_server_started", sidecar, 20s))
      << ReadFile(dir_.File(name + ".log"));
  return sidecar;
}

DecisionKind OutboxEndToEnd::SendEscalatingOrder(const std::string& client_order_id) {
  auto id = client_->Send(BigOrder(client_order_id));
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  if (!id.ok()) return DecisionKind{};
  for (int i = 0; i < 100; ++i) {
    auto replies = client_->Poll(100ms);
    if (!replies.ok()) break;
    for (const Reply& reply : *replies) {
      if (reply.request_id == *id) return reply.decision.kind;
    }
  }
  ADD_FAILURE() << "no reply to " << client_order_id;
  return DecisionKind{};
}

// Runs one query against the engine's journal (read-only, beside the running engine) and returns
// every row's columns as text.
std::vector<std::vector<std::string>> OutboxEndToEnd::Query(const std::string& sql) {
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

size_t OutboxEndToEnd::DeliveryFailures() {
  const std::string log = ReadFile(dir_.File("engine.log"));
  size_t count = 0;
  for (size_t at = log.find("outbox_delivery_failed"); at != std::string::npos;
       at = log.find("outbox_delivery_failed", at + 1)) {
    ++count;
  }
  return count;
}

std::string OutboxEndToEnd::Cursor() {
  auto rows = Query("SELECT value FROM meta WHERE key = 'outbox_cursor'");
  return rows.empty() ? "none" : rows[0][0];
}

std::vector<std::string> OutboxEndToEnd::WebhookBodies() {
  std::vector<std::string> bodies;
  for (const auto& r :
       Query("SELECT outbox_seq, entry_seq, topic, payload FROM outbox ORDER BY outbox_seq")) {
    bodies.push_back(WebhookBody({std::stoull(r[0]), std::stoull(r[1]), r[2], r[3]}));
  }
  return bodies;
}

void RunOutboxEndToEnd(OutboxBrokerHooks& hooks) {
  OutboxEndToEnd harness(hooks);
  ASSERT_TRUE(harness.StartEngine());
  ChildProcess sidecar = harness.StartSidecar();
  ASSERT_EQ(harness.SendEscalatingOrder("big-1"), DecisionKind::kEscalated);

  std::vector<OutboxBrokerMessage> first = hooks.Consume(1, 20s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].destination, hooks.EscalationDestination());
  EXPECT_EQ(first[0].account, kOutboxE2eAccount);
  EXPECT_EQ(first[0].outbox_seq, 1u);
  ASSERT_EQ(harness.WebhookBodies().size(), 1u);
  EXPECT_EQ(first[0].body, harness.WebhookBodies()[0]);
  ASSERT_TRUE(WaitUntil([&] { return harness.Cursor() == "1"; }, 10s)) << harness.Cursor();

  const size_t failures_before = harness.DeliveryFailures();
  sidecar.Signal(SIGTERM);
  ASSERT_EQ(sidecar.Wait(20s), 0) << ReadFile(sidecar.log_path());
  for (const char* id : {"big-2", "big-3", "big-4"}) {
    ASSERT_EQ(harness.SendEscalatingOrder(id), DecisionKind::kEscalated);
  }
  // The relay keeps offering row 2 and failing.
  ASSERT_TRUE(WaitUntil([&] { return harness.DeliveryFailures() > failures_before; }, 20s));
  EXPECT_EQ(harness.Cursor(), "1");
  EXPECT_EQ(hooks.Consume(2, 500ms).size(), 1u);

  ChildProcess restarted = harness.StartSidecar();
  std::vector<OutboxBrokerMessage> all = hooks.Consume(4, 30s);
  ASSERT_EQ(all.size(), 4u);
  const std::vector<std::string> bodies = harness.WebhookBodies();
  ASSERT_EQ(bodies.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].outbox_seq, i + 1);
    EXPECT_EQ(all[i].body, bodies[i]);
  }
  EXPECT_TRUE(WaitUntil([&] { return harness.Cursor() == "4"; }, 10s)) << harness.Cursor();
  // Nothing beyond the four rows: a row offered while the sidecar was down never reached the
  // broker, so no row arrives twice.
  EXPECT_EQ(hooks.Consume(5, 500ms).size(), 4u);
}

}  // namespace wojak::testing
