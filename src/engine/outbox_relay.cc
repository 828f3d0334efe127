// Outbox relay and webhook sink.
#include "engine/outbox_relay.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "wire/transport_security.h"

namespace wojak {
namespace {

// A webhook answer quoted in an error is cut here.
constexpr size_t kMaxQuotedBody = 200;

}  // namespace

OutboxOptions ReadOutboxOptions(ConfigSection outbox) {
  OutboxOptions o;
  o.enabled = outbox.Bool("enabled", o.enabled,
                          "Deliver outbox rows (escalations for the RMS, execution reports) to "
                          "the sink, at least once and in order.");
  o.sink = outbox.Enum("sink", o.sink, {"webhook", "sidecar"},
                       "Where rows go: webhook (signed POST to url) or sidecar (a sidecar at "
                       "sidecar_endpoint publishes them to its broker and answers once the broker "
                       "confirmed).");
  o.url = outbox.String("url", "", "Webhook the rows are POSTed to (http:// or https://).");
  std::optional<std::string> secret = outbox.Secret(
      "secret", "HMAC-SHA256 key signing each delivery (X-Wojak-Signature over timestamp.body).");
  o.timeout = outbox.Duration(
      "timeout", o.timeout,
      "Longest wait for the webhook's answer, or for the sidecar's receipt (keep it above the "
      "sidecar's sidecar.outbox_publish_timeout).");
  o.backoff_initial = outbox.Duration("backoff_initial", o.backoff_initial,
                                      "Wait after a failed delivery; doubles per failure.");
  o.backoff_max = outbox.Duration("backoff_max", o.backoff_max,
                                  "Longest wait between attempts at the same row.");
  o.poll_interval = outbox.Duration("poll_interval", o.poll_interval,
                                    "How often the relay looks for rows when not woken.");
  o.batch_size = static_cast<size_t>(outbox.Int("batch_size", static_cast<int64_t>(o.batch_size),
                                                "Rows read per query.", 1, 100000));
  o.ca_file = outbox.String("ca_file", "", "https: CA bundle (PEM); empty = the system's CAs.");
  o.sidecar_endpoint = outbox.String(
      "sidecar_endpoint", "",
      "sink sidecar: the sidecar's sidecar.outbox_endpoint (ipc://PATH, or tcp://HOST:PORT with "
      "CURVE when HOST is not loopback).");
  o.curve_server_public_key = outbox.String(
      "curve_server_public_key", "",
      "sink sidecar over tcp:// across hosts: the sidecar's outbox CURVE public key (Z85).");
  o.curve_client_public_key = outbox.String("curve_client_public_key", "",
                                            "sink sidecar: this engine's CURVE public key (Z85).");
  o.curve_client_secret_key =
      outbox
          .Secret("curve_client_secret_key", "sink sidecar: this engine's CURVE secret key (Z85).")
          .value_or("");
  if (secret) o.secret = *secret;
  if (o.backoff_max < o.backoff_initial) outbox.Error("backoff_max", "must be >= backoff_initial");
  if (o.enabled && o.sink == "sidecar") {
    if (o.sidecar_endpoint.empty()) {
      outbox.Error("sidecar_endpoint", "required when outbox.sink is sidecar");
    } else if (Status secure = CheckEndpointSecurity("outbox.sidecar_endpoint", o.sidecar_endpoint,
                                                     !o.curve_server_public_key.empty(), false);
               !secure.ok()) {
      outbox.Error("sidecar_endpoint", std::string(secure.message()));
    }
  } else if (o.enabled) {
    if (o.url.empty()) {
      outbox.Error("url", "required when the outbox is enabled");
    } else if (auto url = ParseHttpUrl(o.url); !url.ok()) {
      outbox.Error("url", std::string(url.status().message()));
    }
    if (o.secret.empty()) {
      outbox.Error("secret",
                   "required when the outbox is enabled (WOJAK_OUTBOX_SECRET or secret_file)");
    }
  }
  return o;
}

std::string WebhookBody(const OutboxRow& row) {
  // The payload is JSON the sequencer wrote; it is embedded as is rather than re-parsed.
  return "{\"outbox_seq\":" + std::to_string(row.outbox_seq) +
         ",\"entry_seq\":" + std::to_string(row.entry_seq) +
         ",\"topic\":" + nlohmann::json(row.topic).dump() + ",\"payload\":" + row.payload + "}";
}

std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[mac[i] >> 4];
    hex[2 * i + 1] = kHex[mac[i] & 0xf];
  }
  return hex;
}

WebhookSink::WebhookSink(HttpUrl url, std::string secret, HttpPostOptions post_options,
                         const Clock& clock)
    : secret_(std::move(secret)), clock_(clock), poster_(std::move(url), std::move(post_options)) {}

