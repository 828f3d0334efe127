// Kafka source on librdkafka. Everything runs on the pipeline thread: consumer callbacks
// (rebalance, commit, error) are served inside rd_kafka_consumer_poll, producer delivery reports
// inside KafkaPublisher::Serve, so partition state needs no lock.
#include "sidecar/sources/kafka/kafka_source.h"

#include <algorithm>

#include "common/log.h"
#include "model/order_json.h"

namespace wojak::sidecar::kafka {

using std::chrono::milliseconds;

namespace {

constexpr milliseconds kLagInterval{1000};
// A reply or dead letter the broker refused: try the message again after this.
constexpr milliseconds kRepublishDelay{1000};
constexpr milliseconds kSeekTimeout{5000};
constexpr milliseconds kSeekRetry{100};
constexpr milliseconds kCloseFlushTimeout{5000};

Nanos ToNanos(milliseconds duration) { return duration.count() * kNanosPerMilli; }

std::string_view DeadLetterKindName(DeadLetterKind kind) {
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

std::string Describe(const rd_kafka_topic_partition_list_t* list) {
  std::string text;
  for (int i = 0; i < list->cnt; ++i) {
    if (!text.empty()) text += ",";
    text += std::string(list->elems[i].topic) + "/" + std::to_string(list->elems[i].partition);
  }
  return text;
}

std::string ErrorText(rd_kafka_error_t* error) {
  std::string text = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  return text;
}

std::optional<std::string> Header(const rd_kafka_message_t* message, std::string_view name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, std::string(name).c_str(), &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string(static_cast<const char*>(value), size);
}

}  // namespace

struct KafkaSource::Partition {
  enum class State : uint8_t {
    kAssigned,
    kRevoking,  // the group took it away; waiting for in-flight replies before release
  };
  std::string topic;
  int32_t partition = 0;
  State state = State::kAssigned;
  OffsetTracker tracker;
  bool paused = false;             // by a nack (or a revoke): nothing is fetched
  std::optional<int64_t> seek_to;  // where fetching resumes once `resume_at` passes
  Nanos resume_at = 0;
  std::optional<int64_t> committed;  // last commit point sent to the broker
};

struct KafkaSource::MessageHandle {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  uint64_t token = 0;
  std::string key;
};

KafkaSourceMetrics::KafkaSourceMetrics(MetricsRegistry& registry)
    : received(registry.AddCounter("wojak_kafka_messages_received_total",
                                   "messages fetched from Kafka and handed to the pipeline")),
      acked(registry.AddCounter("wojak_kafka_messages_acked_total",
                                "messages settled after the engine's decision")),
      nacked(registry.AddCounter("wojak_kafka_messages_nacked_total",
                                 "messages sent back (partition paused and rewound)")),
      dead_lettered(registry.AddCounter("wojak_kafka_messages_dead_lettered_total",
                                        "messages moved to the dead-letter topic")),
      rebalances(registry.AddCounter("wojak_kafka_rebalances_total",
                                     "partition assignments and revocations")),
      commits(registry.AddCounter("wojak_kafka_commits_total", "offset commits sent")),
      commit_failures(
          registry.AddCounter("wojak_kafka_commit_failures_total", "offset commits refused")),
      in_flight(registry.AddGauge("wojak_kafka_messages_in_flight",
                                  "messages handed to the pipeline and not yet settled")),
      lag(registry.AddGauge("wojak_kafka_consumer_lag",
                            "messages of the assigned partitions not yet settled")) {}

KafkaSourceOptions ReadKafkaSourceOptions(ConfigSection& section) {
  KafkaSourceOptions defaults;
  KafkaSourceOptions options;
  options.client = ReadKafkaClientOptions(section);
  options.topics =
      section.StringList("topics", defaults.topics, "topics the orders are published to");
  if (options.topics.empty()) section.Error("topics", "list at least one topic");
  options.group_id =
      section.String("group_id", defaults.group_id, "consumer group shared by every sidecar");
  if (options.group_id.empty()) section.Error("group_id", "must not be empty");
  options.dead_letter_topic =
      section.String("dead_letter_topic", defaults.dead_letter_topic,
                     "poison messages go here with the reason and their origin in headers");
  if (options.dead_letter_topic.empty()) section.Error("dead_letter_topic", "must not be empty");
  options.reply_topic = section.String(
      "reply_topic", "", "decisions are published here (key = account); empty = no replies");
  options.commit_interval = section.Duration("commit_interval", defaults.commit_interval,
                                             "settled offsets are committed this often");
  options.revoke_timeout = section.Duration(
      "revoke_timeout", defaults.revoke_timeout,
      "on a rebalance, how long a revoked partition waits for its in-flight replies");
  options.session_timeout =
      section.Duration("session_timeout", defaults.session_timeout,
                       "session.timeout.ms: a member silent this long leaves the group");
  options.heartbeat_interval =
      section.Duration("heartbeat_interval", defaults.heartbeat_interval, "heartbeat.interval.ms");
  options.max_poll_interval = section.Duration("max_poll_interval", defaults.max_poll_interval,
                                               "max.poll.interval.ms (also the rebalance timeout)");
  options.delivery_timeout =
      section.Duration("delivery_timeout", defaults.delivery_timeout,
                       "longest a dead letter or reply waits for the broker's acknowledgement");
  options.auto_offset_reset =
      section.Enum("auto_offset_reset", defaults.auto_offset_reset, {"earliest", "latest"},
                   "where a group without committed offsets starts");
  options.consumer_properties = ReadKafkaProperties(
      section, "consumer_properties", "extra librdkafka consumer properties (name: value)");
  options.producer_properties = ReadKafkaProperties(
      section, "producer_properties",
      "extra librdkafka properties of the dead-letter/reply producer (name: value)");
  for (const auto* properties : {&options.client.properties, &options.consumer_properties}) {
    for (const char* name : {"enable.auto.commit", "enable.auto.offset.store"}) {
      auto it = properties->find(name);
      if (it != properties->end() && KafkaPropertyIsTrue(it->second)) {
        section.Error(
            properties == &options.consumer_properties ? "consumer_properties" : "properties",
            std::string(name) +
                " must stay false: an offset is committed only once the engine "
                "has answered every message up to it");
      }
    }
  }
  if (options.heartbeat_interval >= options.session_timeout) {
    section.Error("heartbeat_interval", "must be below session_timeout");
  }
  const std::pair<const char*, milliseconds> durations[] = {
      {"commit_interval", options.commit_interval},
      {"revoke_timeout", options.revoke_timeout},
      {"delivery_timeout", options.delivery_timeout}};
  for (const auto& [key, duration] : durations) {
    if (duration.count() <= 0) section.Error(key, "must be positive");
  }
  return options;
}

StatusOr<std::unique_ptr<Source>> KafkaSource::Create(ConfigSection& section,
                                                      const SourceContext& /*context*/) {
  KafkaSourceOptions options = ReadKafkaSourceOptions(section);
  return std::unique_ptr<Source>(std::make_unique<KafkaSource>(std::move(options)));
}

KafkaSource::KafkaSource(KafkaSourceOptions options, MetricsRegistry& registry, const Clock& clock)
    : options_(std::move(options)), clock_(clock), metrics_(registry) {}

KafkaSource::~KafkaSource() { Stop(); }

Status KafkaSource::Start() {
  if (consumer_ != nullptr) return FailedPrecondition("kafka source already started");
  KafkaPublisherOptions publisher_options;
  publisher_options.client = options_.client;
  publisher_options.delivery_timeout = options_.delivery_timeout;
  publisher_options.properties = options_.producer_properties;
  WOJAK_ASSIGN_OR_RETURN(publisher_, KafkaPublisher::Create(publisher_options));

  std::map<std::string, std::string> properties = {
      {"group.id", options_.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"session.timeout.ms", std::to_string(options_.session_timeout.count())},
      {"heartbeat.interval.ms", std::to_string(options_.heartbeat_interval.count())},
      {"max.poll.interval.ms", std::to_string(options_.max_poll_interval.count())},
      {"auto.offset.reset", options_.auto_offset_reset},
      {"enable.partition.eof", "false"},
  };
  for (const auto& [name, value] : options_.consumer_properties) properties[name] = value;
  // The group's join-state changes are only visible in librdkafka's "cgrp" debug log.
  std::string debug = properties.count("debug") ? properties["debug"] : "";
  if (debug.empty() && options_.client.properties.count("debug")) {
    debug = options_.client.properties.at("debug");
  }
  forward_debug_logs_ = !debug.empty();
  if (debug.find("cgrp") == std::string::npos && debug.find("all") == std::string::npos) {
    properties["debug"] = debug.empty() ? "cgrp" : debug + ",cgrp";
  }
  WOJAK_ASSIGN_OR_RETURN(KafkaConf conf, MakeKafkaConf(options_.client, properties));
  // Whatever the configuration layers said, the commit discipline is not negotiable.
  for (const char* name : {"enable.auto.commit", "enable.auto.offset.store"}) {
    if (KafkaPropertyIsTrue(GetKafkaProperty(conf.get(), name))) {
      return FailedPrecondition(std::string("refusing to start: ") + name +
                                " is on; offsets must be committed only after the engine's reply");
    }
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::OnRebalance);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &KafkaSource::OnCommit);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaSource::OnError);
  rd_kafka_conf_set_log_cb(conf.get(), &KafkaSource::OnLog);
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof(error));
  if (handle == nullptr) return InvalidArgument(std::string("kafka consumer: ") + error);
  conf.release();  // owned by the handle now
  consumer_.reset(handle);
  rd_kafka_poll_set_consumer(consumer_.get());

  KafkaPartitionList topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
  for (const std::string& topic : options_.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), topics.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    consumer_.reset();
    return Unavailable(std::string("kafka subscribe: ") + rd_kafka_err2str(err));
  }
  LogInfo("kafka_source_started", {{"brokers", options_.client.brokers},
                                   {"group_id", options_.group_id},
                                   {"topics", Describe(topics.get())},
                                   {"dead_letter_topic", options_.dead_letter_topic},
                                   {"reply_topic", options_.reply_topic}});
  return OkStatus();
}

