// The engine's Prometheus metrics, registered once in MetricsRegistry::Default() with every
// labelled child resolved up front, so the sequencer updates them without locks or allocation.
// The outbox relay and the tick feed register their own (wojak_outbox_*, wojak_tick*).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/metrics.h"
#include "model/order.h"
#include "model/reason_code.h"
#include "model/requests.h"

namespace wojak {

// What a client asked for, as the `request` label of wojak_decisions_total. The values follow
// the alternatives of the Request variant (model/requests.h), so Request::index() maps onto it.
enum class RequestKind : uint8_t { kOrder, kCancel, kModify, kVerdict, kAdmin, kPing };
inline constexpr size_t kRequestKindCount = 6;
static_assert(std::variant_size_v<Request> == kRequestKindCount);
inline RequestKind RequestKindOf(const Request& request) {
  return static_cast<RequestKind>(request.index());
}

inline constexpr size_t kDecisionKindCount = 5;  // ACCEPTED .. RETRY (model/order.h)
inline constexpr size_t kReasonCodeCount = 0
#define WOJAK_REASON_COUNT(name) +1
    WOJAK_REASON_CODES(WOJAK_REASON_COUNT)
#undef WOJAK_REASON_COUNT
    ;

class EngineMetrics {
 public:
  // The process-wide instance (the families live in MetricsRegistry::Default()). Engines opened
  // one after another in one process (tests) share it; counters keep counting across them.
  static EngineMetrics& Get();

  // One reply to a client request. For new orders each reason of the decision is also counted
  // under wojak_order_reasons_total.
  void CountDecision(RequestKind request, const Decision& decision);
  // One group commit: its latency and how many entries and client requests it carried.
  void ObserveCommit(int64_t latency_ns, size_t entries);
  void ObserveBatch(size_t requests) {
    batch_requests_.Observe(static_cast<double>(requests));
    inbound_queue_depth_.Set(static_cast<double>(requests));
  }
  void CountCommitFailure() { commit_failures_.Increment(); }
  void SetLastSeq(uint64_t seq) { last_seq_.Set(static_cast<double>(seq)); }
  void SetReady(bool ready) { ready_.Set(ready ? 1 : 0); }
  void SetStorageFailed(bool failed) { storage_failed_.Set(failed ? 1 : 0); }
  void CountReload(bool ok) { (ok ? reloads_ok_ : reloads_failed_).Increment(); }

  // ZeroMQ transport counters (wire/server.h ZmqServerCounters) are cumulative per server; each
  // engine hands over their current values each loop with its own `last_seen` (starting at zero)
  // and the difference is added, so engines opened one after another (tests) add up.
  struct TransportTotals {
    uint64_t requests_received = 0;
    uint64_t malformed_frames = 0;
    uint64_t busy_replies = 0;
    uint64_t replies_sent = 0;
    uint64_t unroutable_replies = 0;
    uint64_t dropped_replies = 0;
  };
  void SyncTransport(const TransportTotals& now, TransportTotals& last_seen);

 private:
  EngineMetrics();

  std::array<std::array<Counter*, kDecisionKindCount>, kRequestKindCount> decisions_{};
  std::array<Counter*, kReasonCodeCount> order_reasons_{};
  Histogram& commit_latency_us_;
  Histogram& commit_entries_;
  Histogram& batch_requests_;
  Gauge& inbound_queue_depth_;
  Counter& commit_failures_;
  Gauge& last_seq_;
  Gauge& ready_;
  Gauge& storage_failed_;
  Counter& reloads_ok_;
  Counter& reloads_failed_;
  Counter& zmq_requests_received_;
  Counter& zmq_malformed_frames_;
  Counter& zmq_busy_replies_;
  Counter& zmq_replies_sent_;
  Counter& zmq_unroutable_replies_;
  Counter& zmq_dropped_replies_;
};

}  // namespace wojak
