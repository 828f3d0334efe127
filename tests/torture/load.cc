// The torture clients: one thread and one kept-alive connection each, one operation at a time,
// every operation resent (freshly signed) until it is answered.
#include "load.h"

#include <nlohmann/json.hpp>
#include <random>

#include "client_log.h"
#include "http_connection.h"
#include "model/money.h"
#include "sidecar/sources/http/http_signing.h"

namespace wojak::torture {
namespace {

using nlohmann::json;
namespace http = wojak::sidecar::http;

// Cancels go to one of the newest accepted orders, which are the likeliest still to be open.
constexpr size_t kCancelCandidates = 8;
constexpr std::string_view kForgedSecret = "not-the-secret-of-this-key-0000";

struct AckedOrder {
  std::string account;
  std::string client_order_id;
  std::string body;
  bool accepted = false;
  bool cancel_sent = false;
};

// An answer after which the operation is over: a decision, or a refusal that resending would
// not change (the check decides whether it was legitimate).
bool IsFinal(int status) { return status != 0 && status != 429 && status < 500; }

std::vector<std::pair<std::string, std::string>> SignedHeaders(const std::string& key_id,
                                                               std::string_view secret,
                                                               const std::string& method,
                                                               const std::string& target,
                                                               const std::string& body) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  http::SignedHeaders s =
      http::SignRequest(key_id, secret, method, target, body, now_ms, http::RandomHex128());
  return {{std::string(http::kKeyHeader), s.key},
          {std::string(http::kTimestampHeader), s.timestamp},
          {std::string(http::kNonceHeader), s.nonce},
          {std::string(http::kSignatureHeader), s.signature}};
}

// Buys a few ticks below the reference price and sells a few above, so a client's own orders
// never cross (the gate rejects those as SELF_TRADE) and most valid orders reach the executor.
std::string LimitPrice(const LoadOptions& options, bool buy, int64_t ticks) {
  StatusOr<Paise> reference = Paise::Parse(options.price);
  if (!reference.ok()) return options.price;
  const int64_t offset = ticks * options.tick_paise;
  return Paise::FromPaise(reference->value() + (buy ? -offset : offset)).ToString();
}

std::string OrderBody(const LoadOptions& options, const std::string& account,
                      const std::string& client_order_id, bool buy, int64_t quantity,
                      const std::string& price) {
  return json{{"client_order_id", client_order_id},
              {"account", account},
              {"strategy", "torture"},
              {"exchange", "NFO"},
              {"symbol", options.symbol},
              {"side", buy ? "BUY" : "SELL"},
              {"quantity", quantity},
              {"order_type", "LIMIT"},
              {"product", "NRML"},
              {"price", price},
              {"validity", "DAY"}}
      .dump();
}

// Whether a 200 answer to a new order says the order was (first) accepted.
bool AnsweredAccepted(const std::string& body) {
  const json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object()) return false;
  if (answer.value("decision", "") == "DUPLICATE" && answer.contains("original")) {
    return answer["original"].value("decision", "") == "ACCEPTED";
  }
  return answer.value("decision", "") == "ACCEPTED";
}

}  // namespace

Load::Load(LoadOptions options) : options_(std::move(options)) {}

