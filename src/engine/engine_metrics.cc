// Engine metrics: names, help texts and buckets in one place.
#include "engine/engine_metrics.h"

#include <string>

namespace wojak {
namespace {

// Request kinds the sequencer decides (every kind before kPing), as label values.
constexpr size_t kDecidedRequestKinds = static_cast<size_t>(RequestKind::kPing);
constexpr std::array<const char*, kDecidedRequestKinds> kRequestKindNames = {
    "order", "cancel", "modify", "verdict", "admin"};

}  // namespace

EngineMetrics& EngineMetrics::Get() {
  static EngineMetrics* metrics = new EngineMetrics();  // never destroyed: shared with the registry
  return *metrics;
}

EngineMetrics::EngineMetrics()
    : commit_latency_us_(MetricsRegistry::Default().AddHistogram(
          "wojak_journal_commit_latency_us",
          "Time of one group commit (SQLite transaction with fsync), in microseconds.",
          LatencyMicrosBuckets())),
      commit_entries_(MetricsRegistry::Default().AddHistogram(
          "wojak_journal_commit_entries", "Journal entries made durable by one group commit.",
          ExponentialBuckets(1, 2, 15))),
      batch_requests_(MetricsRegistry::Default().AddHistogram(
          "wojak_engine_batch_requests",
          "Client requests the sequencer took from its inbound queue in one batch.",
          ExponentialBuckets(1, 2, 15))),
      inbound_queue_depth_(MetricsRegistry::Default().AddGauge(
          "wojak_engine_inbound_queue_depth",
          "Requests waiting in the inbound queue when the sequencer last took it.")),
      commit_failures_(MetricsRegistry::Default().AddCounter(
          "wojak_journal_commit_failures_total",
          "Group commits that failed (the engine then answers RETRY until restarted).")),
      last_seq_(MetricsRegistry::Default().AddGauge("wojak_journal_last_seq",
                                                    "Sequence number of the last durable entry.")),
      ready_(MetricsRegistry::Default().AddGauge(
          "wojak_engine_ready", "1 when recovery is done and the journal accepts commits.")),
      storage_failed_(MetricsRegistry::Default().AddGauge(
          "wojak_engine_storage_failed", "1 after a failed commit: restart to recover.")),
      reloads_ok_(MetricsRegistry::Default()
                      .AddCounterFamily("wojak_engine_reloads_total",
                                        "Admin reloads of instruments and limits.", {"result"})
                      .WithLabels({"ok"})),
      reloads_failed_(MetricsRegistry::Default()
                          .AddCounterFamily("wojak_engine_reloads_total",
                                            "Admin reloads of instruments and limits.", {"result"})
                          .WithLabels({"rejected"})),
      zmq_requests_received_(MetricsRegistry::Default().AddCounter(
          "wojak_zmq_requests_received_total", "Requests decoded by the ZeroMQ server.")),
      zmq_malformed_frames_(MetricsRegistry::Default().AddCounter(
          "wojak_zmq_malformed_frames_total", "Frames that could not be decoded.")),
      zmq_busy_replies_(MetricsRegistry::Default().AddCounter(
          "wojak_zmq_busy_replies_total",
          "Requests answered RETRY (ENGINE_BUSY) because the inbound queue was full.")),
      zmq_replies_sent_(MetricsRegistry::Default().AddCounter("wojak_zmq_replies_sent_total",
                                                              "Replies sent to clients.")),
      zmq_unroutable_replies_(MetricsRegistry::Default().AddCounter(
          "wojak_zmq_unroutable_replies_total", "Replies dropped because the client was gone.")),
      zmq_dropped_replies_(MetricsRegistry::Default().AddCounter(
          "wojak_zmq_dropped_replies_total",
          "Replies dropped because the client's queue was full or the socket was closing.")) {
  MetricsRegistry& registry = MetricsRegistry::Default();
  CounterFamily decisions = registry.AddCounterFamily(
      "wojak_decisions_total", "Replies to client requests by request kind and decision.",
      {"request", "decision"});
  // Pings are answered by the transport and never decided, so they get no series.
  for (size_t request = 0; request < kDecidedRequestKinds; ++request) {
    for (size_t kind = 0; kind < kDecisionKindCount; ++kind) {
      decisions_[request][kind] =
          &decisions.WithLabels({kRequestKindNames[request],
                                 std::string(DecisionKindName(static_cast<DecisionKind>(kind)))});
    }
  }
  CounterFamily reasons = registry.AddCounterFamily(
      "wojak_order_reasons_total", "Reason codes in the decisions on new orders.", {"code"});
  for (size_t code = 0; code < kReasonCodeCount; ++code) {
    order_reasons_[code] =
        &reasons.WithLabels({std::string(ReasonCodeName(static_cast<ReasonCode>(code)))});
  }
  AddProcessMetrics(registry);
}

void EngineMetrics::CountDecision(RequestKind request, const Decision& decision) {
  const auto kind = static_cast<size_t>(decision.kind);
  Counter* counter =
      kind < kDecisionKindCount ? decisions_[static_cast<size_t>(request)][kind] : nullptr;
  if (counter != nullptr) counter->Increment();
  if (request != RequestKind::kOrder) return;
  for (const Reason& reason : decision.reasons) {
    const auto code = static_cast<size_t>(reason.code);
    if (code < kReasonCodeCount) order_reasons_[code]->Increment();
  }
}

void EngineMetrics::ObserveCommit(int64_t latency_ns, size_t entries) {
  commit_latency_us_.Observe(static_cast<double>(latency_ns) / 1000.0);
  commit_entries_.Observe(static_cast<double>(entries));
}

void EngineMetrics::SyncTransport(const TransportTotals& now, TransportTotals& last_seen) {
  auto add = [](Counter& counter, uint64_t current, uint64_t& seen) {
    counter.Increment(current - seen);
    seen = current;
  };
  add(zmq_requests_received_, now.requests_received, last_seen.requests_received);
  add(zmq_malformed_frames_, now.malformed_frames, last_seen.malformed_frames);
  add(zmq_busy_replies_, now.busy_replies, last_seen.busy_replies);
  add(zmq_replies_sent_, now.replies_sent, last_seen.replies_sent);
  add(zmq_unroutable_replies_, now.unroutable_replies, last_seen.unroutable_replies);
  add(zmq_dropped_replies_, now.dropped_replies, last_seen.dropped_replies);
}

}  // namespace wojak
