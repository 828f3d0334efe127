// The engine's ZeroMQ ROUTER transport: an I/O thread that decodes requests into a bounded queue
// for the sequencer and sends the sequencer's replies, never blocking either side.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/mpsc_queue.h"
#include "common/status.h"
#include "model/order.h"
#include "model/requests.h"

namespace wojak {

struct ZmqServerOptions {
  // ipc://PATH (parent directory created, stale socket file replaced, file mode 0660) or
  // tcp://HOST:PORT (PORT may be * to pick a free one; see ZmqServer::endpoint()).
  std::string endpoint = "ipc://var/engine.sock";
  // Requests decoded but not yet taken by the sequencer. Beyond it the I/O thread answers
  // RETRY (ENGINE_BUSY) at once, so memory stays bounded and clients back off.
  size_t inbound_capacity = 65536;
  // ZeroMQ per-peer queue bound, in messages, for both directions.
  int high_water_mark = 100000;
  std::chrono::milliseconds heartbeat_interval{1000};
  // Stop(): the socket stays open this long after stopping, still sending replies (and
  // answering new requests RETRY), because a client DEALER with ZMQ_IMMEDIATE discards replies
  // it has received but not yet read once the connection closes.
  std::chrono::milliseconds close_grace{200};
  // Stop(): how long replies already handed to ZeroMQ may then take to leave.
  std::chrono::milliseconds linger{1000};
  uint32_t busy_retry_after_ms = 50;
  // Larger frames make libzmq drop the connection (no Wojak request comes near this).
  int64_t max_message_bytes = 1 << 20;
  // Z85 CURVE secret key; non-empty makes the socket a CURVE server (tcp:// across hosts).
  // Clients then need the matching public key.
  std::string curve_secret_key;
  // Z85 CURVE public keys of the clients allowed in, checked by a ZAP handler at every
  // handshake; any other key is refused (counted in clients_refused). Empty: every client that
  // knows the server's public key gets in, so the engine requires a list (engine.cc).
  std::vector<std::string> curve_allowed_clients;
  // A plain tcp:// endpoint reachable from other hosts is refused at Start unless this is set
  // (transport_security.h); loopback and ipc:// need neither CURVE nor this.
  bool allow_insecure_tcp = false;
  // ipc:// only: the group the socket file is given (mode 0660), so sidecars running under that
  // group may connect. Empty: the process's own group.
  std::string ipc_group;
};

// One decoded request for the sequencer; reply to it with routing_id and request_id.
struct InboundRequest {
  std::string routing_id;  // the client connection (ZeroMQ ROUTER identity)
  uint64_t request_id = 0;
  Request request;               // never a PingRequest: the I/O thread answers pings itself
  int64_t received_mono_ns = 0;  // RealClock monotonic time when the frame was read
};

struct OutboundReply {
  std::string routing_id;
  uint64_t request_id = 0;
  Decision decision;
  // When non-empty, sent unchanged instead of encoding decision (an envelope built with
  // wire/codec.h); request_id is then only informational.
  std::string encoded_reply;
};

// Plain atomics so metrics can read them from any thread.
struct ZmqServerCounters {
  std::atomic<uint64_t> requests_received{0};   // decoded requests, pings included
  std::atomic<uint64_t> malformed_frames{0};    // answered with an ErrorReply
  std::atomic<uint64_t> busy_replies{0};        // answered RETRY by the I/O thread
  std::atomic<uint64_t> replies_sent{0};        // everything sent, error/busy/pong included
  std::atomic<uint64_t> unroutable_replies{0};  // client gone (EHOSTUNREACH): dropped
  std::atomic<uint64_t> dropped_replies{0};     // client's queue full, or handed over too late
  std::atomic<uint64_t> clients_refused{0};     // CURVE handshakes with a key not allowed in
};

class ZmqServer {
 public:
  // Binds and starts the I/O thread.
  static StatusOr<std::unique_ptr<ZmqServer>> Start(const ZmqServerOptions& options);
  ~ZmqServer();  // Stop()
  ZmqServer(const ZmqServer&) = delete;
  ZmqServer& operator=(const ZmqServer&) = delete;

  // The bound endpoint, with a tcp port chosen by the system filled in.
  const std::string& endpoint() const { return endpoint_; }

  // The sequencer drains this with PopAll; it is closed by StopIntake()/Stop().
  MpscQueue<InboundRequest>& inbound() { return inbound_; }

  // Hands replies to the I/O thread; never blocks. Thread-safe.
  void SendReplies(std::vector<OutboundReply>&& replies);

  // Drain step one: new requests are answered RETRY (ENGINE_BUSY) and the inbound queue is
  // closed, so the sequencer finishes what it has and replies. Pings are still answered.
  void StopIntake();
  // StopIntake(), then keeps sending replies for options.close_grace, closes the socket with
  // options.linger and joins the I/O thread. Replies handed over later are dropped (counted).
  // Idempotent.
  void Stop();

  const ZmqServerCounters& counters() const { return counters_; }

 private:
  ZmqServer(const ZmqServerOptions& options, void* context, void* socket, void* zap_socket,
            int wake_fd, std::string endpoint);
  void Run();
  // Answers the ZAP requests libzmq queued for CURVE handshakes: allowed client key or not.
  void AnswerZapRequests();
  void ReadInbound();
  void HandleFrame(std::string_view routing_id, std::string_view payload);
  void SendPending();
  void SendFrame(std::string_view routing_id, std::string_view payload);
  void Wake();

  const ZmqServerOptions options_;
  void* context_;
  void* socket_;      // used only by the I/O thread once started
  void* zap_socket_;  // ZAP handler (REP, inproc), or null without an allowlist; I/O thread
  std::vector<std::string> allowed_client_keys_;  // 32-byte binary CURVE public keys, sorted
  const int wake_fd_;  // eventfd: SendReplies/Stop wake the I/O thread out of zmq_poll
  const std::string endpoint_;
  MpscQueue<InboundRequest> inbound_;
  ZmqServerCounters counters_;
  std::atomic<bool> intake_stopped_{false};

  std::mutex outbound_mutex_;
  std::vector<OutboundReply> outbound_;  // guarded by outbound_mutex_
  bool stopping_ = false;                // guarded by outbound_mutex_: Stop() was called
  bool closed_ = false;                  // guarded by outbound_mutex_: the socket is closing
  std::vector<OutboundReply> sending_;   // I/O thread only

  std::mutex stop_mutex_;  // serialises Stop() callers
  std::thread io_thread_;
};

}  // namespace wojak
