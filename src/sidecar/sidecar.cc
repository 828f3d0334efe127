// `wojak sidecar`: configuration, source construction and the pipeline's lifetime.
#include "sidecar/sidecar.h"

#include <memory>

#include "common/clock.h"
#include "common/log.h"
#include "sidecar/outbox_server.h"
#include "sidecar/registry.h"
#include "wire/transport_security.h"
#include "wojak/client.h"

namespace wojak::sidecar {
namespace {

constexpr std::string_view kSourcesDoc =
    "one section per source (sources.<name>), read by `wojak sidecar --source <name>`";
constexpr std::string_view kOutboxDoc =
    "where this source's sidecar publishes the engine's outbox rows (with sidecar.outbox_endpoint)";

std::string LinkedSources() {
  std::string names;
  for (const std::string& name : SourceRegistry::Names()) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names.empty() ? "none" : names;
}

}  // namespace

PipelineOptions ReadPipelineOptions(ConfigSection section) {
  PipelineOptions defaults;
  PipelineOptions options;
  options.default_endpoint = section.String(
      "endpoint", defaults.default_endpoint,
      "engine endpoint (ipc://PATH or tcp://HOST:PORT) for accounts not in sidecar.shards");
  ConfigSection shards = section.Section(
      "shards", "account -> engine endpoint of the shard that owns it (default: none)");
  for (const std::string& account : shards.MapKeys()) {
    options.shard_map[account] = shards.String(account, "", "engine endpoint owning this account");
    if (options.shard_map[account].empty()) shards.Error(account, "endpoint must not be empty");
  }
  options.window = static_cast<int>(section.Int(
      "window", defaults.window,
      "requests in flight to one engine before the source stops being polled", 1, 65536));
  options.request_timeout = section.Duration(
      "request_timeout", defaults.request_timeout,
      "no reply within this: the engine is presumed stuck, its in-flight messages are nacked and "
      "the connection is rebuilt");
  options.max_attempts = static_cast<int>(section.Int(
      "max_attempts", defaults.max_attempts,
      "a message whose request timed out on this many broker deliveries is dead-lettered "
      "(sources that report delivery counts)",
      1, 1000000));
  options.backoff_initial =
      section.Duration("backoff_initial", defaults.backoff_initial,
                       "nack delay for a first delivery; doubles with each redelivery");
  options.backoff_max = section.Duration("backoff_max", defaults.backoff_max,
                                         "upper bound of the nack and reconnect delays");
  options.heartbeat_interval = section.Duration(
      "heartbeat_interval", defaults.heartbeat_interval,
      "an engine silent this long is pinged; no pong within request_timeout marks it down");
  options.reconnect_interval = section.Duration(
      "reconnect_interval", defaults.reconnect_interval,
      "first delay before reconnecting to an engine that is down (doubles up to 2 s)");
  options.drain_timeout =
      section.Duration("drain_timeout", defaults.drain_timeout,
                       "on SIGTERM, how long to wait for replies to requests already in flight");
  options.idle_poll_wait = section.Duration(
      "idle_poll_wait", defaults.idle_poll_wait,
      "longest a poll of an idle source blocks (bounds heartbeat and timeout handling)");
  options.curve_server_public_key =
      section.String("curve_server_public_key", "",
                     "engine's CURVE public key (Z85) for tcp:// across hosts; empty = plain");
  options.curve_client_public_key =
      section.String("curve_client_public_key", "", "this sidecar's CURVE public key (Z85)");
  options.curve_client_secret_key =
      section.Secret("curve_client_secret_key", "this sidecar's CURVE secret key (Z85)")
          .value_or("");
  options.allow_insecure_tcp = section.Bool(
      "allow_insecure_tcp", false,
      "connect to a plain tcp:// engine on another host (no CURVE: orders and decisions cross "
      "the network in clear, and anyone there could pose as the engine)");
  // Orders must not cross the network in clear, nor go to whoever answers on that address.
  const bool curve = !options.curve_server_public_key.empty();
  if (Status secure = CheckEndpointSecurity("sidecar.endpoint", options.default_endpoint, curve,
                                            options.allow_insecure_tcp);
      !secure.ok()) {
    section.Error("endpoint", secure.message());
  }
  for (const auto& [account, endpoint] : options.shard_map) {
    if (Status secure = CheckEndpointSecurity("sidecar.shards." + account, endpoint, curve,
                                              options.allow_insecure_tcp);
        !secure.ok()) {
      shards.Error(account, secure.message());
    }
  }
  if (options.request_timeout.count() <= 0) section.Error("request_timeout", "must be positive");
  if (options.backoff_max < options.backoff_initial) {
    section.Error("backoff_max", "must not be below backoff_initial");
  }
  return options;
}

Status RunSidecar(ConfigDocument& config, std::string_view source_name,
                  const std::atomic<bool>& stop, const SidecarOverrides& overrides) {
  ConfigSection root = config.Root();
  ConfigSection sidecar_section = root.Section("sidecar", "the sidecar pipeline (any source)");
  PipelineOptions options = ReadPipelineOptions(sidecar_section);
  const OutboxServerOptions outbox_options = ReadOutboxServerOptions(sidecar_section);
  if (!overrides.endpoint.empty()) {
    options.default_endpoint = overrides.endpoint;
    WOJAK_RETURN_IF_ERROR(CheckEndpointSecurity("--endpoint", options.default_endpoint,
                                                !options.curve_server_public_key.empty(),
                                                options.allow_insecure_tcp));
  }

  const SourceFactory* factory = SourceRegistry::Find(source_name);
  if (factory == nullptr) {
    return NotFound("no source named '" + std::string(source_name) +
                    "' is linked into this binary (linked: " + LinkedSources() + ")");
  }
  ConfigSection section =
      root.Section("sources", kSourcesDoc).Section(source_name, "this source's settings");
  auto engine_available = std::make_shared<std::atomic<bool>>(false);
  SourceContext context{std::string(source_name), engine_available};
  StatusOr<std::unique_ptr<Source>> source = (*factory)(section, context);
  StatusOr<std::unique_ptr<OutboxPublisher>> publisher{std::unique_ptr<OutboxPublisher>()};
  if (!outbox_options.endpoint.empty()) {
    publisher = MakeOutboxPublisher(source_name, section.Section("outbox", kOutboxDoc));
  }
  WOJAK_RETURN_IF_ERROR(config.errors().ToStatus());
  if (!source.ok()) return source.status();
  if (!publisher.ok()) return publisher.status();

  WOJAK_RETURN_IF_ERROR((*source)->Start().WithContext("starting source"));
  std::unique_ptr<OutboxServer> outbox_server;
  if (*publisher != nullptr) {
    StatusOr<std::unique_ptr<OutboxServer>> started =
        OutboxServer::Start(outbox_options, std::move(*publisher), std::string(source_name),
                            MetricsRegistry::Default());
    if (!started.ok()) {
      (*source)->Stop();
      return started.status();
    }
    outbox_server = std::move(started).value();
  }
  LogInfo("sidecar_started", {{"source", source_name},
                              {"endpoint", options.default_endpoint},
                              {"shards", options.shard_map.size()},
                              {"window", options.window}});
  Pipeline pipeline(**source, std::string(source_name), options, &EngineClient::Connect,
                    RealClock::Instance(), engine_available);
  Status status = pipeline.Run(stop);
  if (outbox_server) outbox_server->Stop();
  (*source)->Stop();
  const PipelineCounters& counters = pipeline.counters();
  LogInfo("sidecar_stopped", {{"source", source_name},
                              {"received", counters.received.load()},
                              {"acked", counters.acked.load()},
                              {"nacked", counters.nacked.load()},
                              {"dead_lettered", counters.dead_lettered.load()}});
  return status;
}

void ReadSidecarConfig(ConfigDocument& config) {
  ConfigSection root = config.Root();
  ConfigSection sidecar_section = root.Section("sidecar", "the sidecar pipeline (any source)");
  ReadPipelineOptions(sidecar_section);
  ReadOutboxServerOptions(sidecar_section);
  ConfigSection sources = root.Section("sources", kSourcesDoc);
  for (const std::string& name : SourceRegistry::Names()) {
    // Only sections present: an unused source's required keys are not this file's problem.
    if (!sources.Has(name)) continue;
    ConfigSection section = sources.Section(name, "this source's settings");
    SourceContext context{name};
    (*SourceRegistry::Find(name))(section, context).status().IgnoreError();
    if (section.Has("outbox")) {
      StatusOr<std::unique_ptr<OutboxPublisher>> publisher =
          MakeOutboxPublisher(name, section.Section("outbox", kOutboxDoc));
      if (!publisher.ok()) section.Error("outbox", publisher.status().message());
    }
  }
}

}  // namespace wojak::sidecar
