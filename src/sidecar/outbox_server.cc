// OutboxServer: ROUTER socket, one delivery at a time, receipts after the broker's confirmation.
#include "sidecar/outbox_server.h"

#include <zmq.h>

#include <cerrno>

#include "common/log.h"
#include "wire/codec.h"
#include "wire/transport_security.h"
#include "wire/zmq_socket_setup.h"
#include "wire/zmq_util.h"

namespace wojak::sidecar {
namespace {

using zmq_util::SetInt;
using zmq_util::ZmqError;

// A delivery carries one outbox row (a few KB of JSON); anything far larger is not from a relay.
constexpr int64_t kMaxDeliveryBytes = 4 << 20;
constexpr int kHeartbeatMs = 1000;
// How often the serving thread looks at the stop flag while idle.
constexpr long kStopCheckMs = 100;

std::string PublisherNames() {
  std::string names;
  for (const std::string& name : OutboxPublisherRegistry::Names()) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names.empty() ? "none" : names;
}

Status ConfigureSocket(void* socket, const OutboxServerOptions& options) {
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_LINGER, 1000, "ZMQ_LINGER"));
  // A receipt for an engine that went away fails at once instead of queueing.
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_HEARTBEAT_IVL, kHeartbeatMs, "ZMQ_HEARTBEAT_IVL"));
  WOJAK_RETURN_IF_ERROR(
      SetInt(socket, ZMQ_HEARTBEAT_TIMEOUT, kHeartbeatMs * 3, "ZMQ_HEARTBEAT_TIMEOUT"));
  if (zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &kMaxDeliveryBytes, sizeof(kMaxDeliveryBytes)) != 0) {
    return ZmqError("zmq_setsockopt(ZMQ_MAXMSGSIZE)");
  }
  return ConfigureCurveServer(socket, options.curve_secret_key, options.curve_allowed_clients);
}

StatusOr<std::string> LastEndpoint(void* socket) {
  char buffer[1024];
  size_t size = sizeof(buffer);
  if (zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, buffer, &size) != 0) {
    return ZmqError("zmq_getsockopt(ZMQ_LAST_ENDPOINT)");
  }
  return std::string(buffer);
}

}  // namespace

OutboxServerOptions ReadOutboxServerOptions(ConfigSection section) {
  OutboxServerOptions options;
  options.endpoint = section.String(
      "outbox_endpoint", "",
      "where the engine's outbox relay (outbox.sink: sidecar) delivers rows for this source's "
      "broker (ipc://PATH, or tcp://HOST:PORT with outbox_curve_secret_key when HOST is not "
      "loopback); empty = no broker sink. The source's sources.<name>.outbox keys say where the "
      "rows are published");
  options.publish_timeout = section.Duration(
      "outbox_publish_timeout", options.publish_timeout,
      "longest wait for the broker's confirmation of one outbox row (keep it below the engine's "
      "outbox.timeout)");
  options.curve_secret_key =
      section
          .Secret("outbox_curve_secret_key",
                  "CURVE secret key (Z85) of the outbox endpoint; the engine configures the public "
                  "half as outbox.curve_server_public_key")
          .value_or("");
  options.curve_allowed_clients = section.StringList(
      "outbox_curve_allowed_clients", {},
      "Z85 CURVE public keys of the engines allowed to deliver to the outbox endpoint (required "
      "with outbox_curve_secret_key)");
  options.ipc_group = section.String(
      "outbox_ipc_group", "",
      "ipc:// outbox endpoint: group given the socket file (mode 0660), e.g. the engine's; empty = "
      "this process's group");
  if (options.publish_timeout.count() <= 0) {
    section.Error("outbox_publish_timeout", "must be positive");
  }
  if (!options.curve_secret_key.empty() && options.curve_allowed_clients.empty()) {
    section.Error("outbox_curve_allowed_clients",
                  "required with outbox_curve_secret_key: list the engine's "
                  "outbox.curve_client_public_key");
  }
  if (options.curve_secret_key.empty() && !options.curve_allowed_clients.empty()) {
    section.Error("outbox_curve_allowed_clients", "needs sidecar.outbox_curve_secret_key");
  }
  for (size_t i = 0; i < options.curve_allowed_clients.size(); ++i) {
    if (options.curve_allowed_clients[i].size() != 40) {
      section.Error("outbox_curve_allowed_clients[" + std::to_string(i) + "]",
                    "must be a 40-character Z85 CURVE public key");
    }
  }
  if (!options.endpoint.empty()) {
    if (Status secure = CheckEndpointSecurity("sidecar.outbox_endpoint", options.endpoint,
                                              !options.curve_secret_key.empty(), false);
        !secure.ok()) {
      section.Error("outbox_endpoint", secure.message());
    }
  }
  return options;
}

