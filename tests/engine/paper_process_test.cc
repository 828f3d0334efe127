// The paper executor in a real `wojak engine`: a LIMIT order sent with `wojak submit` rests while
// the ticks published with `wojak ticks publish` stay above its limit, and fills at the limit once
// a tick crosses it, showing up FILLED in `wojak orders` and in `wojak trades`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/process.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChildProcess;
using testing::TempDir;

// Limits off, the session open at any hour, fills from the paper executor.
const std::string kConfig = std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + R"(ticks:
  persist_interval: 20ms
executor:
  kind: paper
  paper:
    poll_interval: 5ms
    max_rest: 10m
)";

constexpr char kOrder[] =
    R"({"client_order_id":"paper-1","account":"ACC1","strategy":"s1","exchange":"NFO",)"
    R"("symbol":"NIFTY26DECFUT","side":"BUY","quantity":75,"order_type":"LIMIT",)"
    R"("product":"NRML","price":"26065.00","trigger_price":null,"validity":"DAY"})";

class PaperProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(dir_.File("wojak.yaml"), kConfig);
    log_ = dir_.File("engine.log");
    engine_ =
        ChildProcess::Start({testing::WojakBinary(), "engine", "--config", dir_.File("wojak.yaml"),
                             "--data", dir_.path(), "--endpoint", endpoint(), "--instruments",
                             testing::SourceDir() + "/tests/testdata/instruments.csv", "--freeze",
                             testing::SourceDir() + "/tests/testdata/freeze_limits.csv"},
                            log_);
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          return testing::ReadFile(log_).find("engine_ready") != std::string::npos ||
                 !engine_.running();
        },
        30s));
    ASSERT_TRUE(engine_.running()) << testing::ReadFile(log_);
  }

  std::string endpoint() const { return "ipc://" + dir_.File("engine.sock"); }

  // Runs `wojak ARGS...` to completion and returns its output.
  std::string RunCli(std::vector<std::string> args) {
    args.insert(args.begin(), testing::WojakBinary());
    const std::string log = dir_.File("cli-" + std::to_string(++cli_runs_) + ".log");
    ChildProcess cli = ChildProcess::Start(args, log);
    EXPECT_EQ(cli.Wait(30s), 0) << testing::ReadFile(log);
    return testing::ReadFile(log);
  }

  json Query(const std::string& what) {
    return json::parse(RunCli({what, "--data", dir_.path(), "--json"}), nullptr, false);
  }

  // Publishes one NIFTY26DECFUT tick stamped with the send time and waits until the engine has
  // applied it (it is persisted from the tick table, so the table holds it by then).
  void PublishLtp(const std::string& ltp) {
    const std::string file = dir_.File("tick-" + ltp + ".csv");
    testing::WriteFile(file, "instrument,ltp,timestamp\nNIFTY26DECFUT," + ltp + ",\n");
    RunCli({"ticks", "publish", "-f", file, "--data", dir_.path()});
    json ticks;
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          ticks = json::parse(
              RunCli({"ticks", "--data", dir_.path(), "--json", "--symbols", "NIFTY26DECFUT"}),
              nullptr, false);
          return ticks.is_array() && ticks.size() == 1 && ticks[0]["ltp"] == ltp;
        },
        20s))
        << ticks.dump();
  }

  TempDir dir_;
  ChildProcess engine_;
  std::string log_;
  int cli_runs_ = 0;
};

TEST_F(PaperProcessTest, LimitOrderRestsUntilATickCrossesItThenFillsAtTheLimit) {
  ASSERT_NO_FATAL_FAILURE(PublishLtp("26070.00"));
  json decision = json::parse(RunCli({"submit", "--endpoint", endpoint(), "--json", kOrder}));
  ASSERT_EQ(decision["decision"], "ACCEPTED") << decision.dump();
  const std::string order_id = decision["order_id"];

  // Above the limit: the order keeps resting through this tick and many polls after it.
  ASSERT_NO_FATAL_FAILURE(PublishLtp("26066.00"));
  json orders = Query("orders");
  ASSERT_EQ(orders.size(), 1u) << orders.dump();
  EXPECT_EQ(orders[0]["status"], "SENT") << orders.dump();
  EXPECT_TRUE(Query("trades").empty());

  ASSERT_NO_FATAL_FAILURE(PublishLtp("26060.00"));
  json trades;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        trades = Query("trades");
        return trades.is_array() && !trades.empty();
      },
      20s))
      << testing::ReadFile(log_);
  ASSERT_EQ(trades.size(), 1u) << trades.dump();
  EXPECT_EQ(trades[0]["order_id"], order_id);
  EXPECT_EQ(trades[0]["side"], "BUY");
  EXPECT_EQ(trades[0]["quantity"], 75);
  // Not marketable on arrival, so it fills at its limit rather than at the crossing LTP.
  EXPECT_EQ(trades[0]["price"], "26065.00");
  orders = Query("orders");
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0]["status"], "FILLED") << orders.dump();
}

}  // namespace
}  // namespace wojak