void KafkaSource::OnRebalance(rd_kafka_t* /*handle*/, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaSource*>(opaque)->HandleRebalance(err, partitions);
}

void KafkaSource::OnCommit(rd_kafka_t* /*handle*/, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  bool failed = err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET;
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    failed = failed || offsets->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  if (!failed) return;
  self->metrics_.commit_failures.Increment();
  self->commit_failed_ = true;
  LogWarn("kafka_commit_failed", {{"error", rd_kafka_err2str(err)},
                                  {"partitions", offsets != nullptr ? Describe(offsets) : ""}});
}

void KafkaSource::OnError(rd_kafka_t* handle, int err, const char* reason, void* /*opaque*/) {
  // librdkafka recovers from transient errors (broker down, connection refused) by itself.
  const bool fatal = err == RD_KAFKA_RESP_ERR__FATAL;
  std::string detail = reason;
  if (fatal) {
    char fatal_reason[512];
    rd_kafka_fatal_error(handle, fatal_reason, sizeof(fatal_reason));
    detail = fatal_reason;
  }
  Log(fatal ? LogLevel::kError : LogLevel::kWarn, "kafka_client_error",
      {{"error", rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err))}, {"reason", detail}});
}

void KafkaSource::OnLog(const rd_kafka_t* handle, int level, const char* facility,
                        const char* line) {
  auto* self = static_cast<KafkaSource*>(rd_kafka_opaque(handle));
  const std::string_view text(line);
  if (std::string_view(facility) == "CGRPJOINSTATE") {
    // "Group "g" changed join state steady -> init (state up)": from init until the SyncGroup
    // answer, the JoinGroup is (about to be) in flight ahead of any commit.
    const size_t arrow = text.find(" -> ");
    if (arrow != std::string_view::npos) {
      std::string_view state = text.substr(arrow + 4);
      state = state.substr(0, state.find(' '));
      const bool rebalancing = state == "init" || state == "wait-join" ||
                               state == "wait-metadata" || state == "wait-sync";
      if (self != nullptr) self->group_rebalancing_.store(rebalancing, std::memory_order_release);
    }
  }
  // syslog levels: 7 is debug (only when the user asked for it), 4 and below are warnings.
  if (level >= 7 && (self == nullptr || !self->forward_debug_logs_)) return;
  const LogLevel our_level = level <= 3   ? LogLevel::kError
                             : level <= 4 ? LogLevel::kWarn
                             : level <= 6 ? LogLevel::kInfo
                                          : LogLevel::kDebug;
  Log(our_level, "kafka_client_log", {{"facility", facility}, {"message", text}});
}

