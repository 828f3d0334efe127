// Pipeline: one thread drives the source and the engine clients; every polled message ends in
// exactly one of Ack, Nack or DeadLetter, and only a decision from the engine leads to Ack.
#include "sidecar/pipeline.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "common/log.h"
#include "sidecar/request_builder.h"

namespace wojak::sidecar {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kEngineWaitQuantum{1};
// Reconnect attempts back off to at most this, so a restarted engine is found again quickly.
constexpr milliseconds kMaxReconnectDelay{2000};

Nanos ToNanos(milliseconds duration) { return duration.count() * kNanosPerMilli; }

milliseconds CeilMillis(Nanos nanos) {
  return milliseconds(nanos <= 0 ? 0 : (nanos + kNanosPerMilli - 1) / kNanosPerMilli);
}

// The engine answers a malformed request with REJECTED whose reasons are all INVALID_ORDER.
bool IsInvalidOrder(const Decision& decision) {
  if (decision.kind != DecisionKind::kRejected || decision.reasons.empty()) return false;
  return std::all_of(decision.reasons.begin(), decision.reasons.end(),
                     [](const Reason& r) { return r.code == ReasonCode::k_INVALID_ORDER; });
}

std::string_view DeadLetterKindName(DeadLetterKind kind) {
  switch (kind) {
    case DeadLetterKind::kMalformed:
      return "malformed";
    case DeadLetterKind::kForbidden:
      return "forbidden";
    case DeadLetterKind::kTooManyAttempts:
      return "too_many_attempts";
  }
  return "unknown";
}

}  // namespace

Pipeline::Pipeline(Source& source, std::string source_name, PipelineOptions options,
                   EngineClientFactory client_factory, const Clock& clock,
                   std::shared_ptr<std::atomic<bool>> engine_available, MetricsRegistry* metrics)
    : source_(source),
      source_name_(std::move(source_name)),
      options_(std::move(options)),
      client_factory_(std::move(client_factory)),
      clock_(clock),
      engine_available_(engine_available != nullptr ? std::move(engine_available)
                                                    : std::make_shared<std::atomic<bool>>(false)),
      metrics_(RegisterMetrics(metrics != nullptr ? *metrics : MetricsRegistry::Default(),
                               source_name_)) {
  engine_available_->store(false, std::memory_order_relaxed);
  auto add_shard = [this](const std::string& endpoint) -> Shard* {
    for (auto& shard : shards_) {
      if (shard->endpoint == endpoint) return shard.get();
    }
    auto shard = std::make_unique<Shard>();
    shard->endpoint = endpoint;
    shards_.push_back(std::move(shard));
    return shards_.back().get();
  };
  add_shard(options_.default_endpoint);
  for (const auto& [account, endpoint] : options_.shard_map) {
    shard_by_account_[account] = add_shard(endpoint);
  }
}

Pipeline::~Pipeline() = default;

Pipeline::Metrics Pipeline::RegisterMetrics(MetricsRegistry& registry,
                                            const std::string& source_name) {
  CounterFamily messages = registry.AddCounterFamily(
      "wojak_sidecar_messages_total",
      "messages taken from the source, and what became of them (acked, nacked, dead_lettered)",
      {"source", "outcome"});
  return Metrics{
      messages.WithLabels({source_name, "received"}),
      messages.WithLabels({source_name, "acked"}),
      messages.WithLabels({source_name, "nacked"}),
      messages.WithLabels({source_name, "dead_lettered"}),
      registry
          .AddCounterFamily("wojak_sidecar_engine_timeouts_total",
                            "times the engine did not answer within request_timeout", {"source"})
          .WithLabels({source_name}),
      registry
          .AddGaugeFamily("wojak_sidecar_in_flight",
                          "messages taken from the source and not yet settled", {"source"})
          .WithLabels({source_name}),
      registry
          .AddGaugeFamily("wojak_sidecar_engine_up", "1 while every engine shard answers",
                          {"source"})
          .WithLabels({source_name}),
      registry
          .AddHistogramFamily("wojak_sidecar_engine_latency_us",
                              "request sent to the engine until its reply, microseconds",
                              {"source"}, LatencyMicrosBuckets())
          .WithLabels({source_name}),
  };
}

