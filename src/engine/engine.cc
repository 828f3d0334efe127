// Engine wiring and the sequencer loop with group commit.
#include "engine/engine.h"

#include <malloc.h>
#include <zmq.h>

#include <algorithm>
#include <optional>

#include "common/log.h"
#include "engine/engine_metrics.h"
#include "engine/market.h"
#include "engine/outbox_relay.h"
#include "engine/outbox_sidecar_sink.h"
#include "engine/reload.h"
#include "engine/sequencer.h"
#include "engine/tick_feed.h"
#include "executors/executor.h"
#include "instruments/instrument_master.h"
#include "journal/sqlite_journal.h"
#include "risk/gate.h"
#include "wire/server.h"
#include "wire/transport_security.h"

namespace wojak {

EngineOptions ReadEngineOptions(ConfigSection engine) {
  EngineOptions o;
  o.data_dir = engine.String("data_dir", o.data_dir,
                             "Directory of the journal (wojak.db) and the default IPC socket.");
  o.endpoint = engine.String("endpoint", "",
                             "ZeroMQ endpoint sidecars connect to; empty = "
                             "ipc://<data_dir>/engine.sock. tcp:// needs CURVE across hosts.");
  o.curve_secret_key =
      engine
          .Secret("curve_secret_key",
                  "Z85 CURVE secret key (wojak keygen): tcp:// endpoints become CURVE servers")
          .value_or("");
  o.curve_allowed_clients = engine.StringList(
      "curve_allowed_clients", {},
      "Z85 CURVE public keys of the sidecars allowed to connect (required with curve_secret_key)");
  o.allow_insecure_tcp = engine.Bool(
      "allow_insecure_tcp", false,
      "Serve a plain tcp:// endpoint reachable from other hosts (no CURVE: anyone on the network "
      "could send orders); only for a network secured otherwise");
  o.ipc_group = engine.String(
      "ipc_group", "",
      "Group given the ipc:// socket file (mode 0660) so sidecars in it may connect; empty = the "
      "engine's own group");
  if (!o.curve_secret_key.empty() && o.curve_allowed_clients.empty()) {
    engine.Error("curve_allowed_clients",
                 "list the sidecars' CURVE public keys: without an allowlist anyone who knows the "
                 "engine's public key could send orders");
  }
  if (o.curve_secret_key.empty() && !o.curve_allowed_clients.empty()) {
    engine.Error("curve_allowed_clients", "needs engine.curve_secret_key");
  }
  for (size_t i = 0; i < o.curve_allowed_clients.size(); ++i) {
    if (o.curve_allowed_clients[i].size() != 40) {
      engine.Error("curve_allowed_clients[" + std::to_string(i) + "]",
                   "must be a 40-character Z85 CURVE public key");
    }
  }
  // `wojak config check` reports it too; Init checks again after --endpoint may have changed it.
  if (Status secure = CheckEndpointSecurity("engine.endpoint", o.endpoint,
                                            !o.curve_secret_key.empty(), o.allow_insecure_tcp);
      !secure.ok()) {
    engine.Error("endpoint", secure.message());
  }
  o.instruments_path = engine.String("instruments", o.instruments_path,
                                     "Kite-style instruments CSV (the instrument master).");
  o.freeze_path = engine.String("freeze_limits", o.freeze_path,
                                "Freeze-limit file: SYMBOL,VOL_FRZ_QTY per underlying.");
  o.queue_capacity = static_cast<size_t>(
      engine.Int("queue_capacity", static_cast<int64_t>(o.queue_capacity),
                 "Requests waiting for the sequencer; beyond it clients get RETRY.", 16, 1 << 24));
  o.escalation_timeout = engine.Duration(
      "escalation_timeout", o.escalation_timeout,
      "An ESCALATED order with no verdict by then expires as REJECTED (fail closed).");
  o.drain_timeout = engine.Duration("drain_timeout", o.drain_timeout,
                                    "SIGTERM: longest wait for the last batch before exit.");
  o.verify_on_open = engine.Bool("verify_on_open", o.verify_on_open,
                                 "Check the whole journal hash chain before starting.");
  o.journal_cache_mb = engine.Int(
      "journal_cache_mb", o.journal_cache_mb,
      "SQLite page cache of the journal writer, in MiB. The writer appends and updates recent "
      "orders, so a small cache suffices; it counts fully against the engine's RSS.",
      1, 4096);
  return o;
}

namespace {

JournalInput ToJournalInput(Request&& request) {
  struct Visitor {
    JournalInput operator()(OrderRequest&& r) { return std::move(r); }
    JournalInput operator()(CancelRequest&& r) { return std::move(r); }
    JournalInput operator()(ModifyRequest&& r) { return std::move(r); }
    JournalInput operator()(EscalationVerdict&& r) { return std::move(r); }
    JournalInput operator()(AdminRequest&& r) { return std::move(r); }
    // The transport answers pings itself; one reaching the sequencer is treated as a no-op admin.
    JournalInput operator()(PingRequest&&) { return AdminRequest{AdminAction::kResume, {}, {}}; }
  };
  return std::visit(Visitor{}, std::move(request));
}

class EngineImpl final : public Engine {
 public:
  Status Init(const EngineOptions& options, ConfigDocument& config);
  Status Run(const std::atomic<bool>& stop) override;
  const std::string& endpoint() const override { return server_->endpoint(); }
  EngineStatus status() const override {
    return {ready_.load(), storage_failed_.load(), last_seq_.load(), recovered_.load(),
            reloads_.load()};
  }
  const EngineOptions& options() const override { return options_; }
  TradingStates trading_states() const override {
    std::lock_guard lock(views_mu_);
    return *trading_states_;
  }
  std::shared_ptr<const RiskConfig> risk_config() const override {
    std::lock_guard lock(views_mu_);
    return {published_gate_, &published_gate_->config()};
  }
  StatusOr<ReloadReport> Reload() override;

