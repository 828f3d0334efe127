// Tick feed: socket, tick thread, conflation into the table, periodic persistence.
#include "engine/tick_feed.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <future>

#include "common/log.h"
#include "wire/codec.h"
#include "wire/zmq_util.h"

namespace wojak {
namespace {

// Longest the tick thread sleeps in zmq_poll, so Stop is noticed promptly.
constexpr long kPollMillis = 100;
// Frames taken per round before counters are published and the persistence deadline checked.
constexpr int kFramesPerRound = 1024;

}  // namespace

TickFeedOptions ReadTickFeedOptions(ConfigSection ticks) {
  TickFeedOptions o;
  o.enabled = ticks.Bool("enabled", o.enabled, "Accept live ticks on their own ZeroMQ socket.");
  o.endpoint = ticks.String("endpoint", "",
                            "ZeroMQ PULL endpoint tick publishers PUSH TickBatch frames to; "
                            "empty = ipc://<data_dir>/ticks.sock.");
  o.receive_hwm = static_cast<int>(ticks.Int(
      "receive_hwm", o.receive_hwm,
      "Tick batches ZeroMQ buffers for the tick thread; beyond it publishers wait.", 1, 1 << 20));
  o.persist_interval = ticks.Duration(
      "persist_interval", o.persist_interval,
      "How often changed LTPs are written to <data_dir>/ticks.db for /v1/ticks; 0 = never.");
  o.thread_nice = static_cast<int>(ticks.Int(
      "thread_nice", o.thread_nice,
      "Nice levels the tick thread runs below the sequencer (0 = same priority).", 0, 19));
  return o;
}

bool LowerThreadPriority(int steps) {
  if (steps <= 0) return true;
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return false;
  return setpriority(PRIO_PROCESS, tid, std::min(current + steps, 19)) == 0;
}

TickApplier::TickApplier(const InstrumentMaster& instruments, TickTable& table)
    : instruments_(instruments), table_(table) {}

void TickApplier::Apply(std::string_view frame, Nanos received_ns) {
  StatusOr<std::vector<TickUpdate>> ticks = DecodeTickBatch(frame);
  if (!ticks.ok()) {
    ++stats_.malformed_batches;
    if (stats_.malformed_batches == 1 || stats_.malformed_batches % 10000 == 0) {
      LogWarn("tick_batch_malformed",
              {{"error", ticks.status().ToString()}, {"count", stats_.malformed_batches}});
    }
    return;
  }
  ++stats_.batches;
  // One snapshot per batch: a reload in the middle of a batch cannot mix two masters.
  std::shared_ptr<const InstrumentTable> master;
  for (const TickUpdate& tick : *ticks) {
    int64_t token = tick.instrument_token;
    if (token == 0) {
      if (!master) master = instruments_.Snapshot();
      const Instrument* instrument = master->FindBySymbol(tick.symbol);
      if (instrument == nullptr) {
        ++stats_.unknown;
        continue;
      }
      token = instrument->instrument_token;
    }
    if (tick.timestamp_ns != 0) {
      // Latest wins by exchange time: a late, older tick must not replace a newer price.
      std::optional<TickValue> stored = table_.Read(token);
      if (stored && stored->timestamp_ns > tick.timestamp_ns) {
        ++stats_.out_of_order;
        continue;
      }
    }
    if (table_.Update(token, {tick.ltp, tick.timestamp_ns, received_ns})) {
      ++stats_.applied;
    } else {
      ++stats_.dropped;
    }
  }
}

std::vector<TickRow> TickApplier::ChangedSinceLastCall() {
  std::vector<TickRow> rows;
  std::shared_ptr<const InstrumentTable> master = instruments_.Snapshot();
  table_.ForEach([&](int64_t token, const TickValue& value) {
    auto [it, inserted] = persisted_.try_emplace(token, value.ltp.value(), value.timestamp_ns);
    if (!inserted) {
      if (it->second == std::make_pair(value.ltp.value(), value.timestamp_ns)) return;
      it->second = {value.ltp.value(), value.timestamp_ns};
    }
    TickRow& row = rows.emplace_back();
    row.instrument_token = token;
    if (const Instrument* instrument = master->FindByToken(token)) {
      row.symbol = instrument->tradingsymbol;
    }
    row.ltp_paise = value.ltp.value();
    row.timestamp_ns = value.timestamp_ns;
    row.received_ns = value.received_ns;
  });
  return rows;
}

// Counters other threads read (stats(), metrics callbacks); published by the tick thread.
struct TickFeed::Shared {
  std::atomic<uint64_t> batches{0}, malformed_batches{0}, applied{0}, unknown{0}, dropped{0},
      out_of_order{0}, persisted{0};
  std::atomic<Nanos> last_received_ns{0};
  std::atomic<size_t> instruments{0};
};

TickFeed::TickFeed(const TickFeedOptions& options, const InstrumentMaster& instruments,
                   TickTable& table, const Clock& clock)
    : options_(options),
      clock_(clock),
      applier_(instruments, table),
      table_(table),
      shared_(std::make_shared<Shared>()) {}

StatusOr<std::unique_ptr<TickFeed>> TickFeed::Start(const TickFeedOptions& options,
                                                    const std::string& data_dir,
                                                    const InstrumentMaster& instruments,
                                                    TickTable& table, const Clock& clock) {
  std::unique_ptr<TickFeed> feed(new TickFeed(options, instruments, table, clock));
  feed->endpoint_ =
      options.endpoint.empty() ? "ipc://" + data_dir + "/ticks.sock" : options.endpoint;
  if (options.persist_interval.count() > 0) {
    WOJAK_ASSIGN_OR_RETURN(feed->store_,
                           TickStore::OpenForWriting(TickStorePathForDataDir(data_dir)));
  }
  // The socket is made on the tick thread, after it lowered its priority: ZeroMQ's I/O thread
  // starts with the socket and inherits that niceness, so it too yields to the sequencer.
  std::promise<Status> opened;
  std::future<Status> result = opened.get_future();
  TickFeed* raw = feed.get();
  feed->thread_ = std::thread([raw, opened = std::move(opened)]() mutable { raw->Run(opened); });
  Status status = result.get();
  if (!status.ok()) {
    feed->thread_.join();
    return status;
  }
  LogInfo("tick_feed_started",
          {{"endpoint", feed->endpoint_},
           {"persist_ms", static_cast<int64_t>(options.persist_interval.count())}});
  return feed;
}

TickFeed::~TickFeed() { Stop(); }

Status TickFeed::OpenSocket() {
  context_ = zmq_ctx_new();
  if (context_ == nullptr) return zmq_util::ZmqError("zmq_ctx_new");
  socket_ = zmq_socket(context_, ZMQ_PULL);
  if (socket_ == nullptr) return zmq_util::ZmqError("zmq_socket(PULL)");
  WOJAK_RETURN_IF_ERROR(zmq_util::SetInt(socket_, ZMQ_RCVHWM, options_.receive_hwm, "ZMQ_RCVHWM"));
  WOJAK_RETURN_IF_ERROR(zmq_util::SetInt(socket_, ZMQ_LINGER, 0, "ZMQ_LINGER"));
  if (zmq_bind(socket_, endpoint_.c_str()) != 0) {
    return zmq_util::ZmqError("zmq_bind(" + endpoint_ + ")");
  }
  // A tcp://host:0 endpoint binds a free port; report the real one.
  char bound[256];
  size_t bound_size = sizeof(bound);
  if (zmq_getsockopt(socket_, ZMQ_LAST_ENDPOINT, bound, &bound_size) == 0) endpoint_ = bound;
  return OkStatus();
}

void TickFeed::CloseSocket() {
  if (socket_ != nullptr) zmq_close(socket_);
  if (context_ != nullptr) zmq_ctx_term(context_);
  socket_ = context_ = nullptr;
}

void TickFeed::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

TickFeedStats TickFeed::stats() const {
  TickFeedStats s;
  s.batches = shared_->batches.load();
  s.malformed_batches = shared_->malformed_batches.load();
  s.applied = shared_->applied.load();
  s.unknown = shared_->unknown.load();
  s.dropped = shared_->dropped.load();
  s.out_of_order = shared_->out_of_order.load();
  s.persisted = shared_->persisted.load();
  return s;
}

void TickFeed::RegisterMetrics(MetricsRegistry& registry) {
  std::shared_ptr<Shared> shared = shared_;
  auto counter = [&](const char* result, std::atomic<uint64_t> Shared::*field) {
    registry.AddCallbackGauge(
        "wojak_ticks_total", "Ticks received since start, by outcome.", {{"result", result}},
        [shared, field] { return static_cast<double>(((*shared).*field).load()); });
  };
  counter("applied", &Shared::applied);
  counter("unknown_instrument", &Shared::unknown);
  counter("table_full", &Shared::dropped);
  counter("out_of_order", &Shared::out_of_order);
  registry.AddCallbackGauge("wojak_tick_batches_total", "Tick batches received, by outcome.",
                            {{"result", "ok"}},
                            [shared] { return static_cast<double>(shared->batches.load()); });
  registry.AddCallbackGauge(
      "wojak_tick_batches_total", "Tick batches received, by outcome.", {{"result", "malformed"}},
      [shared] { return static_cast<double>(shared->malformed_batches.load()); });
  registry.AddCallbackGauge("wojak_ticks_instruments", "Instruments with a live LTP.", {},
                            [shared] { return static_cast<double>(shared->instruments.load()); });
  const Clock* clock = &clock_;
  registry.AddCallbackGauge(
      "wojak_tick_age_seconds", "Seconds since the last tick arrived (-1 before the first).", {},
      [shared, clock] {
        Nanos last = shared->last_received_ns.load();
        return last == 0 ? -1.0 : static_cast<double>(clock->Now() - last) / kNanosPerSecond;
      });
}

void TickFeed::Publish() {
  const TickFeedStats& s = applier_.stats();
  shared_->batches.store(s.batches, std::memory_order_relaxed);
  shared_->malformed_batches.store(s.malformed_batches, std::memory_order_relaxed);
  shared_->applied.store(s.applied, std::memory_order_relaxed);
  shared_->unknown.store(s.unknown, std::memory_order_relaxed);
  shared_->dropped.store(s.dropped, std::memory_order_relaxed);
  shared_->out_of_order.store(s.out_of_order, std::memory_order_relaxed);
  shared_->persisted.store(s.persisted, std::memory_order_relaxed);
  shared_->instruments.store(table_.size(), std::memory_order_relaxed);
}

void TickFeed::Persist() {
  if (!store_) return;
  std::vector<TickRow> rows = applier_.ChangedSinceLastCall();
  Status status = store_->Upsert(rows);
  if (!status.ok()) {
    // The live table is unaffected; /v1/ticks is a little older until the next try succeeds.
    LogWarn("ticks_persist_failed", {{"error", status.ToString()}});
    return;
  }
  applier_.mutable_stats().persisted += rows.size();
}

void TickFeed::Run(std::promise<Status>& opened) {
  if (!LowerThreadPriority(options_.thread_nice)) {
    LogWarn("tick_thread_nice_failed", {{"nice", options_.thread_nice}});
  }
  Status status = OpenSocket();
  if (!status.ok()) CloseSocket();
  opened.set_value(status);
  if (!status.ok()) return;
  const Nanos persist_every = options_.persist_interval.count() * kNanosPerMilli;
  Nanos next_persist = clock_.Monotonic() + persist_every;
  zmq_util::Message message;
  while (!stopping_.load(std::memory_order_relaxed)) {
    zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
    long wait = kPollMillis;
    if (store_) {
      wait = std::clamp<long>((next_persist - clock_.Monotonic()) / kNanosPerMilli, 0, kPollMillis);
    }
    zmq_poll(&item, 1, wait);
    // Each frame is applied as it is taken, so nothing builds up here; a round is bounded so a
    // flood cannot postpone persistence and the published counters.
    int frames = 0;
    while (frames < kFramesPerRound && zmq_msg_recv(message.get(), socket_, ZMQ_DONTWAIT) >= 0) {
      applier_.Apply(message.view(), clock_.Now());
      ++frames;
    }
    if (frames > 0) {
      shared_->last_received_ns.store(clock_.Now(), std::memory_order_relaxed);
      Publish();
    }
    if (store_ && clock_.Monotonic() >= next_persist) {
      Persist();
      Publish();
      next_persist = clock_.Monotonic() + persist_every;
    }
  }
  Persist();
  Publish();
  CloseSocket();
}

}  // namespace wojak
