// Metrics: counters, gauges and histograms rendered as Prometheus text (format 0.0.4). Metrics and
// their labelled children are created at setup; the hot path updates a pre-resolved reference
// with one relaxed atomic operation, no lock and no allocation.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wojak {

// Monotonic count (name it *_total).
class Counter {
 public:
  void Increment(uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (queue depth, open connections, last batch size).
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void Increment() { Add(1); }
  void Decrement() { Add(-1); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed buckets (upper bounds inclusive, as Prometheus' `le`), plus
// their sum. Observe() is lock-free: a short scan of the bounds and two relaxed atomic adds.
class Histogram {
 public:
  // `upper_bounds` must be strictly increasing; a +Inf bucket is always added.
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative_counts;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;  // size upper_bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Bucket bounds for latencies in microseconds: 1, 2, 5, 10, ... 1,000,000 (1 s).
std::vector<double> LatencyMicrosBuckets();
// `count` bounds starting at `start`, each `factor` times the previous.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

namespace metrics_internal {
enum class MetricType { kCounter, kGauge, kHistogram, kCallbackGauge };
struct FamilyData;
void* FindOrAddChild(FamilyData& family, const std::vector<std::string>& label_values);
}  // namespace metrics_internal

// A metric name with a fixed set of label names; one child per set of label values.
template <typename Metric>
class MetricFamily {
 public:
  // The child for these label values (one per label name, in order), created on first use.
  // Takes a lock: call at setup and keep the reference for the hot path.
  Metric& WithLabels(const std::vector<std::string>& label_values) {
    return *static_cast<Metric*>(metrics_internal::FindOrAddChild(*data_, label_values));
  }

 private:
  friend class MetricsRegistry;
  explicit MetricFamily(metrics_internal::FamilyData* data) : data_(data) {}
  metrics_internal::FamilyData* data_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Owns every metric; references it hands out stay valid for its lifetime. Registering a name
// again with the same type and label names returns the existing metric, so modules can share one.
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*; a bad name, or a
// name reused with another type or label set, is a programming error (asserts in debug builds;
// in release the metric works but is left out of the rendering).
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The process-wide registry served on /metrics.
  static MetricsRegistry& Default();

  Counter& AddCounter(const std::string& name, const std::string& help);
  Gauge& AddGauge(const std::string& name, const std::string& help);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> upper_bounds);

  // Families are cheap handles (a pointer into the registry); copy them freely.
  CounterFamily AddCounterFamily(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names);
  GaugeFamily AddGaugeFamily(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names);
  HistogramFamily AddHistogramFamily(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> upper_bounds);

  // A gauge evaluated at every scrape (RSS, queue depth owned by another thread). Several calls
  // with one name and different label values form one family. `read` runs on the scraping thread
  // under the registry lock: it must be thread-safe and must not call back into the registry.
  void AddCallbackGauge(const std::string& name, const std::string& help,
                        const MetricLabels& labels, std::function<double()> read);

  // Every metric in registration order, in the Prometheus text exposition format 0.0.4.
  std::string RenderPrometheus() const;

 private:
  metrics_internal::FamilyData& FindOrAddFamily(const std::string& name, const std::string& help,
                                                metrics_internal::MetricType type,
                                                std::vector<std::string> label_names,
                                                std::vector<double> upper_bounds);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<metrics_internal::FamilyData>> families_;
};

// Resident set size of this process from /proc/self/statm, or -1 when it cannot be read.
int64_t ProcessRssBytes();
// Adds process_resident_memory_bytes (a callback gauge) to `registry`.
void AddProcessMetrics(MetricsRegistry& registry);

}  // namespace wojak
