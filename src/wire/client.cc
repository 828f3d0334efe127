// EngineClient over a ZeroMQ DEALER: pipelined requests, replies matched by request id.
#include "wojak/client.h"

#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <unordered_set>

#include "wire/codec.h"
#include "wire/zmq_socket_setup.h"
#include "wire/zmq_util.h"

namespace wojak {
namespace {

using zmq_util::SetInt;
using zmq_util::SetString;
using zmq_util::ZmqError;

// Replies are small; a frame beyond this comes from something that is not a Wojak engine.
constexpr int64_t kMaxReplyBytes = 1 << 20;

class ZmqEngineClient final : public EngineClient {
 public:
  ZmqEngineClient(void* context, void* socket, int max_in_flight)
      : context_(context), socket_(socket), max_in_flight_(max_in_flight) {
    in_flight_ids_.reserve(static_cast<size_t>(max_in_flight));
  }

  ~ZmqEngineClient() override {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }

  StatusOr<uint64_t> Send(const Request& request) override {
    if (in_flight() >= max_in_flight_) {
      return ResourceExhausted("in-flight window of " + std::to_string(max_in_flight_) +
                               " requests is full");
    }
    uint64_t request_id = next_request_id_++;
    std::string bytes = EncodeRequest(request_id, request);
    if (zmq_send(socket_, bytes.data(), bytes.size(), ZMQ_DONTWAIT) < 0) {
      if (errno == EAGAIN) {
        return ResourceExhausted("engine not connected or its send queue is full");
      }
      return ZmqError("zmq_send");
    }
    in_flight_ids_.insert(request_id);
    return request_id;
  }

  StatusOr<std::vector<Reply>> Poll(std::chrono::milliseconds max_wait) override {
    std::vector<Reply> replies;
    WOJAK_RETURN_IF_ERROR(Drain(replies));
    const auto deadline = std::chrono::steady_clock::now() + max_wait;
    // Loop because a wake-up may bring only replies that are dropped (abandoned requests).
    while (replies.empty()) {
      auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (remaining.count() <= 0) break;
      zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
      int ready = zmq_poll(&item, 1, static_cast<long>(remaining.count()));
      if (ready < 0) {
        if (errno == EINTR) continue;
        return ZmqError("zmq_poll");
      }
      if (ready == 0) break;
      WOJAK_RETURN_IF_ERROR(Drain(replies));
    }
    return replies;
  }

  void Abandon(uint64_t request_id) override { in_flight_ids_.erase(request_id); }

  int in_flight() const override { return static_cast<int>(in_flight_ids_.size()); }

 private:
  // Takes every reply already received, without waiting.
  Status Drain(std::vector<Reply>& replies) {
    while (true) {
      zmq_util::Message frame;
      if (zmq_msg_recv(frame.get(), socket_, ZMQ_DONTWAIT) < 0) {
        if (errno == EAGAIN) return OkStatus();
        if (errno == EINTR) continue;
        return ZmqError("zmq_msg_recv");
      }
      if (frame.more()) {
        // The engine sends one frame per reply; anything else is not for us.
        SkipRestOfMessage();
        continue;
      }
      StatusOr<Reply> reply = DecodeReply(frame.view());
      if (!reply.ok()) continue;  // undecodable: the request will time out and be retried
      if (in_flight_ids_.erase(reply->request_id) == 0) continue;  // abandoned or unknown
      replies.push_back(std::move(*reply));
    }
  }

  void SkipRestOfMessage() {
    bool more = true;
    while (more) {
      zmq_util::Message part;
      if (zmq_msg_recv(part.get(), socket_, ZMQ_DONTWAIT) < 0) return;
      more = part.more();
    }
  }

  void* context_;
  void* socket_;
  const int max_in_flight_;
  uint64_t next_request_id_ = 1;
  std::unordered_set<uint64_t> in_flight_ids_;
};

Status ConfigureSocket(void* socket, const ClientOptions& options) {
  const int heartbeat_ms =
      static_cast<int>(std::max<int64_t>(options.heartbeat_interval.count(), 1));
  // Replies never outnumber requests, so the window bounds both queues.
  const int high_water_mark = std::max(options.max_in_flight, 1) * 2;
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_LINGER, 0, "ZMQ_LINGER"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_SNDHWM, high_water_mark, "ZMQ_SNDHWM"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_RCVHWM, high_water_mark, "ZMQ_RCVHWM"));
  // Without a live connection sends fail at once instead of queueing for a peer that may never
  // come back; the caller nacks and the broker redelivers.
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_IMMEDIATE, 1, "ZMQ_IMMEDIATE"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_HEARTBEAT_IVL, heartbeat_ms, "ZMQ_HEARTBEAT_IVL"));
  WOJAK_RETURN_IF_ERROR(
      SetInt(socket, ZMQ_HEARTBEAT_TIMEOUT, heartbeat_ms * 3, "ZMQ_HEARTBEAT_TIMEOUT"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_HEARTBEAT_TTL, heartbeat_ms * 3, "ZMQ_HEARTBEAT_TTL"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_RECONNECT_IVL, 100, "ZMQ_RECONNECT_IVL"));
  WOJAK_RETURN_IF_ERROR(SetInt(socket, ZMQ_RECONNECT_IVL_MAX, 2000, "ZMQ_RECONNECT_IVL_MAX"));
  if (zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &kMaxReplyBytes, sizeof(kMaxReplyBytes)) != 0) {
    return ZmqError("zmq_setsockopt(ZMQ_MAXMSGSIZE)");
  }
  return ConfigureCurveClient(socket, options.curve_server_public_key,
                              options.curve_client_public_key, options.curve_client_secret_key);
}

