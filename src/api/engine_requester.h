// Sends one request at a time to the engine's ZeroMQ endpoint and waits for its decision: how
// the REST API and the CLI halt, resume and answer escalations through the sequencer (and so
// through the journal), exactly like any other client.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "model/order.h"
#include "model/requests.h"
#include "wojak/client.h"

namespace wojak::api {

class EngineRequester {
 public:
  EngineRequester(std::string endpoint, std::chrono::milliseconds timeout);

  // The engine's decision on `request`. UNAVAILABLE when the engine cannot be reached or does not
  // answer within the timeout (the request may still be decided later: admin requests and
  // verdicts are idempotent in effect, so sending again is safe). Thread-safe: callers are
  // served one after another on one connection.
  StatusOr<Decision> Call(const Request& request);

 private:
  const std::string endpoint_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::unique_ptr<EngineClient> client_;  // connected on first use, guarded by mu_
};

}  // namespace wojak::api
