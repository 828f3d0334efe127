// Helpers for the security process tests: run the wojak binary to completion, start the engine and
// an HTTP sidecar and wait for them, and look for secrets in everything they printed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "support/process.h"

namespace wojak::security {

struct RunResult {
  int exit_code = -1;  // -1: still running at the timeout (then killed)
  std::string output;  // stdout and stderr
};

// Runs `wojak ARGS...` with extra environment entries ("NAME=value") until it exits.
RunResult RunWojak(const testing::TempDir& dir, const std::vector<std::string>& args,
                   const std::vector<std::string>& env = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Starts `wojak ARGS...` logging to dir/log_name and waits until the log shows `ready_event`.
// On failure the process is killed and the log is in the test's failure message.
testing::ChildProcess StartWojak(const testing::TempDir& dir, const std::vector<std::string>& args,
                                 const std::string& log_name, const std::string& ready_event,
                                 const std::vector<std::string>& env = {});

// A fresh CURVE key pair (Z85).
struct KeyPair {
  std::string public_key;
  std::string secret_key;
};
KeyPair NewCurveKeyPair();

// An order for the future in `fixture` that the sandbox profile accepts.
std::string AcceptableOrder(const testing::InstrumentFixture& fixture,
                            const std::string& client_order_id);

// A config fragment lifting every risk limit and opening the session at any hour.
std::string OpenRiskConfig();

}  // namespace wojak::security