void KafkaSource::HandleRebalance(rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions) {
  metrics_.rebalances.Increment();
  const bool cooperative =
      std::string_view(rd_kafka_rebalance_protocol(consumer_.get())) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < partitions->cnt; ++i) {
      auto partition = std::make_unique<Partition>();
      partition->topic = partitions->elems[i].topic;
      partition->partition = partitions->elems[i].partition;
      partitions_[{partition->topic, partition->partition}] = std::move(partition);
    }
    if (cooperative) {
      if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_.get(), partitions)) {
        LogError("kafka_assign_failed", {{"error", ErrorText(error)}});
      }
    } else {
      rd_kafka_assign(consumer_.get(), partitions);
    }
    LogInfo("kafka_partitions_assigned", {{"partitions", Describe(partitions)}});
    return;
  }
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    LogError("kafka_rebalance_failed", {{"error", rd_kafka_err2str(err)}});
    rd_kafka_assign(consumer_.get(), nullptr);
    partitions_.clear();
    revoking_.reset();
    return;
  }
  const bool lost = rd_kafka_assignment_lost(consumer_.get()) != 0;
  if (lost || closing_) {
    // Lost: another member may own them already, so a commit could move its offsets; their
    // replies are ignored from now on and the new owner redelivers.
    if (!lost) Commit(partitions, /*synchronous=*/true);
    for (int i = 0; i < partitions->cnt; ++i) {
      partitions_.erase({partitions->elems[i].topic, partitions->elems[i].partition});
    }
    Unassign(partitions);
    LogInfo("kafka_partitions_released",
            {{"partitions", Describe(partitions)}, {"lost", lost}, {"abandoned", 0}});
    UpdateInFlight();
    return;
  }
  // Stop fetching now; release once the engine answered what is in flight (or the bound passes).
  rd_kafka_pause_partitions(consumer_.get(), partitions);
  if (revoking_ == nullptr) {
    revoking_.reset(rd_kafka_topic_partition_list_new(partitions->cnt));
    revoke_deadline_ = clock_.Monotonic() + ToNanos(options_.revoke_timeout);
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& element = partitions->elems[i];
    rd_kafka_topic_partition_list_add(revoking_.get(), element.topic, element.partition);
    auto it = partitions_.find({element.topic, element.partition});
    if (it == partitions_.end()) continue;
    it->second->state = Partition::State::kRevoking;
    it->second->paused = true;
  }
  LogInfo("kafka_partitions_revoking", {{"partitions", Describe(partitions)}});
  FinishRevokeIfReady(clock_.Monotonic());
}

