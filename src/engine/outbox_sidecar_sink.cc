// SidecarSink: one OutboxDelivery out, the matching OutboxReceipt back.
#include "engine/outbox_sidecar_sink.h"

#include <zmq.h>

#include <algorithm>
#include <cerrno>

#include "common/log.h"
#include "engine/outbox_payload.h"
#include "wire/codec.h"
#include "wire/zmq_socket_setup.h"
#include "wire/zmq_util.h"

namespace wojak {
namespace {

using zmq_util::SetInt;
using zmq_util::ZmqError;

// Receipts are small; a larger frame is not from a Wojak sidecar.
constexpr int64_t kMaxReceiptBytes = 64 * 1024;
constexpr int kHeartbeatMs = 1000;

std::chrono::milliseconds Remaining(std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()),
                  std::chrono::milliseconds(0));
}

Status ConfigureSocket(void* socket, const SidecarSinkOptions& options) {
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_LINGER, 0, "ZMQ_LINGER"));
  // A row is offered only over a live connection; otherwise it would wait in a queue for a
  // sidecar that may never come back while the relay already timed it out.
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_IMMEDIATE, 1, "ZMQ_IMMEDIATE"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_HEARTBEAT_IVL, kHeartbeatMs, "ZMQ_HEARTBEAT_IVL"));
  WOJAK_RETURN_IF_ERROR(
      SetInt(socket, ZMQ_HEARTBEAT_TIMEOUT, kHeartbeatMs * 3, "ZMQ_HEARTBEAT_TIMEOUT"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_RECONNECT_IVL, 100, "ZMQ_RECONNECT_IVL"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_RECONNECT_IVL_MAX, 2000, "ZMQ_RECONNECT_IVL_MAX"));
  if (zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &kMaxReceiptBytes, sizeof(kMaxReceiptBytes)) != 0) {
    return ZmqError("zmq_setsockopt(ZMQ_MAXMSGSIZE)");
  }
  return ConfigureCurveClient(socket, options.curve_server_public_key,
                              options.curve_client_public_key, options.curve_client_secret_key);
}

}  // namespace

StatusOr<std::unique_ptr<SidecarSink>> SidecarSink::Connect(const SidecarSinkOptions& options) {
  void* context = zmq_ctx_new();
  if (context == nullptr) return ZmqError("zmq_ctx_new");
  void* socket = zmq_socket(context, ZMQ_DEALER);
  if (socket == nullptr) {
    Status error = ZmqError("zmq_socket(DEALER)");
    zmq_ctx_term(context);
    return error;
  }
  // From here the sink owns the socket and context, so every early return cleans up.
  std::unique_ptr<SidecarSink> sink(new SidecarSink(context, socket, options));
  WOJAK_RETURN_IF_ERROR(ConfigureSocket(socket, options).WithContext("outbox sidecar sink"));
  if (zmq_connect(socket, options.endpoint.c_str()) != 0) {
    return ZmqError("zmq_connect(" + options.endpoint + ")");
  }
  return sink;
}

SidecarSink::SidecarSink(void* context, void* socket, SidecarSinkOptions options)
    : context_(context), socket_(socket), options_(std::move(options)) {}

SidecarSink::~SidecarSink() {
  zmq_close(socket_);
  zmq_ctx_term(context_);
}

Status SidecarSink::Deliver(const OutboxRow& row) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  OutboxDelivery delivery;
  delivery.outbox_seq = row.outbox_seq;
  delivery.entry_seq = row.entry_seq;
  delivery.topic = row.topic;
  delivery.account = OutboxPayloadAccount(row.payload);
  delivery.body = WebhookBody(row);
  const std::string frame = EncodeOutboxDelivery(next_request_id_++, delivery);
  while (true) {
    // With ZMQ_IMMEDIATE the socket is writable only while a sidecar is connected.
    zmq_pollitem_t item{socket_, 0, ZMQ_POLLOUT, 0};
    int ready = zmq_poll(&item, 1, static_cast<long>(Remaining(deadline).count()));
    if (ready < 0 && errno != EINTR) return ZmqError("zmq_poll");
    if (ready > 0 && zmq_send(socket_, frame.data(), frame.size(), ZMQ_DONTWAIT) >= 0) break;
    if (ready > 0 && errno != EAGAIN) return ZmqError("zmq_send");
    if (Remaining(deadline).count() == 0) {
      return Unavailable("no sidecar connected at " + options_.endpoint + " within " +
                         std::to_string(options_.timeout.count()) + " ms");
    }
  }
  return AwaitReceipt(row.outbox_seq, deadline);
}

Status SidecarSink::AwaitReceipt(uint64_t outbox_seq,
                                 std::chrono::steady_clock::time_point deadline) {
  while (true) {
    zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
    int ready = zmq_poll(&item, 1, static_cast<long>(Remaining(deadline).count()));
    if (ready < 0 && errno != EINTR) return ZmqError("zmq_poll");
    if (ready <= 0) {
      if (Remaining(deadline).count() > 0) continue;
      return DeadlineExceeded("no receipt from the sidecar at " + options_.endpoint +
                              " for outbox_seq " + std::to_string(outbox_seq) + " within " +
                              std::to_string(options_.timeout.count()) + " ms");
    }
    zmq_util::Message frame;
    if (zmq_msg_recv(frame.get(), socket_, ZMQ_DONTWAIT) < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return ZmqError("zmq_msg_recv");
    }
    if (frame.more()) {
      // A receipt is one frame; drop whatever this is, part by part.
      while (frame.more() && zmq_msg_recv(frame.get(), socket_, ZMQ_DONTWAIT) >= 0) {
      }
      continue;
    }
    StatusOr<OutboxReceipt> receipt = DecodeOutboxReceipt(frame.view());
    if (!receipt.ok()) {
      LogWarn("outbox_sidecar_bad_receipt", {{"error", receipt.status().ToString()}});
      continue;
    }
    // An answer to an earlier attempt, which the relay already gave up on.
    if (receipt->outbox_seq != outbox_seq) continue;
    if (!receipt->ok) return Unavailable("sidecar could not publish: " + receipt->error);
    return OkStatus();
  }
}

StatusOr<std::unique_ptr<OutboxSink>> MakeSidecarSink(const OutboxOptions& options) {
  SidecarSinkOptions sink_options;
  sink_options.endpoint = options.sidecar_endpoint;
  sink_options.timeout = options.timeout;
  sink_options.curve_server_public_key = options.curve_server_public_key;
  sink_options.curve_client_public_key = options.curve_client_public_key;
  sink_options.curve_client_secret_key = options.curve_client_secret_key;
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<SidecarSink> sink, SidecarSink::Connect(sink_options));
  return std::unique_ptr<OutboxSink>(std::move(sink));
}

}  // namespace wojak
