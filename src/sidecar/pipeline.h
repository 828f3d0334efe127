// The sidecar pipeline: takes messages from a Source, forwards them to the engine over pipelined
// EngineClients (one per shard endpoint), and acts on each reply with the broker (ARCHITECTURE.md
// §1 action table): decided -> Ack, not decided -> Nack with backoff, malformed -> DeadLetter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "sidecar/source.h"
#include "wojak/client.h"

namespace wojak::sidecar {

struct PipelineOptions {
  // Engine endpoint for every account not in shard_map.
  std::string default_endpoint = "ipc://var/engine.sock";
  // account -> endpoint of the engine shard that owns it.
  std::map<std::string, std::string> shard_map;
  // Requests sent to one engine and not yet answered; beyond it the source is not polled.
  int window = 1024;
  // No reply within this -> the engine is presumed stuck: every request in flight to it is
  // nacked, the connection is rebuilt and probed with pings before orders flow again.
  std::chrono::milliseconds request_timeout{5000};
  // A message whose request timed out on its max_attempts-th delivery is dead-lettered
  // (a poison message that stalls or crashes the engine must not be retried forever). Only
  // counts when the source reports delivery attempts.
  int max_attempts = 10;
  // Nack delay: backoff_initial * 2^(attempt-1), capped at backoff_max; never below a RETRY's
  // retry_after_ms.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{30000};
  // Idle engines are pinged this often; a missing pong marks the engine down like a timeout.
  std::chrono::milliseconds heartbeat_interval{1000};
  // Delay between reconnect attempts to an engine that is down (doubles up to 2 s).
  std::chrono::milliseconds reconnect_interval{250};
  // A (re)connecting engine gets this long to become reachable while messages wait for it;
  // after that it is down and messages are nacked at once until the next attempt.
  std::chrono::milliseconds connect_timeout{1000};
  // Graceful stop: how long to wait for replies to requests already in flight.
  std::chrono::milliseconds drain_timeout{5000};
  // Longest a Poll of an idle source blocks (bounds how late heartbeats and timeouts are handled).
  std::chrono::milliseconds idle_poll_wait{100};
  // CURVE keys for tcp:// engines on other hosts (Z85); empty = plain.
  std::string curve_server_public_key;
  std::string curve_client_public_key;
  std::string curve_client_secret_key;
  // A plain tcp:// engine on another host is refused unless this is set (transport_security.h).
  bool allow_insecure_tcp = false;
};

// Counters of one pipeline (the tests and the exit summary read them; the same counts are
// exported through the metrics registry, labelled with the source name).
struct PipelineCounters {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> nacked{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> engine_timeouts{0};
};

using EngineClientFactory =
    std::function<StatusOr<std::unique_ptr<EngineClient>>(const ClientOptions& options)>;

class Pipeline {
 public:
  // `source` must be started and outlive the pipeline; `client_factory` is EngineClient::Connect
  // in production and a fake in tests; `clock` drives timeouts, backoff and heartbeats.
  // `engine_available` (created when null) is kept true while every engine shard answers; pass
  // the one given to the source so it can show it on a health endpoint. Metrics go to `metrics`
  // (MetricsRegistry::Default() when null).
  Pipeline(Source& source, std::string source_name, PipelineOptions options,
           EngineClientFactory client_factory, const Clock& clock,
           std::shared_ptr<std::atomic<bool>> engine_available = nullptr,
           MetricsRegistry* metrics = nullptr);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Steps until `stop` becomes true, then drains (Drain()). Returns only fatal source errors.
  Status Run(const std::atomic<bool>& stop);
  // One turn: connects/pings engines when due, polls the source, sends, takes replies, acts on
  // them, expires timeouts and extends leases. Blocks at most idle_poll_wait.
  Status Step();
  // Graceful stop: the source takes no new messages; replies to requests in flight are awaited
  // up to drain_timeout and acted on; whatever is still undecided is nacked with no delay.
  void Drain();

  bool engine_available() const { return engine_available_->load(std::memory_order_relaxed); }
  const PipelineCounters& counters() const { return counters_; }
  int in_flight() const;

 private:
  struct InFlight {
    Message message;
    Nanos sent_at = 0;
    Nanos lease_extended_at = 0;
  };
  struct Waiting {
    Message message;
    Request request;
    Nanos received_at = 0;
    Nanos lease_extended_at = 0;
  };
  enum class Health : uint8_t {
    kDown,        // no client until reconnect_at; messages are nacked at once
    kConnecting,  // client created, engine not reachable yet; messages wait (connect_timeout)
    kProbing,     // reachable, a ping is out; messages wait for its pong (request_timeout)
    kUp,          // answering; messages are sent
  };
  struct Shard {
    std::string endpoint;
    std::unique_ptr<EngineClient> client;
    Health health = Health::kDown;
    std::map<uint64_t, InFlight> in_flight;  // by request id; ids grow, so begin() is oldest
    std::deque<Waiting> waiting;             // built, not yet sent (probing or window full)
    uint64_t ping_request_id = 0;            // 0 = no ping outstanding
    Nanos ping_sent_at = 0;
    Nanos last_reply_at = 0;
    Nanos reconnect_at = 0;
    Nanos connect_started_at = 0;
    std::chrono::milliseconds reconnect_delay{0};
  };

  Shard& ShardFor(const std::string& account);
  void Connect(Shard& shard, Nanos now);
  // Sends a ping; false when it could not go out (not connected, or the window is full).
  bool SendPing(Shard& shard, Nanos now);
  bool IsNotConnected(const Shard& shard, const Status& send_status) const;
  void MarkDown(Shard& shard, Nanos now, std::string_view why);
  void ServiceShard(Shard& shard, Nanos now);
  void Dispatch(Message message, Nanos now);
  void SendWaiting(Shard& shard, Nanos now);
  void TakeReplies(Shard& shard, std::chrono::milliseconds max_wait, Nanos now);
  void HandleReply(Shard& shard, const Reply& reply, Nanos now);
  void ExpireTimeouts(Shard& shard, Nanos now);
  void ExtendLeases(Nanos now);
  void UpdateEngineAvailable();

  void AckMessage(const Message& message, const Decision& decision);
  void NackMessage(const Message& message, std::chrono::milliseconds delay);
  void DeadLetterMessage(const Message& message, const DeadLetterInfo& info);
  std::chrono::milliseconds BackoffFor(const Message& message) const;
  int TotalPending() const;

  Source& source_;
  const std::string source_name_;
  const PipelineOptions options_;
  const EngineClientFactory client_factory_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Shard>> shards_;  // [0] is the default endpoint
  std::map<std::string, Shard*, std::less<>> shard_by_account_;
  std::shared_ptr<std::atomic<bool>> engine_available_;
  PipelineCounters counters_;
  // wojak_sidecar_* metrics of this source, resolved once.
  struct Metrics {
    Counter& received;
    Counter& acked;
    Counter& nacked;
    Counter& dead_lettered;
    Counter& engine_timeouts;
    Gauge& in_flight;
    Gauge& engine_up;
    Histogram& engine_latency_us;
  };
  static Metrics RegisterMetrics(MetricsRegistry& registry, const std::string& source_name);
  Metrics metrics_;
  Nanos next_lease_check_at_ = 0;
};

}  // namespace wojak::sidecar
