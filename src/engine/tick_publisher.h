// The sending side of the tick feed: reading tick files and pushing TickBatch frames to an
// engine's tick socket, for `wojak ticks publish` and the ticks benchmark.
//
// Tick file format (CSV, UTF-8, one tick per line; blank lines and lines starting with '#' are
// ignored). The first other line is a header naming the columns, in any order:
//   symbol | instrument_token | instrument   the instrument (required, exactly one of them;
//                                            `instrument` is a token when all digits, else a
//                                            trading symbol)
//   ltp          last traded price in rupees, e.g. 26065.50 (required, at most two decimals)
//   timestamp    exchange time: Unix nanoseconds (all digits) or ISO-8601
//                2026-12-01T10:00:00.250+05:30 (Z or an offset; none means IST); empty or
//                absent = the time the tick is sent
//   bid, ask     optional prices in rupees;  oi  optional open interest
// Example: tests/testdata/ticks_sample.csv.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "wire/codec.h"

namespace wojak {

// Parses a tick file. Every bad line is reported (INVALID_ARGUMENT, one "line N: ..." per line).
StatusOr<std::vector<TickUpdate>> ParseTickCsv(std::string_view text);

// "2026-12-01T10:00:00.250+05:30", "...Z", or without offset (IST) -> Unix nanoseconds.
StatusOr<Nanos> ParseTickTimestamp(std::string_view text);

// A ZeroMQ PUSH socket connected to an engine's tick endpoint.
class TickPublisher {
 public:
  // `send_hwm`: frames queued locally before Send blocks (the engine is behind).
  static StatusOr<std::unique_ptr<TickPublisher>> Connect(const std::string& endpoint,
                                                          int send_hwm = 1000);
  // Waits up to `linger` for queued frames to leave, then closes.
  ~TickPublisher();
  TickPublisher(const TickPublisher&) = delete;
  TickPublisher& operator=(const TickPublisher&) = delete;

  // One TickBatch frame. Blocks while the socket's queue is full.
  Status Send(std::span<const TickUpdate> ticks);
  // An already encoded frame (benchmarks encode once and send many times).
  Status SendFrame(std::string_view frame);
  void set_linger(std::chrono::milliseconds linger) { linger_ = linger; }

 private:
  TickPublisher() = default;
  void* context_ = nullptr;
  void* socket_ = nullptr;
  std::chrono::milliseconds linger_{5000};
  uint64_t next_request_id_ = 1;
};

struct PublishOptions {
  double rate = 0;       // ticks per second; 0 = as fast as the engine takes them
  size_t batch = 100;    // ticks per frame
  int repeat = 1;        // times the file is sent
  bool restamp = false;  // stamp every tick with the send time instead of the file's time
};

struct PublishReport {
  uint64_t ticks = 0;
  uint64_t frames = 0;
  double seconds = 0;
};

// Sends `ticks` in frames of options.batch, paced to options.rate. Ticks without a timestamp
// (and all of them with restamp) carry the time their frame is sent.
StatusOr<PublishReport> PublishTicks(TickPublisher& publisher, std::span<const TickUpdate> ticks,
                                     const PublishOptions& options,
                                     const Clock& clock = RealClock::Instance());

}  // namespace wojak