 private:
  void ProcessBatch(Nanos now);
  void FailBatch(const Status& cause);
  // Sequencer thread: swaps in a staged reload between two batches.
  void ApplyReload(ReloadBundle& bundle);
  // Sequencer thread: publishes the trading states for trading_states().
  void PublishTradingStates();
  void CountReplies();
  void SyncTransportMetrics();
  // Starts the outbox relay and the tick feed (each when enabled).
  Status StartSurfaces(const OutboxOptions& outbox, const TickFeedOptions& ticks);

  EngineOptions options_;
  std::unique_ptr<InstrumentMaster> instruments_;
  std::shared_ptr<const RiskGate> gate_;
  std::unique_ptr<EngineMarket> market_;
  std::unique_ptr<SqliteJournal> journal_;
  std::unique_ptr<Sequencer> sequencer_;
  std::unique_ptr<ZmqServer> server_;
  std::unique_ptr<Executor> executor_;
  MpscQueue<ExecutionReport> reports_{1 << 16};
  std::unique_ptr<OutboxRelay> outbox_relay_;  // null when outbox.enabled is false
  std::unique_ptr<TickFeed> tick_feed_;        // null when ticks.enabled is false

  std::vector<InboundRequest> requests_;
  std::vector<ExecutionReport> report_batch_;
  CommitBatch batch_;
  std::vector<OutboundReply> outbound_;
  Nanos last_now_ = 0;
  std::atomic<bool> ready_{false};
  std::atomic<bool> storage_failed_{false};
  std::atomic<uint64_t> last_seq_{0};
  std::atomic<bool> recovered_{false};
  std::atomic<uint64_t> reloads_{0};

  ReloadSlot reload_slot_;
  EngineMetrics& metrics_ = EngineMetrics::Get();
  EngineMetrics::TransportTotals transport_seen_;
  // The request kind of each reply in batch_.replies, for wojak_decisions_total.
  std::vector<RequestKind> reply_kinds_;

