// HTTP executor: POSTs each accepted order to a URL (AWS Lambda function URL / API Gateway
// compatible JSON) with `Idempotency-Key: <order_id>`, from a small pool of workers, and turns the
// answer into an ExecutionReport. AWS SigV4 request signing is not done here yet: it arrives with
// the cloud sources (src/cloud); until then put the function URL behind auth type NONE or an API
// Gateway that authenticates by network.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "executors/executor.h"
#include "executors/http/http_post.h"

namespace wojak {

struct HttpExecutorOptions {
  std::string url;
  std::chrono::milliseconds timeout{5000};  // per attempt
  int concurrency = 4;                      // orders in flight at once (one worker each)
  int retries = 3;  // extra attempts after transport errors, timeouts, 408, 429 and 5xx
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  std::string ca_file;  // https: CA bundle; empty = system CAs
};

// The request body for one order:
// {"order_id":"W-…","order":{…order JSON…},"price":"120.50"}.
std::string HttpExecutorRequestBody(const ExecutionOrder& order);

// What an executor answer means for the order: a 2xx JSON object
// {"status":"FILLED"|"PARTIALLY_FILLED"|"FAILED","fill_price":"120.50"|120.5,
//  "filled_quantity":75,"reason":"…"} (filled_quantity defaults to the whole order for FILLED and
// is required for PARTIALLY_FILLED). Anything else — another status, a body that is not such an
// object, a missing or bad price — is a FAILED report whose reason says what was wrong.
ExecutionReport InterpretHttpExecutorResponse(const ExecutionOrder& order, int http_status,
                                              std::string_view body);

class HttpExecutor final : public Executor {
 public:
  explicit HttpExecutor(HttpExecutorOptions options, HttpUrl url);
  ~HttpExecutor() override;
  // Reads `executor.http` (url, timeout, concurrency, retries, backoff_initial, backoff_max,
  // ca_file).
  static StatusOr<std::unique_ptr<Executor>> Create(ConfigSection config);

  std::string_view name() const override { return "http"; }
  Status Start(ExecutionSink sink) override;
  void Submit(ExecutionOrder order) override;
  void Stop() override;

 private:
  void Work();
  // Sends one order until it has an answer or the retries are used up; nullopt when stopping.
  std::optional<ExecutionReport> Execute(HttpPoster& poster, const ExecutionOrder& order);
  // Hands a report to the engine, waiting while its queue is full; false when stopping.
  bool Deliver(ExecutionReport report);
  // Waits `delay` unless stopping; false when stopping.
  bool Pause(std::chrono::milliseconds delay);

  HttpExecutorOptions options_;
  HttpUrl url_;
  ExecutionSink sink_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ExecutionOrder> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace wojak
