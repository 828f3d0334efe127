// The sidecar's end of the outbox broker sink: a ZeroMQ ROUTER at sidecar.outbox_endpoint takes
// the engine relay's OutboxDelivery frames one at a time, publishes each through the source's
// OutboxPublisher and answers an OutboxReceipt only once the broker confirmed (or failed).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/metrics.h"
#include "common/status.h"
#include "sidecar/outbox_publisher.h"

namespace wojak::sidecar {

struct OutboxServerOptions {
  // ipc://PATH (file mode 0660) or tcp://HOST:PORT; empty = no outbox server.
  std::string endpoint;
  // Longest wait for the broker's confirmation of one row; keep it below the engine's
  // outbox.timeout so the receipt arrives before the relay gives up on the row.
  std::chrono::milliseconds publish_timeout{4000};
  // Z85 CURVE secret key: required for tcp:// reachable from other hosts.
  std::string curve_secret_key;
  // Z85 CURVE public keys of the engines allowed to deliver (required with curve_secret_key):
  // anyone else could otherwise put rows on the broker as the engine.
  std::vector<std::string> curve_allowed_clients;
  // ipc:// only: the group given the socket file (the engine's), empty = this process's.
  std::string ipc_group;
};

// Reads sidecar.outbox_endpoint, outbox_publish_timeout, outbox_curve_secret_key,
// outbox_curve_allowed_clients and outbox_ipc_group (documented, defaulted; violations reported
// through the section).
OutboxServerOptions ReadOutboxServerOptions(ConfigSection sidecar_section);

// Builds the named source's publisher from `outbox_section` (sources.<name>.outbox) through
// OutboxPublisherRegistry; INVALID_ARGUMENT naming the source when it has none.
StatusOr<std::unique_ptr<OutboxPublisher>> MakeOutboxPublisher(std::string_view source_name,
                                                               ConfigSection outbox_section);

class OutboxServer {
 public:
  // Starts the publisher, binds and starts serving on its own thread. Metrics
  // wojak_sidecar_outbox_published_total and wojak_sidecar_outbox_failures_total carry
  // the label source=`source_name`.
  static StatusOr<std::unique_ptr<OutboxServer>> Start(const OutboxServerOptions& options,
                                                       std::unique_ptr<OutboxPublisher> publisher,
                                                       const std::string& source_name,
                                                       MetricsRegistry& registry);
  ~OutboxServer();  // Stop()
  OutboxServer(const OutboxServer&) = delete;
  OutboxServer& operator=(const OutboxServer&) = delete;

  // The bound endpoint (a tcp port chosen by the system filled in).
  const std::string& endpoint() const { return endpoint_; }
  // Finishes the publish in progress (its receipt is sent), closes the socket and stops the
  // publisher. Idempotent.
  void Stop();

 private:
  OutboxServer(const OutboxServerOptions& options, std::unique_ptr<OutboxPublisher> publisher,
               void* context, void* socket, void* zap_socket, std::string endpoint,
               Counter& published, Counter& failures);
  void Run();
  // Publishes one frame's delivery and sends its receipt to `routing_id`.
  void Serve(std::string_view routing_id, std::string_view frame);

  const OutboxServerOptions options_;
  std::unique_ptr<OutboxPublisher> publisher_;
  void* context_;
  void* socket_;
  void* zap_socket_;  // ZAP handler with a CURVE allowlist, else null; serving thread only
  std::vector<std::string> allowed_client_keys_;  // 32-byte binary keys, sorted
  const std::string endpoint_;
  Counter& published_;
  Counter& failures_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace wojak::sidecar
