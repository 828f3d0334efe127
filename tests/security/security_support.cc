// Security test helpers: processes on loopback, CURVE keys, a valid order.
#include "security_support.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <nlohmann/json.hpp>

namespace wojak::security {

using namespace std::chrono_literals;

RunResult RunWojak(const testing::TempDir& dir, const std::vector<std::string>& args,
                   const std::vector<std::string>& env, std::chrono::milliseconds timeout) {
  static int runs = 0;
  const std::string log = dir.File("run-" + std::to_string(++runs) + ".log");
  std::vector<std::string> argv = {testing::WojakBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::ChildProcess process = testing::ChildProcess::Start(argv, log, env);
  RunResult result;
  result.exit_code = process.Wait(timeout);
  if (result.exit_code == -1) process.Kill();
  result.output = testing::ReadFile(log);
  return result;
}

testing::ChildProcess StartWojak(const testing::TempDir& dir, const std::vector<std::string>& args,
                                 const std::string& log_name, const std::string& ready_event,
                                 const std::vector<std::string>& env) {
  std::vector<std::string> argv = {testing::WojakBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string log = dir.File(log_name);
  testing::ChildProcess process = testing::ChildProcess::Start(argv, log, env);
  const bool ready = testing::WaitUntil(
      [&] {
        return testing::ReadFile(log).find("\"" + ready_event + "\"") != std::string::npos ||
               !process.running();
      },
      30s);
  EXPECT_TRUE(ready && process.running()) << log_name << ":\n" << testing::ReadFile(log);
  return process;
}

KeyPair NewCurveKeyPair() {
  char public_key[41];
  char secret_key[41];
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return {public_key, secret_key};
}

std::string AcceptableOrder(const testing::InstrumentFixture& fixture,
                            const std::string& client_order_id) {
  return nlohmann::json{{"client_order_id", client_order_id},
                        {"account", "ACC1"},
                        {"strategy", "security"},
                        {"exchange", "NFO"},
                        {"symbol", fixture.future_symbol},
                        {"side", "BUY"},
                        {"quantity", 75},
                        {"order_type", "LIMIT"},
                        {"product", "NRML"},
                        {"price", fixture.future_price},
                        {"validity", "DAY"}}
      .dump();
}

std::string OpenRiskConfig() {
  return "session:\n"
         "  enforce: false\n"
         "risk:\n"
         "  limits:\n"
         "    max_orders_per_second: none\n"
         "    max_open_orders: none\n"
         "    max_daily_orders: none\n"
         "    max_exposure: none\n"
         "    max_order_value: none\n"
         "    max_position_lots_per_instrument: none\n"
         "    max_position_lots_per_underlying: none\n"
         "    max_daily_loss: none\n";
}

}  // namespace wojak::security