Status WebhookSink::Deliver(const OutboxRow& row) {
  const std::string body = WebhookBody(row);
  const std::string timestamp = std::to_string(clock_.Now() / kNanosPerMilli);
  const HttpHeaderList headers = {{"X-Wojak-Timestamp", timestamp},
                                  {"X-Wojak-Signature", WebhookSignature(secret_, timestamp, body)},
                                  {"X-Wojak-Topic", row.topic},
                                  {"Idempotency-Key", std::to_string(row.outbox_seq)}};
  StatusOr<HttpResponse> response = poster_.Post(body, headers);
  if (!response.ok()) return response.status();
  if (response->status < 200 || response->status > 299) {
    return Unavailable("webhook answered HTTP " + std::to_string(response->status) + ": " +
                       response->body.substr(0, kMaxQuotedBody));
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<OutboxSink>> MakeWebhookSink(const OutboxOptions& options) {
  WOJAK_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(options.url));
  HttpPostOptions post_options;
  post_options.timeout = options.timeout;
  post_options.ca_file = options.ca_file;
  return std::unique_ptr<OutboxSink>(
      new WebhookSink(std::move(url), options.secret, std::move(post_options)));
}

OutboxRelay::OutboxRelay(SqliteJournal& journal, std::unique_ptr<OutboxSink> sink,
                         OutboxOptions options)
    : journal_(journal), sink_(std::move(sink)), options_(std::move(options)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::RegisterMetrics(MetricsRegistry& registry) {
  std::shared_ptr<Progress> progress = progress_;
  registry.AddCallbackGauge("wojak_outbox_backlog",
                            "Outbox rows committed but not yet accepted by the sink.", {},
                            [progress] { return static_cast<double>(progress->backlog()); });
  registry.AddCallbackGauge("wojak_outbox_delivered_seq",
                            "outbox_seq of the newest row the sink accepted.", {},
                            [progress] { return static_cast<double>(progress->delivered.load()); });
  registry.AddCallbackGauge(
      "wojak_outbox_failed_attempts", "Deliveries the sink refused or that failed, since start.",
      {}, [progress] { return static_cast<double>(progress->failed_attempts.load()); });
}

Status OutboxRelay::Start(Seq head) {
  Seq cursor = 0;
  StatusOr<std::string> stored = journal_.GetMeta(kCursorKey);
  if (stored.ok()) {
    auto [end, error] = std::from_chars(stored->data(), stored->data() + stored->size(), cursor);
    if (error != std::errc() || end != stored->data() + stored->size()) {
      return DataLoss("meta " + std::string(kCursorKey) + " is not a number: '" + *stored + "'");
    }
  } else if (stored.status().code() != StatusCode::kNotFound) {
    return stored.status().WithContext("reading the outbox cursor");
  }
  persisted_ = cursor;
  progress_->delivered = cursor;
  progress_->head = std::max(head, cursor);
  LogInfo("outbox_relay_started",
          {{"sink", sink_->name()}, {"cursor", cursor}, {"backlog", progress_->backlog()}});
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

void OutboxRelay::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Notify(Seq head) {
  Seq seen = progress_->head.load(std::memory_order_relaxed);
  while (head > seen && !progress_->head.compare_exchange_weak(seen, head)) {
  }
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_one();
}

bool OutboxRelay::Wait(std::chrono::milliseconds delay, bool wake_on_notify) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stopping_ || (wake_on_notify && notified_); });
  if (wake_on_notify) notified_ = false;
  return !stopping_;
}

void OutboxRelay::Run() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      notified_ = false;  // whatever was announced so far, the read below will see
    }
    StatusOr<std::vector<OutboxRow>> rows = journal_.ReadOutbox(delivered(), options_.batch_size);
    if (!rows.ok()) {
      LogError("outbox_read_failed", {{"error", rows.status().ToString()}});
      if (!Wait(options_.backoff_max, false)) break;
      continue;
    }
    bool stopped = false;
    for (const OutboxRow& row : *rows) {
      if (!DeliverWithRetry(row)) {
        stopped = true;
        break;
      }
    }
    PersistCursor();
    if (stopped) break;
    if (rows->size() < options_.batch_size && !Wait(options_.poll_interval, true)) break;
  }
  PersistCursor();
}

bool OutboxRelay::DeliverWithRetry(const OutboxRow& row) {
  std::chrono::milliseconds backoff = options_.backoff_initial;
  while (true) {
    Status delivered = sink_->Deliver(row);
    if (delivered.ok()) {
      progress_->delivered.store(row.outbox_seq, std::memory_order_relaxed);
      return true;
    }
    progress_->failed_attempts.fetch_add(1, std::memory_order_relaxed);
    LogWarn("outbox_delivery_failed", {{"outbox_seq", row.outbox_seq},
                                       {"topic", row.topic},
                                       {"sink", sink_->name()},
                                       {"error", delivered.ToString()},
                                       {"retry_in_ms", static_cast<int64_t>(backoff.count())}});
    // What was delivered so far stays delivered even if the engine stops during the wait.
    PersistCursor();
    if (!Wait(backoff, false)) return false;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

void OutboxRelay::PersistCursor() {
  const Seq delivered = this->delivered();
  if (delivered == persisted_) return;
  Status status = journal_.SetMeta(kCursorKey, std::to_string(delivered));
  if (!status.ok()) {
    // Delivery is at least once: an unsaved cursor only means rows are offered again after a
    // restart (the receiver drops them by Idempotency-Key).
    LogError("outbox_cursor_not_saved", {{"cursor", delivered}, {"error", status.ToString()}});
    return;
  }
  persisted_ = delivered;
}

}  // namespace wojak