StatusOr<std::unique_ptr<OutboxPublisher>> MakeOutboxPublisher(std::string_view source_name,
                                                               ConfigSection outbox_section) {
  const OutboxPublisherFactory* factory = OutboxPublisherRegistry::Find(source_name);
  if (factory == nullptr) {
    return InvalidArgument("source '" + std::string(source_name) +
                           "' has no outbox publisher, so it cannot serve "
                           "sidecar.outbox_endpoint (sources with one: " +
                           PublisherNames() + ")");
  }
  return (*factory)(outbox_section);
}

StatusOr<std::unique_ptr<OutboxServer>> OutboxServer::Start(
    const OutboxServerOptions& options, std::unique_ptr<OutboxPublisher> publisher,
    const std::string& source_name, MetricsRegistry& registry) {
  WOJAK_RETURN_IF_ERROR(CheckEndpointSecurity("sidecar.outbox_endpoint", options.endpoint,
                                              !options.curve_secret_key.empty(), false));
  WOJAK_ASSIGN_OR_RETURN(std::vector<std::string> allowed_keys,
                         DecodeCurveAllowlist(options.curve_allowed_clients));
  WOJAK_RETURN_IF_ERROR(publisher->Start().WithContext("starting the outbox publisher"));
  void* context = zmq_ctx_new();
  if (context == nullptr) return ZmqError("zmq_ctx_new");
  void* socket = zmq_socket(context, ZMQ_ROUTER);
  if (socket == nullptr) {
    Status error = ZmqError("zmq_socket(ROUTER)");
    zmq_ctx_term(context);
    return error;
  }
  void* zap_socket = nullptr;
  auto fail = [&](Status status) {
    int no_linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &no_linger, sizeof(no_linger));
    zmq_close(socket);
    if (zap_socket != nullptr) zmq_close(zap_socket);
    zmq_ctx_term(context);
    publisher->Stop();
    return status.WithContext("starting the outbox server on " + options.endpoint);
  };
  if (!options.curve_secret_key.empty() && !allowed_keys.empty()) {
    StatusOr<void*> zap = BindZapHandler(context);
    if (!zap.ok()) return fail(zap.status());
    zap_socket = *zap;
  }
  if (Status configured = ConfigureSocket(socket, options); !configured.ok()) {
    return fail(configured);
  }
  if (Status bound = BindZmqEndpoint(socket, options.endpoint, options.ipc_group); !bound.ok()) {
    return fail(bound);
  }
  StatusOr<std::string> endpoint = LastEndpoint(socket);
  if (!endpoint.ok()) return fail(endpoint.status());
  Counter& published =
      registry
          .AddCounterFamily("wojak_sidecar_outbox_published_total",
                            "outbox rows the broker confirmed (receipt ok sent to the engine)",
                            {"source"})
          .WithLabels({source_name});
  Counter& failures =
      registry
          .AddCounterFamily("wojak_sidecar_outbox_failures_total",
                            "outbox deliveries not confirmed by the broker, or unreadable "
                            "(receipt not ok: the engine offers the row again)",
                            {"source"})
          .WithLabels({source_name});
  std::unique_ptr<OutboxServer> server(new OutboxServer(options, std::move(publisher), context,
                                                        socket, zap_socket, *endpoint, published,
                                                        failures));
  server->allowed_client_keys_ = std::move(allowed_keys);
  server->thread_ = std::thread([raw = server.get()] { raw->Run(); });
  LogInfo("outbox_server_started", {{"source", source_name}, {"endpoint", server->endpoint()}});
  return server;
}