void KafkaSource::Unassign(const rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative =
      std::string_view(rd_kafka_rebalance_protocol(consumer_.get())) == "COOPERATIVE";
  if (!cooperative) {
    rd_kafka_assign(consumer_.get(), nullptr);
    return;
  }
  if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), partitions)) {
    LogError("kafka_unassign_failed", {{"error", ErrorText(error)}});
  }
}

void KafkaSource::FinishRevokeIfReady(Nanos now) {
  if (revoking_ == nullptr) return;
  size_t unsettled = 0;
  for (int i = 0; i < revoking_->cnt; ++i) {
    auto it = partitions_.find({revoking_->elems[i].topic, revoking_->elems[i].partition});
    if (it != partitions_.end()) unsettled += it->second->tracker.pending();
  }
  if (unsettled > 0 && now < revoke_deadline_) return;
  Commit(revoking_.get(), /*synchronous=*/true);
  for (int i = 0; i < revoking_->cnt; ++i) {
    partitions_.erase({revoking_->elems[i].topic, revoking_->elems[i].partition});
  }
  KafkaPartitionList released = std::move(revoking_);
  Unassign(released.get());
  LogInfo("kafka_partitions_released",
          {{"partitions", Describe(released.get())}, {"lost", false}, {"abandoned", unsettled}});
  UpdateInFlight();
}