int Pipeline::in_flight() const {
  int count = 0;
  for (const auto& shard : shards_) count += static_cast<int>(shard->in_flight.size());
  return count;
}

int Pipeline::TotalPending() const {
  int count = 0;
  for (const auto& shard : shards_) {
    count += static_cast<int>(shard->in_flight.size() + shard->waiting.size());
  }
  return count;
}

Pipeline::Shard& Pipeline::ShardFor(const std::string& account) {
  auto it = shard_by_account_.find(account);
  return it == shard_by_account_.end() ? *shards_.front() : *it->second;
}

Status Pipeline::Run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_acquire)) {
    Status status = Step();
    if (!status.ok()) {
      // A broker hiccup is not a reason to exit: the messages stay with the broker.
      LogWarn("sidecar_source_poll_failed",
              {{"source", source_name_}, {"error", status.ToString()}});
      std::this_thread::sleep_for(options_.idle_poll_wait);
    }
  }
  Drain();
  return OkStatus();
}

Status Pipeline::Step() {
  Nanos now = clock_.Monotonic();
  bool awaiting_replies = false;
  bool connecting = false;
  for (auto& shard : shards_) {
    ServiceShard(*shard, now);
    awaiting_replies = awaiting_replies || !shard->in_flight.empty() || shard->ping_request_id != 0;
    connecting = connecting || shard->health == Health::kConnecting;
  }

  const int room = options_.window - TotalPending();
  Status poll_status;
  size_t polled = 0;
  if (room > 0) {
    // Replies to wait for: the engine poll below blocks instead. Connecting: come back soon to
    // retry the ping.
    milliseconds wait = awaiting_replies ? milliseconds(0)
                        : connecting     ? kEngineWaitQuantum
                                         : options_.idle_poll_wait;
    StatusOr<std::vector<Message>> messages = source_.Poll(static_cast<size_t>(room), wait);
    if (messages.ok()) {
      polled = messages->size();
      now = clock_.Monotonic();
      for (Message& message : *messages) Dispatch(std::move(message), now);
    } else {
      poll_status = messages.status();
    }
  }

  bool waited = polled > 0;
  for (auto& shard : shards_) {
    SendWaiting(*shard, now);
    if (shard->client == nullptr) continue;
    if (shard->in_flight.empty() && shard->ping_request_id == 0) continue;
    // Block (briefly) on one engine only, and only when the source had nothing for us: a new
    // message then waits at most one quantum behind an engine that is slow to answer.
    TakeReplies(*shard, waited ? milliseconds(0) : kEngineWaitQuantum, now);
    waited = true;
    now = clock_.Monotonic();
  }
  for (auto& shard : shards_) ExpireTimeouts(*shard, now);
  ExtendLeases(now);
  UpdateEngineAvailable();
  const int pending = TotalPending();
  counters_.in_flight.store(pending, std::memory_order_relaxed);
  metrics_.in_flight.Set(pending);
  return poll_status;
}

void Pipeline::Drain() {
  source_.StopIntake();
  const Nanos deadline = clock_.Monotonic() + ToNanos(options_.drain_timeout);
  for (Nanos now = clock_.Monotonic(); now < deadline; now = clock_.Monotonic()) {
    bool pending = false;
    for (auto& shard : shards_) {
      // Only an engine that answers can still decide something; the rest is nacked below.
      if (shard->health != Health::kUp && shard->health != Health::kProbing) continue;
      ServiceShard(*shard, now);
      SendWaiting(*shard, now);
      if (shard->client != nullptr && (!shard->in_flight.empty() || shard->ping_request_id != 0)) {
        TakeReplies(*shard, kEngineWaitQuantum, now);
      }
      ExpireTimeouts(*shard, clock_.Monotonic());
      pending = pending || !shard->in_flight.empty() || !shard->waiting.empty();
    }
    if (!pending) break;
  }
  for (auto& shard : shards_) {
    for (auto& [request_id, entry] : shard->in_flight) {
      if (shard->client != nullptr) shard->client->Abandon(request_id);
      NackMessage(entry.message, milliseconds(0));
    }
    shard->in_flight.clear();
    for (Waiting& waiting : shard->waiting) NackMessage(waiting.message, milliseconds(0));
    shard->waiting.clear();
  }
  counters_.in_flight.store(0, std::memory_order_relaxed);
  metrics_.in_flight.Set(0);
}

