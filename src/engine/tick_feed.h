// Live ticks: a ZeroMQ PULL socket of its own takes TickBatch frames (src/wire/codec.h); one
// thread decodes them into the conflated TickTable the sequencer reads without locks, and
// persists changed LTPs to ticks.db about once a second. Nothing queues inside the engine: a
// newer tick overwrites the older one, and the socket's receive HWM bounds what ZeroMQ buffers
// (a faster publisher blocks or drops on its side, never grows the engine's memory).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics.h"
#include "engine/tick_store.h"
#include "engine/tick_table.h"
#include "instruments/instrument_master.h"

namespace wojak {

struct TickFeedOptions {
  bool enabled = true;
  std::string endpoint;                              // empty: ipc://<data_dir>/ticks.sock
  int receive_hwm = 1000;                            // batches ZeroMQ holds for the tick thread
  std::chrono::milliseconds persist_interval{1000};  // 0: never persist
  // Nice levels the tick thread (and ZeroMQ's I/O thread for ticks) run below the engine's
  // other threads: on a busy machine the scheduler favours the sequencer, so a burst of ticks
  // cannot delay order acknowledgement (ticks are conflated anyway).
  int thread_nice = 10;
};

inline constexpr char kTicksSectionDoc[] =
    "Live ticks: their ZeroMQ socket and the LTPs persisted for /v1/ticks.";

// Reads the `ticks:` section (enabled, endpoint, receive_hwm, persist_interval, thread_nice).
TickFeedOptions ReadTickFeedOptions(ConfigSection ticks);

// Lowers the calling thread's priority by `steps` nice levels (at most to 19). Linux keeps a
// niceness per thread, and threads started afterwards inherit it. False when refused.
bool LowerThreadPriority(int steps);

// What happened to ticks since start.
struct TickFeedStats {
  uint64_t batches = 0;            // frames decoded
  uint64_t malformed_batches = 0;  // frames that were not valid TickBatches (all ticks lost)
  uint64_t applied = 0;            // ticks written to the table
  uint64_t unknown = 0;            // ticks naming an instrument the master does not know
  uint64_t dropped = 0;            // ticks for a new instrument when the table was full
  uint64_t out_of_order = 0;       // ticks older (exchange time) than the stored one
  uint64_t persisted = 0;          // rows written to ticks.db
};

// Decodes frames into the table: the tick thread's work, usable on its own in tests and
// benchmarks. Single-threaded (the table has one writer).
class TickApplier {
 public:
  TickApplier(const InstrumentMaster& instruments, TickTable& table);
  // Applies every tick of one TickBatch frame with `received_ns` as their arrival time.
  // A frame that does not decode changes nothing and counts as malformed.
  void Apply(std::string_view frame, Nanos received_ns);
  // Rows whose LTP or timestamp changed since the previous call (all rows on the first).
  std::vector<TickRow> ChangedSinceLastCall();
  const TickFeedStats& stats() const { return stats_; }
  TickFeedStats& mutable_stats() { return stats_; }

 private:
  const InstrumentMaster& instruments_;
  TickTable& table_;
  TickFeedStats stats_;
  // token -> (ltp, timestamp) as last returned by ChangedSinceLastCall.
  std::unordered_map<int64_t, std::pair<int64_t, Nanos>> persisted_;
};

class TickFeed {
 public:
  // Binds the socket (endpoint resolved against data_dir), opens ticks.db there when persisting,
  // and starts the tick thread.
  static StatusOr<std::unique_ptr<TickFeed>> Start(const TickFeedOptions& options,
                                                   const std::string& data_dir,
                                                   const InstrumentMaster& instruments,
                                                   TickTable& table,
                                                   const Clock& clock = RealClock::Instance());
  ~TickFeed();
  TickFeed(const TickFeed&) = delete;
  TickFeed& operator=(const TickFeed&) = delete;

  // Persists the last changes, stops the thread, closes the socket. Idempotent.
  void Stop();
  const std::string& endpoint() const { return endpoint_; }
  // A consistent-enough copy for tests and logs (each field read atomically).
  TickFeedStats stats() const;
  // Adds wojak_ticks_total{result}, wojak_tick_batches_total{result}, wojak_ticks_instruments
  // and wojak_tick_age_seconds (time since the last tick arrived).
  void RegisterMetrics(MetricsRegistry& registry);

 private:
  struct Shared;
  TickFeed(const TickFeedOptions& options, const InstrumentMaster& instruments, TickTable& table,
           const Clock& clock);
  void Run(std::promise<Status>& opened);
  // Tick thread: creates, configures and binds the socket; closes it and its context.
  Status OpenSocket();
  void CloseSocket();
  void Persist();
  void Publish();

  TickFeedOptions options_;
  const Clock& clock_;
  TickApplier applier_;
  const TickTable& table_;
  std::unique_ptr<TickStore> store_;
  std::string endpoint_;
  void* context_ = nullptr;
  void* socket_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

}  // namespace wojak
