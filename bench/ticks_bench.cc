// Ticks benchmark: order latency idle vs under a tick flood, and ticks absorbed per second.
#include "bench/ticks_bench.h"

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/engine_harness.h"
#include "engine/tick_feed.h"
#include "engine/tick_publisher.h"
#include "engine/tick_store.h"
#include "instruments/instrument_master.h"

namespace wojak {
namespace {

using Steady = std::chrono::steady_clock;

// How often the engine persists ticks during the benchmark: the marker tick that proves
// absorption shows up in ticks.db at most this much later (charged to the flood, not hidden).
constexpr char kTicksConfig[] = "ticks:\n  persist_interval: 20ms\n";

struct FloodResult {
  uint64_t ticks = 0;
  double seconds = 0;  // from the first frame until the marker was seen absorbed
  Status status;
};

// Pushes ticks at full speed from its own thread until Finish(), then proves the engine took
// them all: a marker tick sent last on the same socket (one pipe keeps order) must appear in the
// engine's ticks.db.
class TickFlood {
 public:
  TickFlood(std::string endpoint, std::string ticks_db, std::vector<TickUpdate> universe,
            TickUpdate marker, std::string marker_symbol, int batch, int nice)
      : endpoint_(std::move(endpoint)),
        ticks_db_(std::move(ticks_db)),
        universe_(std::move(universe)),
        marker_(std::move(marker)),
        marker_symbol_(std::move(marker_symbol)),
        batch_(static_cast<size_t>(std::max(batch, 1))),
        nice_(nice) {
    thread_ = std::thread([this] { Run(); });
    while (!started_.load() && !failed_.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  FloodResult Finish() {
    stop_ = true;
    thread_.join();
    FloodResult result;
    result.ticks = sent_.load();
    if (!status_.ok()) {
      result.status = status_;
      return result;
    }
    const auto deadline = Steady::now() + std::chrono::seconds(120);
    while (Steady::now() < deadline) {
      auto store = TickStore::OpenForReading(ticks_db_);
      if (store.ok()) {
        auto rows = (*store)->Read({marker_symbol_});
        if (rows.ok() && !rows->empty() && rows->front().ltp_paise == marker_.ltp.value()) {
          result.seconds = std::chrono::duration<double>(Steady::now() - start_).count();
          return result;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    result.status = DeadlineExceeded("the marker tick never reached ticks.db");
    return result;
  }

 private:
  void Run() {
    LowerThreadPriority(nice_);  // before the publisher, so its ZeroMQ I/O thread inherits it
    auto publisher = TickPublisher::Connect(endpoint_, /*send_hwm=*/64);
    if (!publisher.ok()) {
      status_ = publisher.status();
      failed_ = true;
      return;
    }
    std::vector<TickUpdate> frame(batch_);
    size_t next = 0;
    uint64_t round = 0;
    start_ = Steady::now();
    started_ = true;
    while (!stop_.load(std::memory_order_relaxed)) {
      const Nanos now = RealClock::Instance().Now();
      for (TickUpdate& tick : frame) {
        const TickUpdate& base = universe_[next];
        tick.instrument_token = base.instrument_token;
        // A few paise around the master price keeps every order inside its price band.
        tick.ltp = Paise::FromPaise(base.ltp.value() + static_cast<int64_t>(round % 7) * 5);
        tick.timestamp_ns = now;
        if (++next == universe_.size()) {
          next = 0;
          ++round;
        }
      }
      Status sent = (*publisher)->Send(frame);
      if (!sent.ok()) {
        status_ = sent;
        return;
      }
      sent_.fetch_add(frame.size(), std::memory_order_relaxed);
    }
    marker_.timestamp_ns = RealClock::Instance().Now();
    status_ = (*publisher)->Send(std::span(&marker_, 1));
  }

  const std::string endpoint_;
  const std::string ticks_db_;
  const std::vector<TickUpdate> universe_;
  TickUpdate marker_;
  const std::string marker_symbol_;
  const size_t batch_;
  const int nice_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> sent_{0};
  Steady::time_point start_;
  Status status_;
  std::thread thread_;
};

nlohmann::json LoadJson(OrderLoadResult& load) {
  return {{"acked", load.acked},
          {"lost", load.orders - load.acked},
          {"orders_per_s", load.seconds > 0 ? load.acked / load.seconds : 0},
          {"p50_us", Percentile(load.latencies_us, 0.50)},
          {"p99_us", Percentile(load.latencies_us, 0.99)},
          {"p999_us", Percentile(load.latencies_us, 0.999)}};
}

}  // namespace

StatusOr<std::string> RunTicksBench(const TicksBenchOptions& options) {
  TicksBenchOptions o = options;
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<BenchDir> bench_dir, BenchDir::Create(o.data_dir));
  const std::string& dir = bench_dir->path();
  const BenchInstrument instrument =
      o.instruments_path == TicksBenchOptions{}.instruments_path
          ? PrepareBenchInstruments(dir, o.instruments_path, o.freeze_path)
          : BenchInstrument{};

  // The ticks cover the traded contract and up to o.instruments others, at their master prices;
  // one more priced contract is kept apart as the marker.
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<InstrumentMaster> master,
                         InstrumentMaster::Load(o.instruments_path, o.freeze_path));
  std::shared_ptr<const InstrumentTable> table = master->Snapshot();
  const Instrument* traded = table->FindBySymbol(instrument.symbol);
  if (traded == nullptr) return NotFound(instrument.symbol + " is not in " + o.instruments_path);
  std::vector<TickUpdate> universe;
  const Instrument* marker_instrument = nullptr;
  auto tick_of = [](const Instrument& i) {
    TickUpdate t;
    t.instrument_token = static_cast<uint32_t>(i.instrument_token);
    t.ltp = i.last_price;
    return t;
  };
  universe.push_back(tick_of(*traded));
  for (const Instrument& i : table->instruments()) {
    if (i.last_price.value() <= 0 || &i == traded) continue;
    if (marker_instrument == nullptr) {
      marker_instrument = &i;
    } else if (static_cast<int>(universe.size()) < o.instruments) {
      universe.push_back(tick_of(i));
    }
  }
  if (marker_instrument == nullptr) return NotFound("no priced contract to use as marker");
  TickUpdate marker = tick_of(*marker_instrument);

  auto started =
      BenchEngine::Start(o.wojak_binary, dir, std::string(kBenchEngineConfig) + kTicksConfig,
                         o.instruments_path, o.freeze_path);
  if (!started.ok()) {
    bench_dir->Keep();
    return started.status();
  }
  std::unique_ptr<BenchEngine> engine = std::move(started).value();
  const std::string tick_endpoint = "ipc://" + dir + "/ticks.sock";
  const std::string ticks_db = TickStorePathForDataDir(dir);

  OrderLoadOptions load;
  load.rate = o.rate;
  load.clients = o.clients;
  load.window = o.window;
  // Warm-up (connections, page cache, allocator) so neither measured phase pays for it.
  load.orders = static_cast<uint64_t>(std::min(o.orders, 5000));
  load.id_prefix = "w";
  RunOrderLoad(instrument, engine->endpoint(), load);

  int64_t marker_price = marker.ltp.value();
  auto flood = [&](const std::function<void()>& during) {
    marker.ltp = Paise::FromPaise(++marker_price);  // a value ticks.db has not seen yet
    TickFlood running(tick_endpoint, ticks_db, universe, marker, marker_instrument->tradingsymbol,
                      o.tick_batch, o.publisher_nice);
    during();
    return running.Finish();
  };
  FloodResult alone = flood([] { std::this_thread::sleep_for(std::chrono::seconds(2)); });

  // Idle and flooded phases alternate, so drift in the machine's background load is shared by
  // both figures instead of landing on one of them.
  const int rounds = std::max(1, std::min(o.rounds, o.orders));
  load.orders = static_cast<uint64_t>(o.orders / rounds);
  OrderLoadResult idle, with_ticks;
  FloodResult busy;
  auto add = [](OrderLoadResult& total, OrderLoadResult&& part) {
    total.orders += part.orders;
    total.acked += part.acked;
    total.seconds += part.seconds;
    total.latencies_us.insert(total.latencies_us.end(), part.latencies_us.begin(),
                              part.latencies_us.end());
  };
  for (int round = 0; round < rounds && busy.status.ok(); ++round) {
    load.id_prefix = "i" + std::to_string(round) + "-";
    add(idle, RunOrderLoad(instrument, engine->endpoint(), load));
    load.id_prefix = "t" + std::to_string(round) + "-";
    FloodResult part =
        flood([&] { add(with_ticks, RunOrderLoad(instrument, engine->endpoint(), load)); });
    busy.ticks += part.ticks;
    busy.seconds += part.seconds;
    busy.status = part.status;
  }

  const double rss_mb = engine->RssMb();
  const int exit_code = engine->Stop();
  if (!alone.status.ok()) return alone.status.WithContext("tick flood");
  if (!busy.status.ok()) return busy.status.WithContext("tick flood with orders");

  const double p99_idle = Percentile(idle.latencies_us, 0.99);
  const double p99_ticks = Percentile(with_ticks.latencies_us, 0.99);
  nlohmann::json out = {
      {"ticks_per_s", busy.seconds > 0 ? busy.ticks / busy.seconds : 0},
      {"order_p99_us_idle", p99_idle},
      {"order_p99_us_with_ticks", p99_ticks},
      {"p99_ratio", p99_idle > 0 ? p99_ticks / p99_idle : 0},
      {"ticks_per_s_without_orders", alone.seconds > 0 ? alone.ticks / alone.seconds : 0},
      {"ticks_sent", busy.ticks},
      {"idle", LoadJson(idle)},
      {"with_ticks", LoadJson(with_ticks)},
      {"orders", idle.orders},
      {"rounds", rounds},
      {"rate", o.rate},
      {"clients", o.clients},
      {"tick_batch", o.tick_batch},
      {"tick_instruments", universe.size()},
      {"engine_rss_mb", rss_mb},
      {"engine_exit_code", exit_code}};
  return out.dump();
}

}  // namespace wojak
