// Metrics registry and Prometheus text exposition (format 0.0.4).
#include "common/metrics.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cassert>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

namespace wojak {

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() + 1)) {
  assert(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()) &&
         std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end()) == upper_bounds_.end());
}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < upper_bounds_.size() && value > upper_bounds_[bucket]) ++bucket;
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.cumulative_counts.reserve(upper_bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> LatencyMicrosBuckets() {
  std::vector<double> bounds;
  for (double decade = 1; decade <= 1e6; decade *= 10) {
    for (double step : {1.0, 2.0, 5.0}) {
      if (decade * step <= 1e6) bounds.push_back(decade * step);
    }
  }
  return bounds;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

namespace metrics_internal {

struct Child {
  std::vector<std::string> label_values;
  std::string rendered_labels;  // `a="x",b="y"` (without braces), computed once at creation
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
  std::function<double()> read;
};

struct FamilyData {
  std::string name;
  std::string help;
  MetricType type;
  std::vector<std::string> label_names;
  std::vector<double> upper_bounds;
  bool rendered = true;  // false for a misregistered family (see MetricsRegistry)
  std::mutex* registry_mutex = nullptr;
  std::vector<std::unique_ptr<Child>> children;
};

namespace {

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

void AppendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string RenderLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscapedLabelValue(out, values[i]);
    out += '"';
  }
  return out;
}

Child& FindOrAddChildLocked(FamilyData& family, const std::vector<std::string>& label_values) {
  for (const std::unique_ptr<Child>& child : family.children) {
    if (child->label_values == label_values) return *child;
  }
  auto child = std::make_unique<Child>();
  child->label_values = label_values;
  child->rendered_labels = RenderLabels(family.label_names, label_values);
  switch (family.type) {
    case MetricType::kCounter:
      child->counter = std::make_unique<Counter>();
      break;
    case MetricType::kGauge:
      child->gauge = std::make_unique<Gauge>();
      break;
    case MetricType::kHistogram:
      child->histogram = std::make_unique<Histogram>(family.upper_bounds);
      break;
    case MetricType::kCallbackGauge:
      break;
  }
  family.children.push_back(std::move(child));
  return *family.children.back();
}

}  // namespace

void* FindOrAddChild(FamilyData& family, const std::vector<std::string>& label_values) {
  std::lock_guard lock(*family.registry_mutex);
  // A wrong number of label values is a programming error; pad or cut so release builds still
  // hand out a working metric.
  assert(label_values.size() == family.label_names.size());
  std::vector<std::string> values = label_values;
  values.resize(family.label_names.size());
  Child& child = FindOrAddChildLocked(family, values);
  switch (family.type) {
    case MetricType::kCounter:
      return child.counter.get();
    case MetricType::kGauge:
      return child.gauge.get();
    case MetricType::kHistogram:
      return child.histogram.get();
    case MetricType::kCallbackGauge:
      break;
  }
  return nullptr;
}

}  // namespace metrics_internal

using metrics_internal::Child;
using metrics_internal::FamilyData;
using metrics_internal::MetricType;

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry& MetricsRegistry::Default() {
  // Never destroyed: metrics may be touched by threads still running during exit.
  static MetricsRegistry* registry = new MetricsRegistry();
  return *registry;
}

FamilyData& MetricsRegistry::FindOrAddFamily(const std::string& name, const std::string& help,
                                             MetricType type, std::vector<std::string> label_names,
                                             std::vector<double> upper_bounds) {
  // Caller holds mutex_.
  bool valid = metrics_internal::IsValidName(name, /*allow_colon=*/true);
  for (const std::string& label : label_names) {
    valid = valid && metrics_internal::IsValidName(label, /*allow_colon=*/false) &&
            label.rfind("__", 0) != 0 && label != "le";
  }
  for (const std::unique_ptr<FamilyData>& family : families_) {
    if (family->name != name || !family->rendered) continue;
    if (family->type == type && family->label_names == label_names &&
        family->upper_bounds == upper_bounds) {
      return *family;
    }
    valid = false;
  }
  assert(valid && "invalid metric or label name, or a name reused with another type or labels");
  auto family = std::make_unique<FamilyData>();
  family->name = name;
  family->help = help;
  family->type = type;
  family->label_names = std::move(label_names);
  family->upper_bounds = std::move(upper_bounds);
  family->rendered = valid;
  family->registry_mutex = &mutex_;
  families_.push_back(std::move(family));
  return *families_.back();
}

