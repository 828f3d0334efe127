// Engine client: a pipelined ZeroMQ DEALER that sends requests and matches replies by request id.
// Used by sidecars, `wojak submit` and the benchmarks. Not thread-safe: one owner thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/order.h"
#include "model/requests.h"

namespace wojak {

struct ClientOptions {
  std::string endpoint = "ipc://var/engine.sock";  // or tcp://host:port
  // Requests sent but not yet answered; Send() refuses beyond it (RESOURCE_EXHAUSTED).
  int max_in_flight = 1024;
  // CURVE (tcp:// across hosts): Z85 keys; empty = plain.
  std::string curve_server_public_key;
  std::string curve_client_public_key;
  std::string curve_client_secret_key;
  std::chrono::milliseconds heartbeat_interval{1000};
  // Connect() waits up to this long for the connection (and CURVE handshake) and fails with
  // UNAVAILABLE if it is not up by then; 0 = return at once and connect in the background
  // (Send() answers RESOURCE_EXHAUSTED until the engine is reachable).
  std::chrono::milliseconds connect_timeout{0};
};

struct Reply {
  uint64_t request_id = 0;
  Decision decision;       // for order/cancel/modify/verdict/admin requests
  bool is_pong = false;    // reply to a PingRequest
  std::string error;       // non-empty when the engine could not decode the request frame
};

class EngineClient {
 public:
  static StatusOr<std::unique_ptr<EngineClient>> Connect(const ClientOptions& options);
  virtual ~EngineClient() = default;

  // Queues one request; returns its request id (unique per client). Never blocks: returns
  // RESOURCE_EXHAUSTED when max_in_flight requests await replies.
  virtual StatusOr<uint64_t> Send(const Request& request) = 0;
  // Waits up to max_wait for at least one reply, then returns every reply already received.
  virtual StatusOr<std::vector<Reply>> Poll(std::chrono::milliseconds max_wait) = 0;
  // Forgets a request (its timeout passed); a late reply to it is dropped.
  virtual void Abandon(uint64_t request_id) = 0;
  virtual int in_flight() const = 0;
};

}  // namespace wojak
