// Conformance fixture for the HTTP source. The "broker" is the client side: publishing is a
// POST, an ack is a 200 with the decision, a dead letter a 422 (or 403), a nack a 503 after which
// the client sends the same order again (that is HTTP's redelivery). One connection per ordering
// key, used sequentially, so per-key order holds.
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "conformance/harness.h"
#include "sidecar/sources/http/http_client.h"
#include "support/process.h"

namespace wojak::conformance {
namespace {

using namespace std::chrono_literals;
using sidecar::http::HttpClient;
using sidecar::http::HttpClientOptions;
using sidecar::http::HttpResult;

constexpr char kKeyId[] = "conformance";
constexpr char kSecret[] = "conformance-secret-0123456789";

class HttpFixture final : public SourceFixture {
 public:
  ~HttpFixture() override { Stop(); }

  Status Start(const std::string&) override { return OkStatus(); }

  std::string SourceConfig() const override {
    return "    listen: 127.0.0.1:0\n"
           "    auth:\n"
           "      mode: hmac\n"
           "      keys:\n"
           "        conformance:\n"
           "          accounts: [\"*\"]\n";
  }

  std::vector<std::string> SidecarEnvironment() const override {
    return {std::string("WOJAK_SOURCES_HTTP_AUTH_KEYS_CONFORMANCE_SECRET=") + kSecret};
  }

  Status SidecarStarted(const std::string& log_path) override {
    const std::regex listening(R"("event":"http_source_listening".*"port":([0-9]+))");
    std::smatch match;
    std::string log;
    const bool found = ::wojak::testing::WaitUntil(
        [&] {
          log = ::wojak::testing::ReadFile(log_path);
          return std::regex_search(log, match, listening);
        },
        10s);
    if (!found) return NotFound("the sidecar never logged http_source_listening");
    port_ = static_cast<uint16_t>(std::stoi(match[1].str()));
    return OkStatus();
  }

  Status Publish(const std::string& body, const std::string& ordering_key) override {
    std::lock_guard lock(mutex_);
    if (stopping_) return FailedPrecondition("fixture stopped");
    std::unique_ptr<Lane>& lane = lanes_[ordering_key];
    if (!lane) {
      lane = std::make_unique<Lane>();
      Lane* raw = lane.get();
      raw->thread = std::thread([this, raw] { RunLane(*raw); });
    }
    lane->pending.push_back(body);
    lane_ready_.notify_all();
    return OkStatus();
  }

  std::vector<Acked> AckedMessages() override {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::vector<DeadLettered> DeadLetteredMessages() override {
    std::lock_guard lock(mutex_);
    return dead_lettered_;
  }
  size_t NackCount() override {
    std::lock_guard lock(mutex_);
    return nacks_;
  }
  bool PromisesOrdering() const override { return true; }

  void Stop() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    lane_ready_.notify_all();
    for (auto& [key, lane] : lanes_) {
      if (lane->thread.joinable()) lane->thread.join();
    }
  }

 private:
  struct Lane {
    std::deque<std::string> pending;
    std::thread thread;
  };

  void RunLane(Lane& lane) {
    HttpClientOptions options;
    options.port = port_;
    options.key_id = kKeyId;
    options.secret = kSecret;
    options.timeout = 30s;
    std::unique_ptr<HttpClient> client;
    while (true) {
      std::string body;
      {
        std::unique_lock lock(mutex_);
        lane_ready_.wait(lock, [&] { return stopping_ || !lane.pending.empty(); });
        if (stopping_) return;
        body = lane.pending.front();
      }
      if (!client) {
        auto connected = HttpClient::Connect(options);
        if (!connected.ok()) {
          std::this_thread::sleep_for(50ms);
          continue;
        }
        client = std::move(connected).value();
      }
      StatusOr<HttpResult> result = client->Post("/v1/orders", body);
      std::unique_lock lock(mutex_);
      if (!result.ok() || result->status == 503) {
        // Not decided: this client is the broker, so it redelivers after the delay asked for.
        ++nacks_;
        auto delay = 100ms;
        if (result.ok()) {
          auto json = nlohmann::json::parse(result->body, nullptr, false);
          if (json.is_object() && json.contains("retry_after_ms")) {
            delay = std::chrono::milliseconds(json["retry_after_ms"].get<int64_t>());
          }
        } else {
          client.reset();
        }
        lock.unlock();
        std::this_thread::sleep_for(delay);
        continue;
      }
      lane.pending.pop_front();
      auto json = nlohmann::json::parse(result->body, nullptr, false);
      if (result->status == 200 && json.is_object()) {
        acked_.push_back(
            {json.value("client_order_id", ""), json.value("decision", ""), std::move(json)});
      } else {
        // 422 (malformed) and anything unexpected: the message is set aside with the answer.
        dead_lettered_.push_back(
            {body, "HTTP " + std::to_string(result->status) + ": " + result->body});
      }
    }
  }

  uint16_t port_ = 0;
  std::mutex mutex_;
  std::condition_variable lane_ready_;
  std::map<std::string, std::unique_ptr<Lane>> lanes_;
  std::vector<Acked> acked_;
  std::vector<DeadLettered> dead_lettered_;
  size_t nacks_ = 0;
  bool stopping_ = false;
};

}  // namespace

WOJAK_REGISTER_SOURCE_FIXTURE("http", [] { return std::make_unique<HttpFixture>(); });

}  // namespace wojak::conformance
