// MQTT source: persistent session, QoS 1 in, PUBACK only after the decision is out, in order.
#include "sidecar/sources/mqtt/mqtt_source.h"

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "model/order_json.h"

namespace wojak::sidecar::mqtt {

namespace {

using std::chrono::milliseconds;

constexpr char kSourceName[] = "mqtt";
constexpr milliseconds kRefusedPublishRetry{1000};
constexpr milliseconds kStopPollQuantum{50};
constexpr uint32_t kSessionNeverExpires = 0xFFFFFFFF;

Nanos ToNanos(milliseconds duration) { return duration.count() * kNanosPerMilli; }

milliseconds CeilMillis(Nanos nanos) {
  return milliseconds(nanos <= 0 ? 0 : (nanos + kNanosPerMilli - 1) / kNanosPerMilli);
}

std::string Sha256Hex(std::string_view input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

std::string_view DeadLetterKindText(DeadLetterKind kind) {
  switch (kind) {
    case DeadLetterKind::kMalformed:
      return "malformed";
    case DeadLetterKind::kForbidden:
      return "forbidden";
    case DeadLetterKind::kTooManyAttempts:
      return "too_many_attempts";
  }
  return "unknown";
}

// The account a decision is about: the engine's, or the order's own when the engine gave none.
std::string AccountOf(const Decision& decision, const std::string& body) {
  if (!decision.account.empty()) return decision.account;
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    auto it = doc.find("account");
    if (it != doc.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

bool ValidUtf8(std::string_view text) {
  nlohmann::json probe = std::string(text);
  try {
    probe.dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

struct MqttSource::Inbound {
  uint64_t generation = 0;
  uint16_t packet_id = 0;
  uint8_t qos = 0;
  bool settled = false;
  std::string topic;
  std::string response_topic;    // 5.0 request/response
  std::string correlation_data;  // 5.0, echoed on the response
};

struct MqttSource::Metrics {
  explicit Metrics(const std::string& client_id)
      : received_qos0(Family("wojak_mqtt_received_total", "messages received, by QoS", {"qos"})
                          .WithLabels({client_id, "0"})),
        received_qos1(Family("wojak_mqtt_received_total", "messages received, by QoS", {"qos"})
                          .WithLabels({client_id, "1"})),
        redelivered(Family("wojak_mqtt_redelivered_total",
                           "messages the broker marked DUP (sent again after a reconnect)", {})
                        .WithLabels({client_id})),
        decisions_published(Family("wojak_mqtt_decisions_published_total",
                                   "decisions published to <prefix>/decisions/<account>", {})
                                .WithLabels({client_id})),
        dead_letters_published(Family("wojak_mqtt_dead_letters_published_total",
                                      "messages published to <prefix>/dead-letter", {})
                                   .WithLabels({client_id})),
        publish_refused(Family("wojak_mqtt_publish_refused_total",
                               "publishes the broker refused (5.0 reason >= 0x80)", {})
                            .WithLabels({client_id})),
        link_failures(Family("wojak_mqtt_link_failures_total",
                             "connections lost or refused (each followed by a reconnect)", {})
                          .WithLabels({client_id})),
        sessions_lost(Family("wojak_mqtt_sessions_lost_total",
                             "reconnects where the broker no longer had our session (messages "
                             "it held for us may be gone)",
                             {})
                          .WithLabels({client_id})),
        stale_settlements(Family("wojak_mqtt_stale_settlements_total",
                                 "acks/nacks for messages of a connection since lost (the broker "
                                 "sends them again)",
                                 {})
                              .WithLabels({client_id})),
        unacked(MetricsRegistry::Default()
                    .AddGaugeFamily("wojak_mqtt_unacked",
                                    "QoS 1 messages received and not yet acknowledged (PUBACK)",
                                    {"client_id"})
                    .WithLabels({client_id})) {}

  static CounterFamily Family(const std::string& name, const std::string& help,
                              std::vector<std::string> extra_labels) {
    std::vector<std::string> labels = {"client_id"};
    labels.insert(labels.end(), extra_labels.begin(), extra_labels.end());
    return MetricsRegistry::Default().AddCounterFamily(name, help, labels);
  }

  Counter& received_qos0;
  Counter& received_qos1;
  Counter& redelivered;
  Counter& decisions_published;
  Counter& dead_letters_published;
  Counter& publish_refused;
  Counter& link_failures;
  Counter& sessions_lost;
  Counter& stale_settlements;
  Gauge& unacked;
};

MqttClientOptions ReadMqttClientOptions(ConfigSection& section, std::string_view default_client_id,
                                        std::string_view client_id_doc) {
  MqttClientOptions defaults;
  MqttClientOptions client;
  client.host = section.String("host", defaults.host, "broker host name or address");
  client.port = static_cast<uint16_t>(
      section.Int("port", defaults.port, "broker port (8883 is customary with TLS)", 1, 65535));
  const std::string protocol =
      section.Enum("protocol", "3.1.1", {"3.1.1", "5"}, "MQTT protocol version");
  client.version = protocol == "5" ? MqttVersion::k5 : MqttVersion::k311;
  client.client_id = section.String("client_id", std::string(default_client_id), client_id_doc);
  if (client.client_id.empty() || client.client_id.size() > 128) {
    section.Error("client_id", "must be 1-128 characters");
  }
  const std::string username = section.String("username", "", "user name (empty = none)");
  if (!username.empty()) client.username = username;
  std::optional<std::string> password =
      section.Secret("password", "password (environment variable or password_file; optional)");
  if (password) {
    RegisterSecret(*password);
    client.password = std::move(*password);
  }
  client.keep_alive = std::chrono::duration_cast<std::chrono::seconds>(section.Duration(
      "keep_alive", defaults.keep_alive,
      "keep-alive interval (whole seconds); a broker silent this long is presumed gone"));
  if (client.keep_alive.count() < 1 || client.keep_alive.count() > 65535) {
    section.Error("keep_alive", "must be 1s to 65535s");
  }
  const milliseconds session_expiry = section.Duration(
      "session_expiry", std::chrono::hours(24 * 7),
      "5.0: how long the broker keeps our session while we are away (0 = forever)");
  client.session_expiry_seconds =
      session_expiry.count() == 0
          ? kSessionNeverExpires
          : static_cast<uint32_t>(std::min<int64_t>(
                std::chrono::duration_cast<std::chrono::seconds>(session_expiry).count(),
                kSessionNeverExpires - 1));
  client.receive_maximum = static_cast<uint16_t>(section.Int(
      "receive_maximum", 1024,
      "5.0: unacknowledged messages the broker may send us at once (set it to sidecar.window; "
      "3.1.1 brokers use their own limit, mosquitto's max_inflight_messages)",
      1, 65535));
  client.connect_timeout = section.Duration("connect_timeout", defaults.connect_timeout,
                                            "TCP connect, TLS, CONNECT and SUBSCRIBE time limit");
  client.max_packet_size = static_cast<size_t>(
      section.Int("max_packet_size", static_cast<int64_t>(defaults.max_packet_size),
                  "largest packet accepted from the broker", 1024, 256 * 1024 * 1024));

  ConfigSection tls = section.Section("tls", "TLS to the broker (mqtts)");
  client.tls.enabled = tls.Bool("enabled", false, "connect with TLS (1.2 or later)");
  client.tls.ca_file =
      tls.String("ca_file", "", "PEM CA bundle for the broker's certificate (empty = system)");
  client.tls.cert_file =
      tls.String("cert_file", "", "PEM client certificate for mutual TLS (empty = none)");
  client.tls.key_file = tls.String("key_file", "", "PEM client private key, with cert_file");
  client.tls.verify_peer =
      tls.Bool("verify_peer", true, "check the broker's certificate against the CA");
  client.tls.verify_hostname =
      tls.Bool("verify_hostname", true, "check that the certificate names `host`");
  if (client.tls.cert_file.empty() != client.tls.key_file.empty()) {
    tls.Error("key_file", "cert_file and key_file go together");
  }
  return client;
}

MqttSourceOptions ReadMqttSourceOptions(ConfigSection& section) {
  MqttSourceOptions defaults;
  MqttSourceOptions options;
  options.client = ReadMqttClientOptions(
      section, "wojak-sidecar",
      "fixed client id: the broker keeps the session (subscriptions and unacknowledged orders) "
      "under it; two sidecars must never share one");
  if (section.Bool("clean_session", false,
                   "must stay false: a clean session drops the orders the broker holds for us")) {
    section.Error("clean_session",
                  "refused: unacknowledged orders would be discarded on every reconnect");
  }
  options.topics = section.StringList("topics", defaults.topics,
                                      "topic filters carrying orders (subscribed at QoS 1)");
  options.cancel_topics = section.StringList(
      "cancel_topics", defaults.cancel_topics,
      "topic filters carrying cancels ({\"account\":..,\"client_order_id\":..})");
  if (options.topics.empty()) section.Error("topics", "list at least one topic filter");
  for (const auto* list : {&options.topics, &options.cancel_topics}) {
    for (const std::string& filter : *list) {
      if (!ValidTopicFilter(filter)) {
        section.Error(list == &options.topics ? "topics" : "cancel_topics",
                      "'" + filter + "' is not a valid topic filter");
      }
    }
  }
  options.topic_prefix =
      section.String("topic_prefix", defaults.topic_prefix,
                     "decisions are published to <prefix>/decisions/<account>, dead letters to "
                     "<prefix>/dead-letter");
  if (!ValidTopicName(options.topic_prefix)) {
    section.Error("topic_prefix", "must be a topic name without wildcards");
  }
  options.retain_decisions = section.Bool(
      "retain_decisions", defaults.retain_decisions,
      "publish decisions retained (the last decision per account stays on the broker)");
  options.reconnect_initial = section.Duration(
      "reconnect_initial", defaults.reconnect_initial,
      "first delay before reconnecting to the broker (doubles up to reconnect_max)");
  options.reconnect_max =
      section.Duration("reconnect_max", defaults.reconnect_max, "longest reconnect delay");
  options.publish_timeout = section.Duration(
      "publish_timeout", defaults.publish_timeout,
      "a decision not acknowledged by the broker within this: the connection is rebuilt");
  if (options.reconnect_initial.count() <= 0)
    section.Error("reconnect_initial", "must be positive");
  if (options.reconnect_max < options.reconnect_initial) {
    section.Error("reconnect_max", "must not be below reconnect_initial");
  }
  if (options.publish_timeout.count() <= 0) section.Error("publish_timeout", "must be positive");
  return options;
}

std::string MqttIdentity(std::string_view topic, std::string_view message_id,
                         std::string_view payload) {
  std::string identity = "mqtt:";
  identity += topic;
  if (!message_id.empty()) {
    identity += ":id:";
    identity += message_id;
  } else {
    identity += ":sha256:";
    identity += Sha256Hex(payload);
  }
  return identity;
}

std::string DecisionTopic(std::string_view prefix, std::string_view account) {
  std::string topic(prefix);
  topic += "/decisions/";
  if (account.empty()) {
    topic += "_unknown";
    return topic;
  }
  for (char c : account) topic.push_back(c == '/' || c == '+' || c == '#' || c == '\0' ? '_' : c);
  return topic;
}

StatusOr<std::unique_ptr<Source>> MqttSource::Create(ConfigSection& section,
                                                     const SourceContext& /*context*/) {
  return std::unique_ptr<Source>(std::make_unique<MqttSource>(ReadMqttSourceOptions(section)));
}

MqttSource::MqttSource(MqttSourceOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      metrics_(std::make_unique<Metrics>(options_.client.client_id)) {}

MqttSource::~MqttSource() { Stop(); }

Status MqttSource::Start() {
  Status status = Connect();
  if (status.ok()) return status;
  // An unreachable broker is waited for (with backoff); refused credentials or topics are fatal.
  if (status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded) {
    TearDown(status);
    return OkStatus();
  }
  return status;
}

Status MqttSource::Connect() {
  MqttClientOptions client_options = options_.client;
  client_options.clean_start = false;
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<MqttClient> client, MqttClient::Connect(client_options));
  const bool resumed = client->session_present();
  std::vector<std::string> filters = options_.topics;
  filters.insert(filters.end(), options_.cancel_topics.begin(), options_.cancel_topics.end());
  WOJAK_RETURN_IF_ERROR(client->Subscribe(filters, 1, options_.client.connect_timeout));
  client_ = std::move(client);
  if (!resumed && generation_ > 0) {
    metrics_->sessions_lost.Increment();
    LogWarn("mqtt_session_lost",
            {{"client_id", options_.client.client_id},
             {"detail",
              "the broker had no session for us: orders it held unacknowledged for us are gone "
              "unless their publishers send them again (check broker persistence and "
              "session expiry)"}});
  }
  ++generation_;
  reconnect_delay_ = milliseconds(0);
  LogInfo("mqtt_connected", {{"client_id", options_.client.client_id},
                             {"host", options_.client.host},
                             {"port", static_cast<int64_t>(options_.client.port)},
                             {"session_present", resumed},
                             {"generation", generation_}});
  return OkStatus();
}

void MqttSource::TearDown(const Status& why) {
  const bool was_connected = client_ != nullptr;
  client_.reset();  // no DISCONNECT: the broker keeps the session and what is unacknowledged
  metrics_->link_failures.Increment();
  const size_t left = unacked_.size() + ready_.size();
  unacked_.clear();
  ready_.clear();
  held_.clear();
  settlements_.clear();
  settlement_by_packet_.clear();
  metrics_->unacked.Set(0);
  reconnect_delay_ = reconnect_delay_.count() == 0
                         ? options_.reconnect_initial
                         : std::min(reconnect_delay_ * 2, options_.reconnect_max);
  reconnect_at_ = clock_.Monotonic() + ToNanos(reconnect_delay_);
  LogWarn(was_connected ? "mqtt_link_lost" : "mqtt_connect_failed",
          {{"client_id", options_.client.client_id},
           {"error", why.ToString()},
           {"left_to_redelivery", left},
           {"retry_in_ms", reconnect_delay_.count()}});
}

std::shared_ptr<MqttSource::Inbound> MqttSource::Current(const Message& message) {
  auto inbound = std::static_pointer_cast<Inbound>(message.handle);
  if (inbound == nullptr) return nullptr;
  if (client_ == nullptr || inbound->generation != generation_) {
    metrics_->stale_settlements.Increment();
    return nullptr;
  }
  return inbound;
}

void MqttSource::Received(PublishPacket publish) {
  auto inbound = std::make_shared<Inbound>();
  inbound->generation = generation_;
  inbound->packet_id = publish.packet_id;
  inbound->qos = publish.qos;
  inbound->topic = publish.topic;
  inbound->response_topic = publish.properties.response_topic;
  inbound->correlation_data = publish.properties.correlation_data;
  if (publish.qos == 1) {
    unacked_.push_back(inbound);
    metrics_->received_qos1.Increment();
  } else {
    metrics_->received_qos0.Increment();
    if (!warned_qos0_) {
      warned_qos0_ = true;
      LogWarn("mqtt_qos0_order", {{"topic", publish.topic},
                                  {"detail",
                                   "an order arrived at QoS 0 (at most once): the broker keeps "
                                   "no copy, so a crash before the decision loses it; publish "
                                   "orders at QoS 1"}});
    }
  }
  if (publish.dup) metrics_->redelivered.Increment();
  LogDebug("mqtt_received", {{"topic", publish.topic},
                             {"packet_id", static_cast<int64_t>(publish.packet_id)},
                             {"qos", static_cast<int64_t>(publish.qos)},
                             {"dup", publish.dup}});
  Message message;
  message.kind =
      std::any_of(options_.cancel_topics.begin(), options_.cancel_topics.end(),
                  [&](const std::string& filter) { return TopicMatches(filter, publish.topic); })
          ? MessageKind::kCancel
          : MessageKind::kNewOrder;
  message.identity =
      MqttIdentity(publish.topic, publish.properties.UserProperty("message_id"), publish.payload);
  message.body = std::move(publish.payload);
  message.delivery_attempt = publish.dup ? 2 : 1;
  message.handle = std::move(inbound);
  ready_.push_back(std::move(message));
  metrics_->unacked.Set(static_cast<double>(unacked_.size()));
}

void MqttSource::Acknowledged(const PubackPacket& puback) {
  auto by_packet = settlement_by_packet_.find(puback.packet_id);
  if (by_packet == settlement_by_packet_.end()) return;
  auto it = settlements_.find(by_packet->second);
  settlement_by_packet_.erase(by_packet);
  if (it == settlements_.end()) return;
  Settlement& settlement = it->second;
  if (puback.reason_code >= 0x80) settlement.refused = true;
  if (--settlement.outstanding > 0) return;
  Settlement done = std::move(settlement);
  settlements_.erase(it);
  if (done.refused) {
    // Not delivered: hand the order out again; the engine answers DUPLICATE and the decision
    // is published once more. The original stays unacknowledged meanwhile.
    metrics_->publish_refused.Increment();
    LogError("mqtt_publish_refused", {{"client_id", options_.client.client_id},
                                      {"topic", done.inbound->topic},
                                      {"reason", static_cast<int64_t>(puback.reason_code)}});
    Message again = std::move(done.message);
    ++again.delivery_attempt;
    Hold(std::move(again), kRefusedPublishRetry);
    return;
  }
  MarkSettled(*done.inbound);
}

void MqttSource::MarkSettled(Inbound& inbound) {
  if (client_ == nullptr || inbound.generation != generation_) return;
  inbound.settled = true;
  FlushAcks();
}

void MqttSource::FlushAcks() {
  // MQTT requires PUBACKs in the order the PUBLISHes arrived: a settled message waits behind
  // an earlier one still undecided.
  while (client_ != nullptr && !unacked_.empty() && unacked_.front()->settled) {
    Status status = client_->Puback(unacked_.front()->packet_id);
    if (!status.ok()) {
      TearDown(status);
      return;
    }
    unacked_.pop_front();
  }
  metrics_->unacked.Set(static_cast<double>(unacked_.size()));
}

void MqttSource::Hold(Message message, milliseconds delay) {
  held_.emplace(clock_.Monotonic() + ToNanos(delay), std::move(message));
}

void MqttSource::ReleaseHeld(Nanos now) {
  while (!held_.empty() && held_.begin()->first <= now) {
    ready_.push_back(std::move(held_.begin()->second));
    held_.erase(held_.begin());
  }
}

void MqttSource::Pump(milliseconds max_wait) {
  if (client_ == nullptr) return;
  StatusOr<std::vector<MqttEvent>> events = client_->Read(max_wait);
  if (!events.ok()) {
    TearDown(events.status());
    return;
  }
  for (MqttEvent& event : *events) {
    if (event.kind == MqttEvent::Kind::kPublish) {
      if (!intake_stopped_) Received(std::move(event.publish));
    } else {
      Acknowledged(event.puback);
    }
    if (client_ == nullptr) return;
  }
  if (client_->oldest_unacked_age() > options_.publish_timeout) {
    TearDown(DeadlineExceeded("a publish was not acknowledged within " +
                              std::to_string(options_.publish_timeout.count()) + " ms"));
  }
}

StatusOr<std::vector<Message>> MqttSource::Poll(size_t max_messages, milliseconds max_wait) {
  std::vector<Message> out;
  Nanos now = clock_.Monotonic();
  if (client_ == nullptr) {
    if (now < reconnect_at_) {
      std::this_thread::sleep_for(std::min(max_wait, CeilMillis(reconnect_at_ - now)));
      return out;
    }
    Status status = Connect();
    if (!status.ok()) {
      TearDown(status);
      return out;
    }
  }
  ReleaseHeld(now);
  milliseconds wait = ready_.empty() ? max_wait : milliseconds(0);
  if (!held_.empty()) wait = std::min(wait, CeilMillis(held_.begin()->first - now));
  Pump(wait);
  ReleaseHeld(clock_.Monotonic());
  if (intake_stopped_) {
    ready_.clear();  // left unacknowledged: the broker sends them again after a reconnect
    return out;
  }
  while (!ready_.empty() && out.size() < max_messages) {
    out.push_back(std::move(ready_.front()));
    ready_.pop_front();
  }
  return out;
}

MqttOutgoing MqttSource::DecisionMessage(const std::string& topic, const std::string& payload,
                                         const Inbound& inbound) const {
  MqttOutgoing out;
  out.topic = topic;
  out.payload = payload;
  out.qos = 1;
  out.properties.content_type = "application/json";
  out.properties.payload_format_indicator = 1;
  out.properties.correlation_data = inbound.correlation_data;
  return out;
}

Status MqttSource::PublishThen(std::shared_ptr<Inbound> inbound, const Message& message,
                               std::vector<MqttOutgoing> publishes) {
  if (publishes.empty()) {
    MarkSettled(*inbound);
    return OkStatus();
  }
  const uint64_t id = next_settlement_++;
  Settlement settlement;
  settlement.inbound = inbound;
  settlement.message = message;
  for (const MqttOutgoing& publish : publishes) {
    StatusOr<uint16_t> packet_id = client_->Publish(publish);
    if (!packet_id.ok()) {
      TearDown(packet_id.status());
      return packet_id.status();
    }
    settlement_by_packet_[*packet_id] = id;
    ++settlement.outstanding;
  }
  settlements_.emplace(id, std::move(settlement));
  return OkStatus();
}

Status MqttSource::Ack(const Message& message, const Decision& decision) {
  std::shared_ptr<Inbound> inbound = Current(message);
  if (inbound == nullptr) return OkStatus();
  const std::string payload = DecisionToJson(decision);
  std::vector<MqttOutgoing> publishes;
  MqttOutgoing event = DecisionMessage(
      DecisionTopic(options_.topic_prefix, AccountOf(decision, message.body)), payload, *inbound);
  event.retain = options_.retain_decisions;
  publishes.push_back(std::move(event));
  if (!inbound->response_topic.empty() && ValidTopicName(inbound->response_topic)) {
    publishes.push_back(DecisionMessage(inbound->response_topic, payload, *inbound));
  }
  metrics_->decisions_published.Increment();
  return PublishThen(std::move(inbound), message, std::move(publishes));
}

Status MqttSource::Nack(const Message& message, milliseconds delay) {
  std::shared_ptr<Inbound> inbound = Current(message);
  if (inbound == nullptr) return OkStatus();
  LogDebug("mqtt_message_nacked", {{"topic", inbound->topic},
                                   {"identity", message.identity},
                                   {"attempt", static_cast<int64_t>(message.delivery_attempt)},
                                   {"delay_ms", delay.count()}});
  // MQTT has no negative acknowledgement: the message stays unacknowledged with the broker
  // (so a crash still gets it redelivered) and is handed out again after the delay.
  Message again = message;
  ++again.delivery_attempt;
  Hold(std::move(again), delay);
  return OkStatus();
}

Status MqttSource::DeadLetter(const Message& message, const DeadLetterInfo& info) {
  std::shared_ptr<Inbound> inbound = Current(message);
  if (inbound == nullptr) return OkStatus();
  nlohmann::json envelope = {{"reason", info.reason},
                             {"kind", DeadLetterKindText(info.kind)},
                             {"topic", inbound->topic},
                             {"identity", message.identity},
                             {"payload_base64", Base64(message.body)}};
  if (ValidUtf8(message.body)) envelope["payload"] = message.body;
  MqttOutgoing dead;
  dead.topic = options_.topic_prefix + "/dead-letter";
  dead.payload = envelope.dump();
  dead.qos = 1;
  dead.properties.content_type = "application/json";
  dead.properties.user_properties = {{"reason", info.reason},
                                     {"kind", std::string(DeadLetterKindText(info.kind))},
                                     {"topic", inbound->topic}};
  std::vector<MqttOutgoing> publishes;
  publishes.push_back(std::move(dead));
  metrics_->dead_letters_published.Increment();

  nlohmann::json answer = DecisionToJsonValue(info.decision);
  answer["error"] = info.reason;
  const std::string account = AccountOf(info.decision, message.body);
  if (!account.empty()) {
    publishes.push_back(
        DecisionMessage(DecisionTopic(options_.topic_prefix, account), answer.dump(), *inbound));
  }
  if (!inbound->response_topic.empty() && ValidTopicName(inbound->response_topic)) {
    publishes.push_back(DecisionMessage(inbound->response_topic, answer.dump(), *inbound));
  }
  return PublishThen(std::move(inbound), message, std::move(publishes));
}

void MqttSource::StopIntake() { intake_stopped_ = true; }

void MqttSource::Stop() {
  if (client_ != nullptr) {
    const Nanos deadline = clock_.Monotonic() + ToNanos(options_.publish_timeout);
    while (client_ != nullptr && !settlements_.empty() && clock_.Monotonic() < deadline) {
      Pump(kStopPollQuantum);
    }
    FlushAcks();
    // DISCONNECT: the broker keeps the session and resends what is still unacknowledged.
    if (client_ != nullptr) client_->Disconnect();
  }
  client_.reset();
  unacked_.clear();
  ready_.clear();
  held_.clear();
  settlements_.clear();
  settlement_by_packet_.clear();
}

WOJAK_REGISTER_SOURCE(kSourceName, MqttSource::Create);

}  // namespace wojak::sidecar::mqtt