// With ZMQ_IMMEDIATE the socket is writable only once a connection has completed its handshake.
Status WaitConnected(void* socket, const ClientOptions& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  while (true) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    zmq_pollitem_t item{socket, 0, ZMQ_POLLOUT, 0};
    int ready = zmq_poll(&item, 1, std::max<long>(static_cast<long>(remaining.count()), 0));
    if (ready > 0) return OkStatus();
    if (ready < 0 && errno != EINTR) return ZmqError("zmq_poll");
    if (ready == 0 && remaining.count() <= 0) break;
  }
  return Unavailable("engine at " + options.endpoint + " not reachable within " +
                     std::to_string(options.connect_timeout.count()) + " ms");
}

}  // namespace

Status ConfigureCurveClient(void* socket, const std::string& server_public_key,
                            const std::string& client_public_key,
                            const std::string& client_secret_key) {
  if (server_public_key.empty()) {
    if (!client_public_key.empty() || !client_secret_key.empty()) {
      return InvalidArgument("CURVE client keys given without the server's public key");
    }
    return OkStatus();
  }
  WOJAK_RETURN_IF_ERROR(zmq_util::CheckCurveKey(server_public_key, "curve_server_public_key"));
  std::string public_key = client_public_key;
  std::string secret_key = client_secret_key;
  if (public_key.empty() != secret_key.empty()) {
    return InvalidArgument("CURVE client public and secret keys must be given together");
  }
  if (public_key.empty()) {
    // No client identity configured: an ephemeral key pair still encrypts the connection.
    char generated_public[41];
    char generated_secret[41];
    if (zmq_curve_keypair(generated_public, generated_secret) != 0) {
      return ZmqError("zmq_curve_keypair");
    }
    public_key = generated_public;
    secret_key = generated_secret;
  }
  WOJAK_RETURN_IF_ERROR(zmq_util::CheckCurveKey(public_key, "curve_client_public_key"));
  WOJAK_RETURN_IF_ERROR(zmq_util::CheckCurveKey(secret_key, "curve_client_secret_key"));
  WOJAK_RETURN_IF_ERROR(
      SetString(socket, ZMQ_CURVE_SERVERKEY, server_public_key, "ZMQ_CURVE_SERVERKEY"));
  WOJAK_RETURN_IF_ERROR(SetString(socket, ZMQ_CURVE_PUBLICKEY, public_key, "ZMQ_CURVE_PUBLICKEY"));
  return SetString(socket, ZMQ_CURVE_SECRETKEY, secret_key, "ZMQ_CURVE_SECRETKEY");
}

StatusOr<std::unique_ptr<EngineClient>> EngineClient::Connect(const ClientOptions& options) {
  if (options.max_in_flight <= 0) {
    return InvalidArgument("max_in_flight must be positive (got " +
                           std::to_string(options.max_in_flight) + ")");
  }
  void* context = zmq_ctx_new();
  if (context == nullptr) return ZmqError("zmq_ctx_new");
  void* socket = zmq_socket(context, ZMQ_DEALER);
  if (socket == nullptr) {
    Status error = ZmqError("zmq_socket(DEALER)");
    zmq_ctx_term(context);
    return error;
  }
  // From here the client owns the socket and context, so every early return cleans up.
  auto client = std::make_unique<ZmqEngineClient>(context, socket, options.max_in_flight);
  WOJAK_RETURN_IF_ERROR(ConfigureSocket(socket, options));
  if (zmq_connect(socket, options.endpoint.c_str()) != 0) {
    return ZmqError("zmq_connect(" + options.endpoint + ")");
  }
  if (options.connect_timeout.count() > 0) WOJAK_RETURN_IF_ERROR(WaitConnected(socket, options));
  return std::unique_ptr<EngineClient>(std::move(client));
}

}  // namespace wojak
