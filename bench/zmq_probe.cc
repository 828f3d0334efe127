// Raw ZeroMQ DEALER → ROUTER request/ack loop over ipc://, nothing else on the path.
#include "zmq_probe.h"

#include <zmq.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "wire/codec.h"

namespace wojak {
namespace {

constexpr int kStallTimeoutMs = 10'000;

// Frame sizes the engine really sees: one encoded order in, one encoded decision out.
std::string OrderSizedPayload() {
  OrderRequest order;
  order.client_order_id = "bench-000000000001";
  order.account = "ACC1";
  order.strategy = "bench";
  order.exchange = "NFO";
  order.symbol = "NIFTY26JAN24000CE";
  order.quantity = 75;
  order.price = Paise::FromPaise(12050);
  return std::string(EncodeRequest(1, order).size(), 'o');
}

std::string DecisionSizedPayload() {
  Decision decision;
  decision.kind = DecisionKind::kAccepted;
  decision.client_order_id = "bench-000000000001";
  decision.account = "ACC1";
  decision.order_id = FormatOrderId(1);
  decision.seq = 1;
  return std::string(EncodeDecisionReply(1, decision).size(), 'd');
}

void SetOption(void* socket, int option, int value) {
  zmq_setsockopt(socket, option, &value, sizeof(value));
}

// Acks every request at once until `messages` were acked or nothing arrives for the timeout.
void RunRouter(void* router, int messages, std::string ack) {
  zmq_msg_t identity;
  zmq_msg_t request;
  for (int i = 0; i < messages; ++i) {
    zmq_msg_init(&identity);
    zmq_msg_init(&request);
    bool received =
        zmq_msg_recv(&identity, router, 0) >= 0 && zmq_msg_recv(&request, router, 0) >= 0;
    bool sent = received && zmq_msg_send(&identity, router, ZMQ_SNDMORE) >= 0 &&
                zmq_send(router, ack.data(), ack.size(), 0) >= 0;
    zmq_msg_close(&identity);
    zmq_msg_close(&request);
    if (!sent) return;
  }
}

class TempDirectory {
 public:
  TempDirectory() {
    char pattern[] = "/tmp/wojak-zmq-probe-XXXXXX";
    if (::mkdtemp(pattern) != nullptr) path_ = pattern;
  }
  ~TempDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

StatusOr<double> RawZmqProbe(int messages, int window) {
  if (messages <= 0 || window <= 0) {
    return InvalidArgument("RawZmqProbe needs positive messages and window");
  }
  TempDirectory directory;
  if (directory.path().empty()) return IoError("RawZmqProbe: cannot create a temp directory");
  const std::string endpoint = "ipc://" + directory.path() + "/probe.sock";
  const std::string request = OrderSizedPayload();

  void* context = zmq_ctx_new();
  void* router = zmq_socket(context, ZMQ_ROUTER);
  void* dealer = zmq_socket(context, ZMQ_DEALER);
  for (void* socket : {router, dealer}) {
    SetOption(socket, ZMQ_LINGER, 0);
    SetOption(socket, ZMQ_SNDHWM, window * 2);
    SetOption(socket, ZMQ_RCVHWM, window * 2);
    SetOption(socket, ZMQ_RCVTIMEO, kStallTimeoutMs);
    SetOption(socket, ZMQ_SNDTIMEO, kStallTimeoutMs);
  }
  Status status;
  if (zmq_bind(router, endpoint.c_str()) != 0 || zmq_connect(dealer, endpoint.c_str()) != 0) {
    status = Unavailable(std::string("RawZmqProbe: ") + zmq_strerror(errno));
  }

  double per_second = 0;
  if (status.ok()) {
    std::thread router_thread(RunRouter, router, messages, DecisionSizedPayload());
    const auto start = std::chrono::steady_clock::now();
    int sent = 0;
    int acked = 0;
    zmq_msg_t ack;
    while (acked < messages) {
      while (sent < messages && sent - acked < window) {
        if (zmq_send(dealer, request.data(), request.size(), 0) < 0) break;
        ++sent;
      }
      zmq_msg_init(&ack);
      int received = zmq_msg_recv(&ack, dealer, 0);
      zmq_msg_close(&ack);
      if (received < 0) break;
      ++acked;
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    router_thread.join();
    if (acked < messages) {
      status = DeadlineExceeded("RawZmqProbe stalled after " + std::to_string(acked) + " of " +
                                std::to_string(messages) + " acks");
    } else {
      per_second = messages / std::chrono::duration<double>(elapsed).count();
    }
  }
  zmq_close(dealer);
  zmq_close(router);
  zmq_ctx_term(context);
  if (!status.ok()) return status;
  return per_second;
}

}  // namespace wojak