void Pipeline::ServiceShard(Shard& shard, Nanos now) {
  const Nanos timeout = ToNanos(options_.request_timeout);
  switch (shard.health) {
    case Health::kDown:
      if (now < shard.reconnect_at) return;
      Connect(shard, now);
      if (shard.health != Health::kConnecting) return;
      [[fallthrough]];
    case Health::kConnecting:
      // The client connects in the background; the ping goes out once the engine is reachable.
      if (SendPing(shard, now)) {
        shard.health = Health::kProbing;
      } else if (now - shard.connect_started_at >= ToNanos(options_.connect_timeout)) {
        MarkDown(shard, now, "engine not reachable");
      }
      return;
    case Health::kProbing:
      if (now - shard.ping_sent_at >= timeout) MarkDown(shard, now, "no answer to ping");
      return;
    case Health::kUp:
      if (shard.ping_request_id != 0) {
        if (now - shard.ping_sent_at >= timeout) MarkDown(shard, now, "no answer to heartbeat");
      } else if (now - shard.last_reply_at >= ToNanos(options_.heartbeat_interval)) {
        SendPing(shard, now);
      }
      return;
  }
}

bool Pipeline::SendPing(Shard& shard, Nanos now) {
  StatusOr<uint64_t> id = shard.client->Send(PingRequest{});
  if (!id.ok()) {
    if (!IsNotConnected(shard, id.status())) return false;  // window full: replies are coming
    if (shard.health == Health::kUp) MarkDown(shard, now, id.status().message());
    return false;
  }
  shard.ping_request_id = *id;
  shard.ping_sent_at = now;
  return true;
}

bool Pipeline::IsNotConnected(const Shard& shard, const Status& send_status) const {
  if (send_status.code() != StatusCode::kResourceExhausted) return true;
  // The client refuses with RESOURCE_EXHAUSTED both when its window is full and when the engine
  // is not connected; the window is ours, so below it the engine is gone.
  return shard.client->in_flight() < options_.window + 1;
}

void Pipeline::Connect(Shard& shard, Nanos now) {
  ClientOptions client_options;
  client_options.endpoint = shard.endpoint;
  client_options.max_in_flight = options_.window + 1;  // + the heartbeat
  client_options.heartbeat_interval = options_.heartbeat_interval;
  client_options.curve_server_public_key = options_.curve_server_public_key;
  client_options.curve_client_public_key = options_.curve_client_public_key;
  client_options.curve_client_secret_key = options_.curve_client_secret_key;
  StatusOr<std::unique_ptr<EngineClient>> client = client_factory_(client_options);
  if (!client.ok()) {
    LogWarn("sidecar_engine_connect_failed", {{"source", source_name_},
                                              {"endpoint", shard.endpoint},
                                              {"error", client.status().ToString()}});
    MarkDown(shard, now, client.status().ToString());
    return;
  }
  shard.client = std::move(client).value();
  shard.health = Health::kConnecting;
  shard.connect_started_at = now;
}

void Pipeline::MarkDown(Shard& shard, Nanos now, std::string_view why) {
  if (shard.health != Health::kDown) {
    LogWarn("sidecar_engine_down", {{"source", source_name_},
                                    {"endpoint", shard.endpoint},
                                    {"reason", why},
                                    {"in_flight", shard.in_flight.size()}});
  }
  // A new connection drops whatever the old one still queued, so stale requests are not
  // delivered to a restarted engine long after their senders were told to retry.
  shard.client.reset();
  for (auto& [request_id, entry] : shard.in_flight) {
    NackMessage(entry.message, BackoffFor(entry.message));
  }
  shard.in_flight.clear();
  for (Waiting& waiting : shard.waiting) {
    NackMessage(waiting.message, BackoffFor(waiting.message));
  }
  shard.waiting.clear();
  shard.health = Health::kDown;
  shard.ping_request_id = 0;
  shard.reconnect_delay = shard.reconnect_delay.count() == 0
                              ? options_.reconnect_interval
                              : std::min(shard.reconnect_delay * 2,
                                         std::max(options_.reconnect_interval, kMaxReconnectDelay));
  shard.reconnect_at = now + ToNanos(shard.reconnect_delay);
}