OutboxServer::OutboxServer(const OutboxServerOptions& options,
                           std::unique_ptr<OutboxPublisher> publisher, void* context, void* socket,
                           void* zap_socket, std::string endpoint, Counter& published,
                           Counter& failures)
    : options_(options),
      publisher_(std::move(publisher)),
      context_(context),
      socket_(socket),
      zap_socket_(zap_socket),
      endpoint_(std::move(endpoint)),
      published_(published),
      failures_(failures) {}

OutboxServer::~OutboxServer() { Stop(); }

void OutboxServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  zmq_close(socket_);
  if (zap_socket_ != nullptr) zmq_close(zap_socket_);
  zmq_ctx_term(context_);
  publisher_->Stop();
}

void OutboxServer::Run() {
  while (!stopping_.load()) {
    zmq_pollitem_t items[] = {{socket_, 0, ZMQ_POLLIN, 0}, {zap_socket_, 0, ZMQ_POLLIN, 0}};
    const int item_count = zap_socket_ != nullptr ? 2 : 1;
    int ready = zmq_poll(items, item_count, kStopCheckMs);
    if (ready <= 0) continue;
    if (item_count == 2 && (items[1].revents & ZMQ_POLLIN)) {
      AnswerCurveZapRequests(zap_socket_, allowed_client_keys_, "outbox_client_refused");
    }
    if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
    zmq_util::Message routing_id;
    if (zmq_msg_recv(routing_id.get(), socket_, ZMQ_DONTWAIT) < 0) continue;
    if (!routing_id.more()) continue;
    zmq_util::Message frame;
    if (zmq_msg_recv(frame.get(), socket_, ZMQ_DONTWAIT) < 0) continue;
    if (frame.more()) {
      // A delivery is one frame; drop the rest of whatever this is.
      while (frame.more() && zmq_msg_recv(frame.get(), socket_, ZMQ_DONTWAIT) >= 0) {
      }
      continue;
    }
    Serve(routing_id.view(), frame.view());
  }
}

void OutboxServer::Serve(std::string_view routing_id, std::string_view frame) {
  StatusOr<OutboxDelivery> delivery = DecodeOutboxDelivery(frame);
  OutboxReceipt receipt;
  if (!delivery.ok()) {
    // Without a readable outbox_seq the relay cannot match an answer; it times out and retries.
    failures_.Increment();
    LogWarn("outbox_delivery_unreadable", {{"error", delivery.status().ToString()}});
    return;
  }
  receipt.outbox_seq = delivery->outbox_seq;
  OutboxMessage message;
  message.outbox_seq = delivery->outbox_seq;
  message.entry_seq = delivery->entry_seq;
  message.topic = std::move(delivery->topic);
  message.account = std::move(delivery->account);
  message.body = std::move(delivery->body);
  Status published = publisher_->Publish(message, options_.publish_timeout);
  receipt.ok = published.ok();
  if (published.ok()) {
    published_.Increment();
  } else {
    failures_.Increment();
    receipt.error = published.ToString();
    LogWarn("outbox_publish_failed",
            {{"outbox_seq", message.outbox_seq}, {"error", receipt.error}});
  }
  const std::string reply = EncodeOutboxReceipt(PeekRequestId(frame), receipt);
  if (zmq_send(socket_, routing_id.data(), routing_id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
      zmq_send(socket_, reply.data(), reply.size(), ZMQ_DONTWAIT) < 0) {
    // The engine went away while the broker was publishing; it offers the row again.
    LogWarn("outbox_receipt_not_sent",
            {{"outbox_seq", message.outbox_seq}, {"error", zmq_strerror(errno)}});
  }
}

}  // namespace wojak::sidecar