void KafkaSource::Commit(const rd_kafka_topic_partition_list_t* only, bool synchronous) {
  if (consumer_ == nullptr) return;
  KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(0));
  std::vector<Partition*> included;
  auto consider = [&](Partition& partition) {
    std::optional<int64_t> point = partition.tracker.CommitOffset();
    if (!point || (!commit_failed_ && partition.committed == point)) return;
    rd_kafka_topic_partition_list_add(offsets.get(), partition.topic.c_str(), partition.partition)
        ->offset = *point;
    included.push_back(&partition);
  };
  if (only != nullptr) {
    for (int i = 0; i < only->cnt; ++i) {
      auto it = partitions_.find({only->elems[i].topic, only->elems[i].partition});
      if (it != partitions_.end()) consider(*it->second);
    }
  } else {
    for (auto& [key, partition] : partitions_) consider(*partition);
  }
  if (offsets->cnt == 0) return;
  // Periodic commits wait out a rebalance (see group_rebalancing_); the commits of a revoke run
  // before librdkafka rejoins, under the generation that is still valid.
  if (only == nullptr && group_rebalancing_.load(std::memory_order_acquire)) return;
  if (only == nullptr) commit_failed_ = false;
  metrics_.commits.Increment();
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), offsets.get(), synchronous ? 0 : 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    metrics_.commit_failures.Increment();
    commit_failed_ = true;
    LogWarn("kafka_commit_failed",
            {{"error", rd_kafka_err2str(err)}, {"partitions", Describe(offsets.get())}});
    return;
  }
  for (int i = 0; i < offsets->cnt; ++i) included[i]->committed = offsets->elems[i].offset;
}

StatusOr<std::vector<Message>> KafkaSource::Poll(size_t max_messages, milliseconds max_wait) {
  if (consumer_ == nullptr) return FailedPrecondition("kafka source not started");
  publisher_->Serve(milliseconds(0));
  Nanos now = clock_.Monotonic();
  ResumeDuePartitions(now);
  FinishRevokeIfReady(now);
  if (now >= next_commit_at_) {
    next_commit_at_ = now + ToNanos(options_.commit_interval);
    Commit(nullptr, /*synchronous=*/false);
  }
  UpdateLag(now);

  std::vector<Message> messages;
  int wait_ms = static_cast<int>(max_wait.count());
  while (messages.size() < max_messages) {
    rd_kafka_message_t* fetched = rd_kafka_consumer_poll(consumer_.get(), wait_ms);
    wait_ms = 0;
    if (fetched == nullptr) break;
    TakeFetched(fetched, messages);
    rd_kafka_message_destroy(fetched);
  }
  if (!messages.empty()) UpdateInFlight();
  return messages;
}

void KafkaSource::TakeFetched(const rd_kafka_message_t* fetched, std::vector<Message>& out) {
  if (fetched->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Consumer errors arrive as messages; librdkafka keeps retrying underneath.
    LogWarn("kafka_consume_error", {{"error", rd_kafka_message_errstr(fetched)}});
    return;
  }
  const std::string topic = rd_kafka_topic_name(fetched->rkt);
  auto it = partitions_.find({topic, fetched->partition});
  // Pausing and seeking discard what was fetched before; this only guards the invariant.
  if (it == partitions_.end() || it->second->state != Partition::State::kAssigned ||
      it->second->paused) {
    return;
  }
  Partition& partition = *it->second;
  auto handle = std::make_shared<MessageHandle>();
  handle->topic = topic;
  handle->partition = fetched->partition;
  handle->offset = fetched->offset;
  handle->token = partition.tracker.Deliver(fetched->offset);
  if (fetched->key != nullptr) {
    handle->key.assign(static_cast<const char*>(fetched->key), fetched->key_len);
  }
  Message message;
  std::optional<std::string> kind = Header(fetched, kKindHeader);
  message.kind = kind == "cancel" ? MessageKind::kCancel : MessageKind::kNewOrder;
  if (fetched->payload != nullptr) {
    message.body.assign(static_cast<const char*>(fetched->payload), fetched->len);
  }
  message.identity =
      topic + "/" + std::to_string(fetched->partition) + "/" + std::to_string(fetched->offset);
  message.delivery_attempt = partition.tracker.DeliveryAttempt(fetched->offset);
  message.handle = std::move(handle);
  metrics_.received.Increment();
  out.push_back(std::move(message));
}

KafkaSource::Partition* KafkaSource::Find(const MessageHandle& handle) {
  auto it = partitions_.find({handle.topic, handle.partition});
  if (it == partitions_.end()) return nullptr;
  if (!it->second->tracker.IsCurrent(handle.offset, handle.token)) return nullptr;
  return it->second.get();
}

bool KafkaSource::Settle(const MessageHandle& handle) {
  Partition* partition = Find(handle);
  if (partition == nullptr) return false;
  partition->tracker.Settle(handle.offset, handle.token);
  UpdateInFlight();
  return true;
}