void Pipeline::Dispatch(Message message, Nanos now) {
  counters_.received.fetch_add(1, std::memory_order_relaxed);
  metrics_.received.Increment();
  BuildResult built = BuildRequest(source_name_, message);
  if (auto* info = std::get_if<DeadLetterInfo>(&built)) {
    DeadLetterMessage(message, *info);
    return;
  }
  BuiltRequest& request = std::get<BuiltRequest>(built);
  Shard& shard = ShardFor(request.account);
  if (shard.health == Health::kDown) {
    // Known down: answer now instead of letting the message sit out a timeout.
    milliseconds delay = std::max(BackoffFor(message), CeilMillis(shard.reconnect_at - now));
    NackMessage(message, delay);
    return;
  }
  // Connecting or probing: the message waits (bounded by the timeouts) for the engine.
  shard.waiting.push_back({std::move(message), std::move(request.request), now, now});
}

void Pipeline::SendWaiting(Shard& shard, Nanos now) {
  if (shard.health != Health::kUp) return;
  while (!shard.waiting.empty() && static_cast<int>(shard.in_flight.size()) < options_.window) {
    Waiting& next = shard.waiting.front();
    StatusOr<uint64_t> id = shard.client->Send(next.request);
    if (!id.ok()) {
      if (IsNotConnected(shard, id.status())) MarkDown(shard, now, id.status().message());
      return;
    }
    shard.in_flight.emplace(*id, InFlight{std::move(next.message), now, next.lease_extended_at});
    shard.waiting.pop_front();
  }
}

void Pipeline::TakeReplies(Shard& shard, milliseconds max_wait, Nanos now) {
  StatusOr<std::vector<Reply>> replies = shard.client->Poll(max_wait);
  if (!replies.ok()) {
    MarkDown(shard, now, replies.status().ToString());
    return;
  }
  if (replies->empty()) return;
  now = clock_.Monotonic();
  for (const Reply& reply : *replies) HandleReply(shard, reply, now);
  SendWaiting(shard, now);
}

void Pipeline::HandleReply(Shard& shard, const Reply& reply, Nanos now) {
  shard.last_reply_at = now;
  if (reply.request_id == shard.ping_request_id) {
    shard.ping_request_id = 0;
    if (shard.health == Health::kProbing) {
      shard.health = Health::kUp;
      shard.reconnect_delay = milliseconds(0);
      LogInfo("sidecar_engine_up", {{"source", source_name_}, {"endpoint", shard.endpoint}});
    }
    return;
  }
  auto it = shard.in_flight.find(reply.request_id);
  if (it == shard.in_flight.end()) return;  // abandoned after a timeout; the broker redelivers
  Message message = std::move(it->second.message);
  metrics_.engine_latency_us.Observe(static_cast<double>(now - it->second.sent_at) /
                                     kNanosPerMicro);
  shard.in_flight.erase(it);

  if (!reply.error.empty()) {
    DeadLetterInfo info;
    info.kind = DeadLetterKind::kMalformed;
    info.reason = "engine refused the request: " + reply.error;
    info.decision.kind = DecisionKind::kRejected;
    info.decision.reasons.push_back({ReasonCode::k_INVALID_ORDER, info.reason, ""});
    DeadLetterMessage(message, info);
    return;
  }
  const Decision& decision = reply.decision;
  if (decision.kind == DecisionKind::kRetry) {
    milliseconds delay = std::max(BackoffFor(message), milliseconds(decision.retry_after_ms));
    NackMessage(message, delay);
    return;
  }
  if (IsInvalidOrder(decision)) {
    DeadLetterInfo info;
    info.kind = DeadLetterKind::kMalformed;
    for (const Reason& reason : decision.reasons) {
      if (!info.reason.empty()) info.reason += "; ";
      info.reason += reason.message;
    }
    info.decision = decision;
    DeadLetterMessage(message, info);
    return;
  }
  AckMessage(message, decision);
}