Counter& MetricsRegistry::AddCounter(const std::string& name, const std::string& help) {
  return AddCounterFamily(name, help, {}).WithLabels({});
}

Gauge& MetricsRegistry::AddGauge(const std::string& name, const std::string& help) {
  return AddGaugeFamily(name, help, {}).WithLabels({});
}

Histogram& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                         std::vector<double> upper_bounds) {
  return AddHistogramFamily(name, help, {}, std::move(upper_bounds)).WithLabels({});
}

CounterFamily MetricsRegistry::AddCounterFamily(const std::string& name, const std::string& help,
                                                std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  return CounterFamily(
      &FindOrAddFamily(name, help, MetricType::kCounter, std::move(label_names), {}));
}

GaugeFamily MetricsRegistry::AddGaugeFamily(const std::string& name, const std::string& help,
                                            std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  return GaugeFamily(&FindOrAddFamily(name, help, MetricType::kGauge, std::move(label_names), {}));
}

HistogramFamily MetricsRegistry::AddHistogramFamily(const std::string& name,
                                                    const std::string& help,
                                                    std::vector<std::string> label_names,
                                                    std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  return HistogramFamily(&FindOrAddFamily(name, help, MetricType::kHistogram,
                                          std::move(label_names), std::move(upper_bounds)));
}

void MetricsRegistry::AddCallbackGauge(const std::string& name, const std::string& help,
                                       const MetricLabels& labels, std::function<double()> read) {
  std::vector<std::string> label_names;
  std::vector<std::string> label_values;
  for (const auto& [label, value] : labels) {
    label_names.push_back(label);
    label_values.push_back(value);
  }
  std::lock_guard lock(mutex_);
  FamilyData& family =
      FindOrAddFamily(name, help, MetricType::kCallbackGauge, std::move(label_names), {});
  metrics_internal::FindOrAddChildLocked(family, label_values).read = std::move(read);
}

namespace {

// Prometheus (Go ParseFloat) spelling of a sample value.
void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

void AppendHelp(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view extra_label, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra_label.empty()) out += ',';
    out += extra_label;
    out += '}';
  }
  out += ' ';
  AppendValue(out, value);
  out += '\n';
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGauge:
    case MetricType::kCallbackGauge:
      break;
  }
  return "gauge";
}

void RenderChild(std::string& out, const FamilyData& family, const Child& child) {
  switch (family.type) {
    case MetricType::kCounter:
      AppendSample(out, family.name, "", child.rendered_labels, "",
                   static_cast<double>(child.counter->value()));
      return;
    case MetricType::kGauge:
      AppendSample(out, family.name, "", child.rendered_labels, "", child.gauge->value());
      return;
    case MetricType::kCallbackGauge:
      AppendSample(out, family.name, "", child.rendered_labels, "",
                   child.read ? child.read() : std::numeric_limits<double>::quiet_NaN());
      return;
    case MetricType::kHistogram:
      break;
  }
  const Histogram::Snapshot snapshot = child.histogram->Read();
  for (size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
    std::string le = "le=\"";
    if (i < snapshot.upper_bounds.size()) {
      AppendValue(le, snapshot.upper_bounds[i]);
    } else {
      le += "+Inf";
    }
    le += '"';
    AppendSample(out, family.name, "_bucket", child.rendered_labels, le,
                 static_cast<double>(snapshot.cumulative_counts[i]));
  }
  AppendSample(out, family.name, "_sum", child.rendered_labels, "", snapshot.sum);
  AppendSample(out, family.name, "_count", child.rendered_labels, "",
               static_cast<double>(snapshot.count));
}

}  // namespace

std::string MetricsRegistry::RenderPrometheus() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const std::unique_ptr<FamilyData>& family : families_) {
    if (!family->rendered) continue;
    out += "# HELP ";
    out += family->name;
    out += ' ';
    AppendHelp(out, family->help);
    out += "\n# TYPE ";
    out += family->name;
    out += ' ';
    out += TypeName(family->type);
    out += '\n';
    for (const std::unique_ptr<Child>& child : family->children) RenderChild(out, *family, *child);
  }
  return out;
}

int64_t ProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t total_pages = 0;
  int64_t resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return -1;
  const long page_size = sysconf(_SC_PAGESIZE);
  if (page_size <= 0) return -1;
  return resident_pages * page_size;
}

void AddProcessMetrics(MetricsRegistry& registry) {
  registry.AddCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                            [] { return static_cast<double>(ProcessRssBytes()); });
}

}  // namespace wojak
