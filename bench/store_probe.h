// Raw storage limits `wojak bench e2e` compares the engine with: batched durable inserts and
// fsync latency, measured on the data directory's file system.
#pragma once

#include <string>

#include "common/status.h"

namespace wojak {

// Inserts `rows` journal-entry-sized rows (about 300 bytes: seq, time, kind, account,
// client_order_id, 200-byte payload, two 32-byte hashes) into a fresh SQLite database in `dir`
// with the journal's durable settings (WAL, synchronous=FULL), `batch_size` rows per committed
// transaction, no hashing and no projections. Returns rows per second. Removes its files.
StatusOr<double> RawStoreProbe(const std::string& dir, int rows, int batch_size);

struct FsyncLatency {
  double p50_us = 0;
  double p99_us = 0;
};

// Appends 64 bytes to a file in `dir` and fdatasyncs it, `syncs` times; returns the latency
// percentiles of append + sync, in microseconds. Removes its file.
StatusOr<FsyncLatency> FsyncProbe(const std::string& dir, int syncs);

}  // namespace wojak
