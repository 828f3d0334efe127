// Tests for the metrics registry: exact Prometheus text for every metric kind, labels, escaping,
// sharing a name, and concurrent updates.
#include "common/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace wojak {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MetricsTest, EmptyRegistryRendersNothing) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.RenderPrometheus(), "");
}

TEST(MetricsTest, RendersCounterAndGauge) {
  MetricsRegistry registry;
  Counter& orders = registry.AddCounter("wojak_orders_total", "Orders received.");
  Gauge& depth = registry.AddGauge("wojak_queue_depth", "Requests waiting.");
  orders.Increment();
  orders.Increment(41);
  depth.Set(7);
  depth.Decrement();
  depth.Add(0.5);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP wojak_orders_total Orders received.\n"
            "# TYPE wojak_orders_total counter\n"
            "wojak_orders_total 42\n"
            "# HELP wojak_queue_depth Requests waiting.\n"
            "# TYPE wojak_queue_depth gauge\n"
            "wojak_queue_depth 6.5\n");
}

TEST(MetricsTest, RendersHistogramWithCumulativeBuckets) {
  MetricsRegistry registry;
  Histogram& latency =
      registry.AddHistogram("wojak_commit_latency_us", "Journal commit latency.", {10, 100, 1000});
  for (double value : {5.0, 10.0, 11.0, 500.0, 5000.0}) latency.Observe(value);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP wojak_commit_latency_us Journal commit latency.\n"
            "# TYPE wojak_commit_latency_us histogram\n"
            "wojak_commit_latency_us_bucket{le=\"10\"} 2\n"
            "wojak_commit_latency_us_bucket{le=\"100\"} 3\n"
            "wojak_commit_latency_us_bucket{le=\"1000\"} 4\n"
            "wojak_commit_latency_us_bucket{le=\"+Inf\"} 5\n"
            "wojak_commit_latency_us_sum 5526\n"
            "wojak_commit_latency_us_count 5\n");
}

TEST(MetricsTest, RendersLabelledChildrenInCreationOrder) {
  MetricsRegistry registry;
  CounterFamily decisions =
      registry.AddCounterFamily("wojak_decisions_total", "Risk decisions.", {"decision", "reason"});
  Counter& accepted = decisions.WithLabels({"ACCEPTED", "NONE"});
  Counter& rejected = decisions.WithLabels({"REJECTED", "MAX_QTY"});
  accepted.Increment(3);
  rejected.Increment();
  EXPECT_EQ(&decisions.WithLabels({"ACCEPTED", "NONE"}), &accepted);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP wojak_decisions_total Risk decisions.\n"
            "# TYPE wojak_decisions_total counter\n"
            "wojak_decisions_total{decision=\"ACCEPTED\",reason=\"NONE\"} 3\n"
            "wojak_decisions_total{decision=\"REJECTED\",reason=\"MAX_QTY\"} 1\n");
}

TEST(MetricsTest, LabelledHistogramPutsLeLast) {
  MetricsRegistry registry;
  HistogramFamily family =
      registry.AddHistogramFamily("wojak_stage_us", "Stage latency.", {"stage"}, {1});
  family.WithLabels({"risk"}).Observe(0.5);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP wojak_stage_us Stage latency.\n"
            "# TYPE wojak_stage_us histogram\n"
            "wojak_stage_us_bucket{stage=\"risk\",le=\"1\"} 1\n"
            "wojak_stage_us_bucket{stage=\"risk\",le=\"+Inf\"} 1\n"
            "wojak_stage_us_sum{stage=\"risk\"} 0.5\n"
            "wojak_stage_us_count{stage=\"risk\"} 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.AddGaugeFamily("wojak_g", "Help with \\ and\nnewline.", {"path"})
      .WithLabels({"C:\\dir \"x\"\nnext"})
      .Set(1);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP wojak_g Help with \\\\ and\\nnewline.\n"
            "# TYPE wojak_g gauge\n"
            "wojak_g{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST(MetricsTest, CallbackGaugesAreEvaluatedAtEachScrape) {
  MetricsRegistry registry;
  int depth = 3;
  registry.AddCallbackGauge("wojak_queue_depth", "Queued requests.", {{"queue", "orders"}},
                            [&depth] { return depth; });
  registry.AddCallbackGauge("wojak_queue_depth", "Queued requests.", {{"queue", "ticks"}},
                            [] { return 0; });
  const std::string expected_header =
      "# HELP wojak_queue_depth Queued requests.\n"
      "# TYPE wojak_queue_depth gauge\n";
  EXPECT_EQ(registry.RenderPrometheus(), expected_header +
                                             "wojak_queue_depth{queue=\"orders\"} 3\n"
                                             "wojak_queue_depth{queue=\"ticks\"} 0\n");
  depth = 9;
  EXPECT_EQ(registry.RenderPrometheus(), expected_header +
                                             "wojak_queue_depth{queue=\"orders\"} 9\n"
                                             "wojak_queue_depth{queue=\"ticks\"} 0\n");
}

TEST(MetricsTest, RegisteringTheSameNameAgainSharesTheMetric) {
  MetricsRegistry registry;
  Counter& first = registry.AddCounter("wojak_restarts_total", "Restarts.");
  Counter& second = registry.AddCounter("wojak_restarts_total", "Restarts.");
  EXPECT_EQ(&first, &second);
  second.Increment();
  EXPECT_EQ(first.value(), 1u);
}

TEST(MetricsTest, RendersSpecialValues) {
  MetricsRegistry registry;
  registry.AddGauge("a", "").Set(std::numeric_limits<double>::infinity());
  registry.AddGauge("b", "").Set(-std::numeric_limits<double>::infinity());
  registry.AddGauge("c", "").Set(std::numeric_limits<double>::quiet_NaN());
  registry.AddGauge("d", "").Set(1e20);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP a \n# TYPE a gauge\na +Inf\n"
            "# HELP b \n# TYPE b gauge\nb -Inf\n"
            "# HELP c \n# TYPE c gauge\nc NaN\n"
            "# HELP d \n# TYPE d gauge\nd 1e+20\n");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  Counter& counter = registry.AddCounter("wojak_c_total", "c");
  Histogram& histogram = registry.AddHistogram("wojak_h", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        counter.Increment();
        histogram.Observe(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 400000u);
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.count, 400000u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 400000.0);
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(400000u, 400000u));
}

TEST(MetricsTest, BucketHelpers) {
  EXPECT_THAT(ExponentialBuckets(1, 2, 4), ElementsAre(1, 2, 4, 8));
  const std::vector<double> latency = LatencyMicrosBuckets();
  EXPECT_EQ(latency.front(), 1);
  EXPECT_EQ(latency.back(), 1e6);
  EXPECT_EQ(latency.size(), 19u);
}

TEST(MetricsTest, ProcessRssIsPositiveAndExported) {
  EXPECT_GT(ProcessRssBytes(), 0);
  MetricsRegistry registry;
  AddProcessMetrics(registry);
  EXPECT_THAT(registry.RenderPrometheus(), HasSubstr("# TYPE process_resident_memory_bytes gauge\n"
                                                     "process_resident_memory_bytes "));
}

TEST(MetricsTest, DefaultRegistryIsOneInstance) {
  EXPECT_EQ(&MetricsRegistry::Default(), &MetricsRegistry::Default());
}

}  // namespace
}  // namespace wojak