void Pipeline::ExpireTimeouts(Shard& shard, Nanos now) {
  if (shard.in_flight.empty()) return;
  const Nanos timeout = ToNanos(options_.request_timeout);
  if (now - shard.in_flight.begin()->second.sent_at < timeout) return;
  counters_.engine_timeouts.fetch_add(1, std::memory_order_relaxed);
  metrics_.engine_timeouts.Increment();
  // The oldest requests timed out: those are the suspects (a poison message stalls or kills the
  // engine), and only they count towards max_attempts. The rest are nacked by MarkDown.
  while (!shard.in_flight.empty() && now - shard.in_flight.begin()->second.sent_at >= timeout) {
    Message message = std::move(shard.in_flight.begin()->second.message);
    shard.in_flight.erase(shard.in_flight.begin());
    if (message.delivery_attempt > 0 &&
        static_cast<int>(message.delivery_attempt) >= options_.max_attempts) {
      DeadLetterInfo info;
      info.kind = DeadLetterKind::kTooManyAttempts;
      info.reason = "no decision after " + std::to_string(message.delivery_attempt) +
                    " deliveries (the engine timed out on each)";
      info.decision.kind = DecisionKind::kRejected;
      DeadLetterMessage(message, info);
    } else {
      NackMessage(message, BackoffFor(message));
    }
  }
  MarkDown(shard, now, "request timed out");
}

void Pipeline::ExtendLeases(Nanos now) {
  const std::chrono::seconds lease = source_.lease();
  if (lease.count() <= 0 || now < next_lease_check_at_) return;
  const Nanos half_life = lease.count() * kNanosPerSecond / 2;
  // Scanning every message each step would cost more than the leases are worth.
  next_lease_check_at_ = now + half_life / 4;
  auto extend = [&](const Message& message, Nanos& extended_at) {
    if (now - extended_at < half_life) return;
    Status status = source_.ExtendLease(message, lease);
    if (!status.ok()) {
      LogWarn("sidecar_extend_lease_failed",
              {{"source", source_name_}, {"error", status.ToString()}});
    }
    extended_at = now;
  };
  for (auto& shard : shards_) {
    for (auto& [request_id, entry] : shard->in_flight)
      extend(entry.message, entry.lease_extended_at);
    for (Waiting& waiting : shard->waiting) extend(waiting.message, waiting.lease_extended_at);
  }
}

void Pipeline::UpdateEngineAvailable() {
  bool all_up = std::all_of(shards_.begin(), shards_.end(),
                            [](const auto& shard) { return shard->health == Health::kUp; });
  engine_available_->store(all_up, std::memory_order_relaxed);
  metrics_.engine_up.Set(all_up ? 1 : 0);
}

void Pipeline::AckMessage(const Message& message, const Decision& decision) {
  counters_.acked.fetch_add(1, std::memory_order_relaxed);
  metrics_.acked.Increment();
  Status status = source_.Ack(message, decision);
  if (!status.ok()) {
    // The broker redelivers it and the engine answers DUPLICATE with this same decision.
    LogWarn("sidecar_ack_failed", {{"source", source_name_},
                                   {"client_order_id", decision.client_order_id},
                                   {"error", status.ToString()}});
  }
}

void Pipeline::NackMessage(const Message& message, milliseconds delay) {
  counters_.nacked.fetch_add(1, std::memory_order_relaxed);
  metrics_.nacked.Increment();
  Status status = source_.Nack(message, delay);
  if (!status.ok()) {
    LogWarn("sidecar_nack_failed", {{"source", source_name_}, {"error", status.ToString()}});
  }
}

void Pipeline::DeadLetterMessage(const Message& message, const DeadLetterInfo& info) {
  counters_.dead_lettered.fetch_add(1, std::memory_order_relaxed);
  metrics_.dead_lettered.Increment();
  LogInfo("sidecar_dead_letter", {{"source", source_name_},
                                  {"kind", DeadLetterKindName(info.kind)},
                                  {"identity", message.identity},
                                  {"reason", info.reason}});
  Status status = source_.DeadLetter(message, info);
  if (!status.ok()) {
    LogWarn("sidecar_dead_letter_failed", {{"source", source_name_}, {"error", status.ToString()}});
  }
}

milliseconds Pipeline::BackoffFor(const Message& message) const {
  const uint32_t attempt = std::max<uint32_t>(message.delivery_attempt, 1);
  milliseconds delay = options_.backoff_initial;
  for (uint32_t i = 1; i < attempt && delay < options_.backoff_max; ++i) delay *= 2;
  return std::min(delay, options_.backoff_max);
}

}  // namespace wojak::sidecar