  // What the query API reads, published by the sequencer thread.
  mutable std::mutex views_mu_;
  std::shared_ptr<const RiskGate> published_gate_;
  std::shared_ptr<const TradingStates> trading_states_ = std::make_shared<TradingStates>();
};

Status EngineImpl::Init(const EngineOptions& options, ConfigDocument& config) {
  options_ = options;
  // Before anything is opened: an engine anyone on the network could send orders to never starts.
  WOJAK_RETURN_IF_ERROR(CheckEndpointSecurity("engine.endpoint", options.endpoint,
                                              !options.curve_secret_key.empty(),
                                              options.allow_insecure_tcp));
  ConfigSection root = config.Root();
  RiskConfig risk_config = ReadRiskConfig(root);
  ConfigSection executor_section = root.Section("executor", "Where accepted orders go.");
  std::string executor_kind = executor_section.Enum(
      "kind", options.executor, ExecutorRegistry::Instance().Names(),
      "Executor for accepted orders: sandbox (simulated fills), http, paper.");
  auto executor = ExecutorRegistry::Instance().Create(
      executor_kind, executor_section.Section(executor_kind, "Options of the chosen executor."));
  const OutboxOptions outbox_options = ReadOutboxOptions(root.Section("outbox", kOutboxSectionDoc));
  const TickFeedOptions tick_options = ReadTickFeedOptions(root.Section("ticks", kTicksSectionDoc));
  // Unknown keys are the caller's check (one file may hold every component's sections).
  WOJAK_RETURN_IF_ERROR(config.errors().ToStatus().WithContext("configuration"));
  if (!executor.ok()) return executor.status();
  executor_ = std::move(executor).value();

  WOJAK_ASSIGN_OR_RETURN(instruments_,
                         InstrumentMaster::Load(options.instruments_path, options.freeze_path));
  gate_ = std::make_shared<const RiskGate>(risk_config);
  published_gate_ = gate_;
  market_ = std::make_unique<EngineMarket>(*instruments_, risk_config.reference_price);

  JournalOptions journal_options;
  journal_options.path = JournalPathForDataDir(options.data_dir);
  journal_options.verify_on_open = options.verify_on_open;
  journal_options.tuning.cache_size_kib = static_cast<int>(options.journal_cache_mb * 1024);
  journal_options.vfs = options.journal_vfs;
  WOJAK_ASSIGN_OR_RETURN(journal_, SqliteJournal::Open(journal_options));

  SequencerOptions sequencer_options;
  sequencer_options.escalation_timeout_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options.escalation_timeout).count();
  sequencer_ = std::make_unique<Sequencer>(sequencer_options, *instruments_, *gate_, *market_);
  Nanos replay_start = RealClock::Instance().Monotonic();
  WOJAK_RETURN_IF_ERROR(journal_->Replay(1, [&](const Entry& entry) {
    last_now_ = std::max(last_now_, entry.time_ns);
    return sequencer_->Replay(entry);
  }));
  last_seq_ = sequencer_->last_seq();
  recovered_ = true;
  // Replay decoded every journal entry into temporaries; hand their freed pages back to the OS.
  malloc_trim(0);
  PublishTradingStates();
  metrics_.SetLastSeq(last_seq_);
  LogInfo("journal_replayed",
          {{"entries", sequencer_->last_seq()},
           {"orders", static_cast<uint64_t>(sequencer_->orders().size())},
           {"ms", (RealClock::Instance().Monotonic() - replay_start) / kNanosPerMilli}});

