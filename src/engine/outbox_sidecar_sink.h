// The outbox's broker sink: hands each row to a sidecar (sidecar.outbox_endpoint) over a ZeroMQ
// DEALER and counts it delivered only when the sidecar's receipt says its broker confirmed it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/outbox_relay.h"

namespace wojak {

struct SidecarSinkOptions {
  std::string endpoint;  // ipc://PATH or tcp://HOST:PORT of the sidecar's outbox server
  // Longest wait for the receipt of one row; the relay retries the row after it.
  std::chrono::milliseconds timeout{5000};
  // CURVE (tcp:// across hosts): Z85 keys; empty = plain.
  std::string curve_server_public_key;
  std::string curve_client_public_key;
  std::string curve_client_secret_key;
};

// Sends each row as one OutboxDelivery (the webhook body, byte for byte, plus topic and account)
// and waits for the OutboxReceipt with the row's outbox_seq. Receipts for earlier rows (answers
// that arrived after their timeout) are skipped. No receipt in time, ok=false, or no sidecar
// connected: an error, so the relay keeps its cursor and offers the row again after its backoff.
// The relay's thread is the only caller.
class SidecarSink final : public OutboxSink {
 public:
  // Connects in the background (a sidecar that is not up yet is not an error here).
  static StatusOr<std::unique_ptr<SidecarSink>> Connect(const SidecarSinkOptions& options);
  ~SidecarSink() override;
  SidecarSink(const SidecarSink&) = delete;
  SidecarSink& operator=(const SidecarSink&) = delete;

  std::string_view name() const override { return "sidecar"; }
  Status Deliver(const OutboxRow& row) override;

 private:
  SidecarSink(void* context, void* socket, SidecarSinkOptions options);
  // Reads frames until the receipt for `outbox_seq` or the deadline.
  Status AwaitReceipt(uint64_t outbox_seq, std::chrono::steady_clock::time_point deadline);

  void* context_;
  void* socket_;
  const SidecarSinkOptions options_;
  uint64_t next_request_id_ = 1;
};

// The sidecar sink from the `outbox:` options (sink: sidecar).
StatusOr<std::unique_ptr<OutboxSink>> MakeSidecarSink(const OutboxOptions& options);

}  // namespace wojak