void KafkaSource::Rewind(const MessageHandle& handle, milliseconds delay) {
  Partition* partition = Find(handle);
  if (partition == nullptr) return;
  partition->tracker.Rewind(handle.offset);
  UpdateInFlight();
  // A revoking partition is not fetched again here: its next owner starts at the commit point.
  if (partition->state != Partition::State::kAssigned) return;
  if (!partition->paused) {
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), partition->topic.c_str(), partition->partition);
    rd_kafka_pause_partitions(consumer_.get(), list.get());
    partition->paused = true;
  }
  partition->seek_to = std::min(partition->seek_to.value_or(handle.offset), handle.offset);
  partition->resume_at = std::max(partition->resume_at, clock_.Monotonic() + ToNanos(delay));
}

void KafkaSource::ResumeDuePartitions(Nanos now) {
  for (auto& [key, partition] : partitions_) {
    if (!partition->paused || partition->state != Partition::State::kAssigned ||
        now < partition->resume_at) {
      continue;
    }
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_t* element = rd_kafka_topic_partition_list_add(
        list.get(), partition->topic.c_str(), partition->partition);
    if (partition->seek_to) {
      // Seeking while paused: the fetcher restarts from here on resume, nothing after the nacked
      // message is delivered before it.
      element->offset = *partition->seek_to;
      rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_.get(), list.get(),
                                                         static_cast<int>(kSeekTimeout.count()));
      if (error == nullptr && element->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = rd_kafka_error_new(element->err, "%s", rd_kafka_err2str(element->err));
      }
      if (error != nullptr) {
        LogWarn("kafka_seek_failed", {{"partition", key.first + "/" + std::to_string(key.second)},
                                      {"offset", *partition->seek_to},
                                      {"error", ErrorText(error)}});
        partition->resume_at = now + ToNanos(kSeekRetry);
        continue;
      }
      partition->seek_to.reset();
      element->offset = RD_KAFKA_OFFSET_INVALID;
    }
    rd_kafka_resume_partitions(consumer_.get(), list.get());
    partition->paused = false;
  }
}

Status KafkaSource::Ack(const Message& message, const Decision& decision) {
  auto handle = std::static_pointer_cast<MessageHandle>(message.handle);
  if (handle == nullptr) return InvalidArgument("not a kafka message");
  if (Find(*handle) == nullptr) return OkStatus();  // rewound or revoked: redelivered later
  if (options_.reply_topic.empty()) {
    if (Settle(*handle)) metrics_.acked.Increment();
    FinishRevokeIfReady(clock_.Monotonic());
    return OkStatus();
  }
  KafkaRecord reply;
  reply.topic = options_.reply_topic;
  reply.key = decision.account.empty() ? handle->key : decision.account;
  reply.value = DecisionToJson(decision);
  reply.headers = {{std::string(kOriginalTopicHeader), handle->topic},
                   {std::string(kOriginalPartitionHeader), std::to_string(handle->partition)},
                   {std::string(kOriginalOffsetHeader), std::to_string(handle->offset)}};
  // Settled only once the reply is on the broker: a lost reply is replayed (DUPLICATE) rather
  // than committed past.
  Status status = publisher_->PublishAsync(reply, [this, handle](const Status& delivered) {
    if (delivered.ok()) {
      if (Settle(*handle)) metrics_.acked.Increment();
      return;
    }
    LogWarn("kafka_reply_failed", {{"error", delivered.ToString()}});
    Rewind(*handle, kRepublishDelay);
  });
  if (!status.ok()) {
    Rewind(*handle, kRepublishDelay);
    return status;
  }
  return OkStatus();
}

Status KafkaSource::Nack(const Message& message, milliseconds delay) {
  auto handle = std::static_pointer_cast<MessageHandle>(message.handle);
  if (handle == nullptr) return InvalidArgument("not a kafka message");
  metrics_.nacked.Increment();
  // A stale delivery is already on its way back: an earlier nack rewound past it.
  const bool stale = Find(*handle) == nullptr;
  LogDebug("kafka_message_nacked", {{"identity", message.identity},
                                    {"delivery", message.delivery_attempt},
                                    {"delay_ms", static_cast<int64_t>(delay.count())},
                                    {"stale", stale}});
  if (stale) return OkStatus();
  Rewind(*handle, delay);
  FinishRevokeIfReady(clock_.Monotonic());
  return OkStatus();
}