Load::~Load() {
  Abort();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void Load::Start() {
  running_ = options_.clients;
  for (int client = 0; client < options_.clients; ++client) {
    threads_.emplace_back([this, client] { RunClient(client); });
  }
}

void Load::RequestStop() { stop_ = true; }

void Load::Abort() {
  stop_ = true;
  abort_ = true;
}

bool Load::Join(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (running_.load() > 0) return false;
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  return true;
}

std::vector<std::string> Load::log_paths() const {
  std::vector<std::string> paths;
  for (int client = 0; client < options_.clients; ++client) {
    paths.push_back(options_.log_dir + "/client-" + std::to_string(client) + ".jsonl");
  }
  return paths;
}

void Load::RunClient(int client) {
  struct Done {
    std::atomic<int>& running;
    ~Done() { --running; }
  } done{running_};
  StatusOr<ClientLogWriter> log = ClientLogWriter::Open(log_paths()[client]);
  if (!log.ok()) return;  // no log, no operations: the check finds the client silent
  std::mt19937_64 random(options_.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(client));
  HttpConnection connection(options_.host, options_.port, options_.request_timeout);
  std::vector<AckedOrder> acked;
  uint64_t operation_id = 0;
  uint64_t request = 0;
  const std::string prefix = std::to_string(client);

  while (!stop_.load()) {
    ++operation_id;
    int roll = static_cast<int>(random() % 100);
    Operation operation = Operation::kOrder;
    if (roll < options_.breach_percent) {
      operation = Operation::kBreach;
    } else if ((roll -= options_.breach_percent) < options_.duplicate_percent) {
      operation = Operation::kDuplicate;
    } else if ((roll -= options_.duplicate_percent) < options_.cancel_percent) {
      operation = Operation::kCancel;
    } else if ((roll -= options_.cancel_percent) < options_.forged_percent) {
      operation = Operation::kForged;
    }

    AckedOrder* target_order = nullptr;
    if (operation == Operation::kDuplicate && !acked.empty()) {
      target_order = &acked[random() % acked.size()];
    } else if (operation == Operation::kCancel) {
      for (size_t i = acked.size(); i > 0 && acked.size() - i < kCancelCandidates; --i) {
        if (acked[i - 1].accepted && !acked[i - 1].cancel_sent) target_order = &acked[i - 1];
        if (target_order != nullptr) break;
      }
    }
    if ((operation == Operation::kDuplicate || operation == Operation::kCancel) &&
        target_order == nullptr) {
      operation = Operation::kOrder;
    }

    std::string account = "T" + prefix + "-" + std::to_string(random() % 3);
    std::string client_order_id = "c" + prefix + "-" + std::to_string(operation_id);
    std::string method = "POST";
    std::string target = "/v1/orders";
    std::string body;
    const bool buy = random() % 2 == 0;
    const int64_t lots = 1 + static_cast<int64_t>(random() % 3);
    const std::string price = LimitPrice(options_, buy, 1 + static_cast<int64_t>(random() % 5));
    switch (operation) {
      case Operation::kOrder:
        body = OrderBody(options_, account, client_order_id, buy, lots * options_.lot_size, price);
        break;
      case Operation::kBreach:
        body = OrderBody(
            options_, account, client_order_id, buy,
            lots * options_.lot_size + 1 + static_cast<int64_t>(random() % (options_.lot_size - 1)),
            price);
        break;
      case Operation::kForged:
        client_order_id = "forged-" + prefix + "-" + std::to_string(operation_id);
        body = OrderBody(options_, account, client_order_id, buy, lots * options_.lot_size, price);
        break;
      case Operation::kDuplicate:
        account = target_order->account;
        client_order_id = target_order->client_order_id;
        body = target_order->body;
        break;
      case Operation::kCancel:
        target_order->cancel_sent = true;
        account = target_order->account;
        client_order_id = target_order->client_order_id;
        target = "/v1/orders/" + client_order_id + "/cancel";
        body = json{{"account", account}}.dump();
        break;
    }

    Exchange exchange;
    for (int attempt = 1; !abort_.load(); ++attempt) {
      exchange = Exchange{client,          operation_id, ++request, operation, account,
                          client_order_id, attempt,      0,         ""};
      const std::string_view secret =
          operation == Operation::kForged ? kForgedSecret : std::string_view(options_.secret);
      auto headers = SignedHeaders(options_.key_id, secret, method, target, body);
      log->Sent(exchange);
      HttpAnswer answer = connection.Exchange(method, target, headers, body);
      exchange.http_status = answer.status;
      exchange.body = std::move(answer.body);
      log->Answered(exchange);
      if (IsFinal(exchange.http_status)) break;
      const auto delay = options_.resend_delay.count();
      std::this_thread::sleep_for(
          std::chrono::milliseconds(delay + static_cast<int64_t>(random() % (delay + 1))));
    }
    if (exchange.http_status == 200 &&
        (operation == Operation::kOrder || operation == Operation::kBreach)) {
      acked.push_back({account, client_order_id, body, AnsweredAccepted(exchange.body), false});
    }
    operations_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace wojak::torture
