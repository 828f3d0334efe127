// `wojak bench ticks`: does a tick flood slow order acknowledgement? A real engine process takes
// paced orders (10,000/s by default) in alternating phases — idle, then while a publisher pushes
// ticks at full speed into its tick socket — and the order p99 of both conditions is compared;
// the ticks the engine absorbed per second during the floods are measured end to end (a marker
// tick sent last must reach the engine's persisted tick table).
#pragma once

#include <string>

#include "common/status.h"

namespace wojak {

struct TicksBenchOptions {
  int orders = 50000;  // per condition (idle, with ticks)
  int rounds = 4;      // idle and flooded phases alternate this many times
  int rate = 10000;    // orders/s
  int clients = 2;
  int window = 256;
  int tick_batch = 500;    // ticks per frame
  int instruments = 2000;  // distinct instruments the ticks cycle through
  int publisher_nice = 0;  // nice levels the publisher runs below the benchmark (same CPUs)
  std::string wojak_binary = "/proc/self/exe";
  std::string instruments_path = "tests/testdata/instruments.csv";
  std::string freeze_path = "tests/testdata/freeze_limits.csv";
  std::string data_dir;  // empty: a fresh directory under /tmp, removed afterwards
};

// One JSON object: ticks_per_s, order_p99_us_idle, order_p99_us_with_ticks (ARCHITECTURE.md §2),
// plus p50s, the p99 ratio, ticks sent, per-phase acks and the run's parameters.
StatusOr<std::string> RunTicksBench(const TicksBenchOptions& options);

}  // namespace wojak