Status KafkaSource::DeadLetter(const Message& message, const DeadLetterInfo& info) {
  auto handle = std::static_pointer_cast<MessageHandle>(message.handle);
  if (handle == nullptr) return InvalidArgument("not a kafka message");
  if (Find(*handle) == nullptr) return OkStatus();
  KafkaRecord record;
  record.topic = options_.dead_letter_topic;
  record.key = handle->key;
  record.value = message.body;
  record.headers = {
      {std::string(kReasonHeader), info.reason},
      {std::string(kDeadLetterKindHeader), std::string(DeadLetterKindName(info.kind))},
      {std::string(kOriginalTopicHeader), handle->topic},
      {std::string(kOriginalPartitionHeader), std::to_string(handle->partition)},
      {std::string(kOriginalOffsetHeader), std::to_string(handle->offset)}};
  if (!info.decision.reasons.empty()) {
    record.headers.emplace_back(std::string(kDecisionHeader), DecisionToJson(info.decision));
  }
  Status status = publisher_->PublishAndWait({&record, 1}, options_.delivery_timeout);
  if (!status.ok()) {
    // Not on the dead-letter topic, so not handled: the partition comes back to it later.
    Rewind(*handle, kRepublishDelay);
    return status.WithContext("dead-lettering " + message.identity);
  }
  if (Settle(*handle)) metrics_.dead_lettered.Increment();
  FinishRevokeIfReady(clock_.Monotonic());
  return OkStatus();
}

void KafkaSource::UpdateInFlight() {
  size_t pending = 0;
  for (const auto& [key, partition] : partitions_) pending += partition->tracker.pending();
  metrics_.in_flight.Set(static_cast<double>(pending));
}

void KafkaSource::UpdateLag(Nanos now) {
  if (now < next_lag_at_) return;
  next_lag_at_ = now + ToNanos(kLagInterval);
  if (partitions_.empty()) {
    metrics_.lag.Set(0);
    return;
  }
  KafkaPartitionList positions(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size())));
  for (const auto& [key, partition] : partitions_) {
    rd_kafka_topic_partition_list_add(positions.get(), key.first.c_str(), key.second);
  }
  rd_kafka_position(consumer_.get(), positions.get());
  int64_t lag = 0;
  for (int i = 0; i < positions->cnt; ++i) {
    const rd_kafka_topic_partition_t& element = positions->elems[i];
    int64_t low = 0;
    int64_t high = 0;
    if (element.offset < 0 ||
        rd_kafka_get_watermark_offsets(consumer_.get(), element.topic, element.partition, &low,
                                       &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    lag += std::max<int64_t>(0, high - element.offset);
    lag +=
        static_cast<int64_t>(partitions_.at({element.topic, element.partition})->tracker.pending());
  }
  metrics_.lag.Set(static_cast<double>(lag));
}

std::vector<std::string> KafkaSource::assigned_partitions() const {
  std::vector<std::string> names;
  for (const auto& [key, partition] : partitions_) {
    names.push_back(key.first + "/" + std::to_string(key.second));
  }
  return names;
}

void KafkaSource::Stop() {
  if (consumer_ == nullptr) return;
  // Replies already produced settle their messages when acknowledged; wait for them so the
  // final commit covers them.
  if (publisher_ != nullptr) {
    Status flushed = publisher_->Flush(kCloseFlushTimeout);
    if (!flushed.ok()) LogWarn("kafka_reply_flush_failed", {{"error", flushed.ToString()}});
  }
  commit_failed_ = true;  // the last commit covers every partition, whatever was sent before
  Commit(nullptr, /*synchronous=*/true);
  closing_ = true;
  // Leaving the group revokes what is left (HandleRebalance commits and releases at once).
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer_.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    LogWarn("kafka_close_failed", {{"error", rd_kafka_err2str(err)}});
  }
  revoking_.reset();
  partitions_.clear();
  consumer_.reset();
  publisher_.reset();
  metrics_.in_flight.Set(0);
  LogInfo("kafka_source_stopped", {{"group_id", options_.group_id}});
}

WOJAK_REGISTER_SOURCE("kafka", KafkaSource::Create);

}  // namespace wojak::sidecar::kafka