  ZmqServerOptions server_options;
  server_options.endpoint =
      options.endpoint.empty() ? "ipc://" + options.data_dir + "/engine.sock" : options.endpoint;
  server_options.inbound_capacity = options.queue_capacity;
  server_options.curve_secret_key = options.curve_secret_key;
  server_options.curve_allowed_clients = options.curve_allowed_clients;
  server_options.allow_insecure_tcp = options.allow_insecure_tcp;
  server_options.ipc_group = options.ipc_group;
  WOJAK_ASSIGN_OR_RETURN(server_, ZmqServer::Start(server_options));

  executor_->UseLastPrices(
      [this](std::string_view, std::string_view symbol) -> std::optional<LastPrice> {
        // The snapshot keeps the instrument alive across a concurrent reload. Symbols are unique
        // in the master (the engine trades one exchange, NFO).
        const std::shared_ptr<const InstrumentTable> table = instruments_->Snapshot();
        const Instrument* instrument = table->FindBySymbol(symbol);
        if (instrument == nullptr) return std::nullopt;
        auto tick = market_->ticks().Read(instrument->instrument_token);
        if (!tick) return std::nullopt;
        return LastPrice{tick->ltp, tick->timestamp_ns, tick->received_ns};
      });
  ZmqServer* server = server_.get();
  WOJAK_RETURN_IF_ERROR(executor_->Start([this, server](ExecutionReport&& report) {
    if (!reports_.TryPush(std::move(report))) return false;
    server->inbound().Wake();
    return true;
  }));
  WOJAK_RETURN_IF_ERROR(StartSurfaces(outbox_options, tick_options));
  // Reconciliation: accepted orders whose result never made it into the journal are sent again
  // under the same order id, which is the executor's idempotency key.
  std::vector<ExecutionOrder> pending = sequencer_->PendingExecutions();
  for (ExecutionOrder& order : pending) executor_->Submit(std::move(order));
  // The public half sidecars configure as sidecar.curve_server_public_key.
  char curve_public_key[41] = "";
  if (!options.curve_secret_key.empty()) {
    zmq_curve_public(curve_public_key, options.curve_secret_key.c_str());
  }
  LogInfo("engine_ready", {{"endpoint", server_->endpoint()},
                           {"curve_public_key", std::string_view(curve_public_key)},
                           {"executor", executor_->name()},
                           {"reconciled_orders", static_cast<uint64_t>(pending.size())}});
  ready_ = true;
  metrics_.SetReady(true);
  metrics_.SetStorageFailed(false);
  return OkStatus();
}

Status EngineImpl::StartSurfaces(const OutboxOptions& outbox, const TickFeedOptions& ticks) {
  if (ticks.enabled) {
    WOJAK_ASSIGN_OR_RETURN(
        tick_feed_, TickFeed::Start(ticks, options_.data_dir, *instruments_, market_->ticks()));
    tick_feed_->RegisterMetrics(MetricsRegistry::Default());
  }
  if (outbox.enabled) {
    WOJAK_ASSIGN_OR_RETURN(
        std::unique_ptr<OutboxSink> sink,
        outbox.sink == "sidecar" ? MakeSidecarSink(outbox) : MakeWebhookSink(outbox));
    outbox_relay_ = std::make_unique<OutboxRelay>(*journal_, std::move(sink), outbox);
    WOJAK_RETURN_IF_ERROR(outbox_relay_->Start(sequencer_->last_outbox_seq()));
    outbox_relay_->RegisterMetrics(MetricsRegistry::Default());
  }
  return OkStatus();
}

StatusOr<ReloadReport> EngineImpl::Reload() {
  auto bundle =
      PrepareReload(options_.instruments_path, options_.freeze_path, options_.config_path);
  if (!bundle.ok()) {
    metrics_.CountReload(false);
    LogWarn("engine_reload_rejected", {{"error", bundle.status().ToString()}});
    return bundle.status().WithContext("reload rejected, nothing changed");
  }
  ReloadReport report;
  report.instruments = bundle->instruments->size();
  report.limits_reloaded = bundle->gate != nullptr;
  ZmqServer* server = server_.get();
  if (!reload_slot_.Offer(std::move(bundle).value(), std::chrono::seconds(10),
                          [server] { server->inbound().Wake(); })) {
    metrics_.CountReload(false);
    return Unavailable("the sequencer is not running; reload not applied");
  }
  report.instruments_version = instruments_->version();
  metrics_.CountReload(true);
  return report;
}

void EngineImpl::ApplyReload(ReloadBundle& bundle) {
  const bool limits_reloaded = bundle.gate != nullptr;
  instruments_->Replace(std::move(bundle.instruments));
  if (limits_reloaded) {
    gate_ = std::move(bundle.gate);
    sequencer_->set_gate(*gate_);
    market_->set_policy(gate_->config().reference_price);
    std::lock_guard lock(views_mu_);
    published_gate_ = gate_;
  }
  ++reloads_;
  LogInfo("engine_reloaded",
          {{"instruments", static_cast<uint64_t>(instruments_->Snapshot()->size())},
           {"instruments_version", instruments_->version()},
           {"limits_reloaded", limits_reloaded}});
}

void EngineImpl::PublishTradingStates() {
  auto states = std::make_shared<TradingStates>();
  const RiskState& risk = sequencer_->risk_state();
  states->global = risk.global_trading_state();
  for (const auto& [account, state] : risk.accounts()) {
    if (state.trading_state != TradingState::kActive) {
      states->accounts.emplace(account, state.trading_state);
    }
  }
  for (const auto& [strategy, state] : risk.strategies()) {
    if (state.trading_state != TradingState::kActive) {
      states->strategies.emplace(strategy, state.trading_state);
    }
  }
  std::lock_guard lock(views_mu_);
  trading_states_ = std::move(states);
}

Status EngineImpl::Run(const std::atomic<bool>& stop) {
  constexpr auto kIdleWait = std::chrono::milliseconds(20);
  bool draining = false;
  while (true) {
    if (stop.load() && !draining) {
      draining = true;
      server_->StopIntake();
      LogInfo("engine_draining", {{"last_seq", sequencer_->last_seq()}});
    }
    server_->inbound().PopAll(requests_, draining ? std::chrono::nanoseconds(0) : kIdleWait);
    reports_.PopAll(report_batch_, std::chrono::nanoseconds(0));
    reload_slot_.ApplyIfStaged([this](ReloadBundle& bundle) { ApplyReload(bundle); });
    SyncTransportMetrics();
    // Wall time may step backwards (NTP); decisions must see a non-decreasing clock.
    last_now_ = std::max(last_now_, RealClock::Instance().Now());
    ProcessBatch(last_now_);
    if (draining && requests_.empty()) break;
  }
  executor_->Stop();
  server_->Stop();
  if (tick_feed_) tick_feed_->Stop();
  if (outbox_relay_) outbox_relay_->Stop();
  ready_ = false;
  metrics_.SetReady(false);
  LogInfo("engine_stopped", {{"last_seq", sequencer_->last_seq()}});
  return OkStatus();
}

void EngineImpl::ProcessBatch(Nanos now) {
  batch_.Clear();
  if (storage_failed_) {
    FailBatch(Unavailable("journal unavailable after a storage failure; restart the engine"));
    return;
  }
  metrics_.ObserveBatch(requests_.size());
  reply_kinds_.clear();
  for (InboundRequest& request : requests_) {
    const RequestKind kind = RequestKindOf(request.request);
    sequencer_->Handle({std::move(request.routing_id), request.request_id,
                        ToJournalInput(std::move(request.request))},
                       now, batch_);
    reply_kinds_.resize(batch_.replies.size(), kind);
  }
  for (ExecutionReport& report : report_batch_) {
    sequencer_->Handle({"", 0, std::move(report)}, now, batch_);
  }
  sequencer_->ExpireEscalations(now, batch_);
  if (!batch_.entries.empty()) {
    const Nanos commit_start = RealClock::Instance().Monotonic();
    Status committed = journal_->AppendBatch(batch_.entries, batch_.projections);
    metrics_.ObserveCommit(RealClock::Instance().Monotonic() - commit_start, batch_.entries.size());
    if (!committed.ok()) {
      // Nothing of this batch is durable, so nothing of it may be acknowledged: every request
      // is answered RETRY and the engine stops deciding until a restart replays the journal.
      storage_failed_ = true;
      ready_ = false;
      metrics_.CountCommitFailure();
      metrics_.SetStorageFailed(true);
      metrics_.SetReady(false);
      LogError("journal_commit_failed",
               {{"error", committed.ToString()}, {"first_seq", batch_.entries.front().seq}});
      FailBatch(committed);
      return;
    }
    last_seq_ = batch_.entries.back().seq;
    metrics_.SetLastSeq(last_seq_);
    if (outbox_relay_ && !batch_.projections.outbox.empty()) {
      outbox_relay_->Notify(batch_.projections.outbox.back().outbox_seq);
    }
    if (std::any_of(batch_.entries.begin(), batch_.entries.end(),
                    [](const Entry& entry) { return entry.kind == EntryKind::kAdmin; })) {
      PublishTradingStates();
    }
  }
  CountReplies();
  outbound_.clear();
  outbound_.reserve(batch_.replies.size());
  for (PendingReply& reply : batch_.replies) {
    outbound_.push_back(
        {std::move(reply.routing_id), reply.request_id, std::move(reply.decision), {}});
  }
  if (!outbound_.empty()) server_->SendReplies(std::move(outbound_));
  for (ExecutionOrder& order : batch_.dispatches) executor_->Submit(std::move(order));
  for (const std::string& order_id : batch_.withdrawals) executor_->Withdraw(order_id);
}

void EngineImpl::FailBatch(const Status& cause) {
  outbound_.clear();
  auto retry = [&](std::string routing_id, uint64_t request_id) {
    Decision d;
    d.kind = DecisionKind::kRetry;
    d.retry_after_ms = 1000;
    d.reasons.push_back({ReasonCode::k_STORAGE_UNAVAILABLE, cause.message(), ""});
    outbound_.push_back({std::move(routing_id), request_id, std::move(d), {}});
  };
  if (!batch_.replies.empty()) {
    for (size_t i = 0; i < batch_.replies.size(); ++i) {
      retry(std::move(batch_.replies[i].routing_id), batch_.replies[i].request_id);
      metrics_.CountDecision(reply_kinds_[i], outbound_.back().decision);
    }
  } else {
    for (InboundRequest& request : requests_) {
      if (request.routing_id.empty()) continue;
      retry(std::move(request.routing_id), request.request_id);
      metrics_.CountDecision(RequestKindOf(request.request), outbound_.back().decision);
    }
  }
  if (!outbound_.empty()) server_->SendReplies(std::move(outbound_));
}

void EngineImpl::SyncTransportMetrics() {
  const ZmqServerCounters& c = server_->counters();
  metrics_.SyncTransport({c.requests_received.load(std::memory_order_relaxed),
                          c.malformed_frames.load(std::memory_order_relaxed),
                          c.busy_replies.load(std::memory_order_relaxed),
                          c.replies_sent.load(std::memory_order_relaxed),
                          c.unroutable_replies.load(std::memory_order_relaxed),
                          c.dropped_replies.load(std::memory_order_relaxed)},
                         transport_seen_);
}

void EngineImpl::CountReplies() {
  for (size_t i = 0; i < batch_.replies.size(); ++i) {
    metrics_.CountDecision(reply_kinds_[i], batch_.replies[i].decision);
  }
}

}  // namespace

StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options,
                                               ConfigDocument& config) {
  auto engine = std::make_unique<EngineImpl>();
  WOJAK_RETURN_IF_ERROR(engine->Init(options, config));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace wojak
