// The outbox relay: its own thread delivers the journal's outbox rows (escalations for the heavy
// RMS, execution reports for systems following fills) to a sink at least once and in order. The
// cursor (meta "outbox_cursor") moves, durably, only past rows the sink accepted; a failing sink
// is retried with capped exponential backoff and no row is ever skipped.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics.h"
#include "executors/http/http_post.h"
#include "journal/sqlite_journal.h"

namespace wojak {

struct OutboxOptions {
  bool enabled = false;
  // "webhook" (POST to url) or "sidecar" (a sidecar publishes to its broker; see
  // outbox_sidecar_sink.h).
  std::string sink = "webhook";
  std::string url;     // the webhook
  std::string secret;  // HMAC key for X-Wojak-Signature (from outbox.secret)
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds poll_interval{500};  // looks for rows even when nobody says so
  size_t batch_size = 256;                       // rows read per query
  std::string ca_file;                           // https: CA bundle; empty = system CAs
  // sink "sidecar": the sidecar's sidecar.outbox_endpoint (ipc:// or tcp://), and CURVE keys
  // (Z85) for tcp:// across hosts, as for the sidecars' engine connection.
  std::string sidecar_endpoint;
  std::string curve_server_public_key;
  std::string curve_client_public_key;
  std::string curve_client_secret_key;
};

inline constexpr char kOutboxSectionDoc[] =
    "Delivery of escalations (for the heavy RMS) and execution reports to a signed webhook, or "
    "through a sidecar to a broker topic/queue/subject.";

// Reads the `outbox:` section (enabled, sink, url, secret / secret_file / WOJAK_OUTBOX_SECRET,
// timeout, backoff_initial, backoff_max, poll_interval, batch_size, ca_file, sidecar_endpoint,
// curve_*). Enabled with sink webhook but without a url or a secret, or with sink sidecar but
// without a sidecar_endpoint (or a plain tcp:// one reachable from other hosts), is a violation.
OutboxOptions ReadOutboxOptions(ConfigSection outbox);

// Where outbox rows go. Deliver returns OK only when the destination has the row (a webhook's
// 2xx); any error means "offer the same row again later". Broker sinks (a topic or queue through
// a sidecar) implement the same interface.
class OutboxSink {
 public:
  virtual ~OutboxSink() = default;
  virtual std::string_view name() const = 0;
  virtual Status Deliver(const OutboxRow& row) = 0;
};

// The webhook body: {"outbox_seq":N,"entry_seq":M,"topic":"escalation","payload":{…}}.
std::string WebhookBody(const OutboxRow& row);
// Lowercase hex of HMAC-SHA256(secret, timestamp + "." + body): what X-Wojak-Signature carries,
// so a receiver recomputes it from the X-Wojak-Timestamp header and the raw body.
std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body);

// POSTs each row as WebhookBody with headers X-Wojak-Timestamp (Unix milliseconds),
// X-Wojak-Signature, X-Wojak-Topic and Idempotency-Key (the outbox_seq: a receiver drops a
// redelivered row by it).
class WebhookSink final : public OutboxSink {
 public:
  WebhookSink(HttpUrl url, std::string secret, HttpPostOptions post_options,
              const Clock& clock = RealClock::Instance());
  std::string_view name() const override { return "webhook"; }
  Status Deliver(const OutboxRow& row) override;

 private:
  std::string secret_;
  const Clock& clock_;
  HttpPoster poster_;
};

// A webhook sink from the options (the url must parse).
StatusOr<std::unique_ptr<OutboxSink>> MakeWebhookSink(const OutboxOptions& options);

class OutboxRelay {
 public:
  static constexpr std::string_view kCursorKey = "outbox_cursor";

  OutboxRelay(SqliteJournal& journal, std::unique_ptr<OutboxSink> sink, OutboxOptions options);
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // Reads the persisted cursor and starts the relay thread. `head` is the newest outbox_seq
  // already in the journal (for the backlog until the first Notify).
  Status Start(Seq head);
  // Stops after the delivery in progress (persisting the cursor first). Idempotent.
  void Stop();
  // Engine thread, after a commit that added outbox rows up to `head`: wakes the relay. Cheap.
  void Notify(Seq head);

  // Adds wojak_outbox_backlog, wojak_outbox_delivered_seq and
  // wojak_outbox_failed_attempts (callback gauges; they stay readable after the relay is gone).
  void RegisterMetrics(MetricsRegistry& registry);

  Seq delivered() const { return progress_->delivered.load(std::memory_order_relaxed); }
  // Rows committed but not yet accepted by the sink (the outbox backlog gauge).
  uint64_t backlog() const { return progress_->backlog(); }
  uint64_t failed_attempts() const {
    return progress_->failed_attempts.load(std::memory_order_relaxed);
  }

 private:
  void Run();
  // Delivers one row, retrying until the sink takes it; false when stopping first.
  bool DeliverWithRetry(const OutboxRow& row);
  void PersistCursor();
  // Waits up to `delay` for Stop (or, with wake_on_notify, Notify); false when stopping.
  bool Wait(std::chrono::milliseconds delay, bool wake_on_notify);

  // Shared with the metrics callbacks, which may outlive the relay.
  struct Progress {
    std::atomic<Seq> head{0};
    std::atomic<Seq> delivered{0};
    std::atomic<uint64_t> failed_attempts{0};
    uint64_t backlog() const {
      Seq h = head.load(std::memory_order_relaxed);
      Seq d = delivered.load(std::memory_order_relaxed);
      return h > d ? h - d : 0;
    }
  };

  SqliteJournal& journal_;
  std::unique_ptr<OutboxSink> sink_;
  OutboxOptions options_;
  std::shared_ptr<Progress> progress_ = std::make_shared<Progress>();
  Seq persisted_ = 0;  // relay thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  bool notified_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wojak
