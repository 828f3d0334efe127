// NATS JetStream source on libnats: a fetcher thread keeps a small prefetch of pulled messages;
// the pipeline thread takes them in Poll and acks/naks/terms them (libnats is thread-safe).
#include "sidecar/sources/nats/nats_source.h"

#include <algorithm>

#include "common/log.h"
#include "model/order_json.h"

namespace wojak::sidecar::nats {

using std::chrono::milliseconds;

namespace {

constexpr int64_t kNanosPerMillisecond = 1000 * 1000;
// A pull request waits this long for messages; it bounds how late StopIntake takes effect.
constexpr int64_t kFetchWaitMillis = 500;
constexpr milliseconds kFetchErrorPause{200};
// A reply or dead letter the server refused: the message comes back after this.
constexpr int64_t kRepublishDelayMillis = 1000;
// JetStream API error codes (server/errors.json).
constexpr jsErrCode kStreamNotFound = jsErrCode(10059);
constexpr jsErrCode kConsumerNotFound = jsErrCode(10014);

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

}  // namespace

struct NatsSource::MessageHandle {
  MessageHandle(natsMsg* fetched, std::shared_ptr<NatsConnection> owner)
      : message(fetched), connection(std::move(owner)) {}
  ~MessageHandle() { natsMsg_Destroy(message); }
  MessageHandle(const MessageHandle&) = delete;
  MessageHandle& operator=(const MessageHandle&) = delete;

  natsMsg* message;
  std::shared_ptr<NatsConnection> connection;  // acks go out on it: keep it open until then
  std::string stream;
  uint64_t sequence = 0;
  uint64_t deliveries = 0;
  std::string subject;
};

NatsSourceMetrics::NatsSourceMetrics(MetricsRegistry& registry)
    : received(registry.AddCounter("wojak_nats_messages_received_total",
                                   "messages pulled from JetStream and handed to the pipeline")),
      acked(registry.AddCounter("wojak_nats_messages_acked_total",
                                "messages acked after the engine's decision")),
      nacked(registry.AddCounter("wojak_nats_messages_nacked_total",
                                 "messages naked for redelivery after a delay")),
      dead_lettered(
          registry.AddCounter("wojak_nats_messages_dead_lettered_total",
                              "messages published to the dead-letter subject and termed")),
      lease_extensions(registry.AddCounter("wojak_nats_lease_extensions_total",
                                           "InProgress acks sent for messages still undecided")),
      in_flight(registry.AddGauge("wojak_nats_messages_in_flight",
                                  "messages pulled and not yet acked, naked or termed")),
      pending(registry.AddGauge("wojak_nats_consumer_pending",
                                "messages the consumer has not delivered yet")) {}

NatsSourceOptions ReadNatsSourceOptions(ConfigSection& section) {
  NatsSourceOptions defaults;
  NatsSourceOptions options;
  options.connection = ReadNatsConnectionOptions(section);
  options.stream = section.String("stream", defaults.stream, "JetStream stream holding the orders");
  options.subject = section.String("subject", defaults.subject,
                                   "the consumer's filter subject (and the stream's, if created)");
  options.consumer = section.String("consumer", defaults.consumer,
                                    "durable pull consumer shared by every sidecar of the source");
  if (options.stream.empty()) section.Error("stream", "must not be empty");
  if (options.subject.empty()) section.Error("subject", "must not be empty");
  if (options.consumer.empty() || options.consumer.find('.') != std::string::npos) {
    section.Error("consumer", "must be a non-empty name without '.'");
  }
  options.create_consumer =
      section.Bool("create_consumer", defaults.create_consumer,
                   "create the durable consumer when missing (an existing one keeps its settings)");
  options.create_stream =
      section.Bool("create_stream", defaults.create_stream,
                   "create the stream (file storage) when missing; production streams: replicas 3");
  options.stream_replicas =
      static_cast<int>(section.Int("stream_replicas", defaults.stream_replicas,
                                   "replicas of a stream the sidecar creates", 1, 5));
  options.ack_wait = section.Duration(
      "ack_wait", defaults.ack_wait,
      "consumer AckWait: undecided messages are kept with InProgress at half of it");
  if (options.ack_wait < milliseconds(1000)) section.Error("ack_wait", "must be at least 1s");
  options.max_deliver = static_cast<int>(
      section.Int("max_deliver", defaults.max_deliver,
                  "consumer MaxDeliver (-1: unlimited); the last delivery is dead-lettered rather "
                  "than naked. Finite values also dead-letter orders during a long engine outage",
                  -1, 1000000));
  if (options.max_deliver == 0) section.Error("max_deliver", "must be -1 or at least 1");
  options.max_ack_pending = static_cast<int>(
      section.Int("max_ack_pending", defaults.max_ack_pending,
                  "consumer MaxAckPending: unacked messages the server allows", 1, 10000000));
  options.fetch_batch = static_cast<int>(section.Int(
      "fetch_batch", defaults.fetch_batch, "messages per pull request (and prefetched)", 1, 10000));
  options.dead_letter_subject =
      section.String("dead_letter_subject", defaults.dead_letter_subject,
                     "poison messages are published here (a stream must capture it)");
  if (options.dead_letter_subject.empty())
    section.Error("dead_letter_subject", "must not be empty");
  options.reply_subject_prefix = section.String(
      "reply_subject_prefix", "",
      "decisions are published to <prefix>.<account> (a stream must capture it); empty = none");
  return options;
}

StatusOr<std::unique_ptr<Source>> NatsSource::Create(ConfigSection& section,
                                                     const SourceContext& /*context*/) {
  NatsSourceOptions options = ReadNatsSourceOptions(section);
  return std::unique_ptr<Source>(std::make_unique<NatsSource>(std::move(options)));
}

NatsSource::NatsSource(NatsSourceOptions options, MetricsRegistry& registry)
    : options_(std::move(options)), metrics_(registry), ack_wait_(options_.ack_wait) {}

NatsSource::~NatsSource() { Stop(); }

Status NatsSource::EnsureStream() {
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = jsErrCode(0);
  natsStatus status = js_GetStreamInfo(&info, connection_->jetstream(), options_.stream.c_str(),
                                       nullptr, &js_error);
  if (status != NATS_OK && (status == NATS_NOT_FOUND || js_error == kStreamNotFound) &&
      options_.create_stream) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = options_.stream.c_str();
    const char* subjects[] = {options_.subject.c_str()};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = options_.stream_replicas;
    status = js_AddStream(&info, connection_->jetstream(), &config, nullptr, &js_error);
    if (status == NATS_OK) LogInfo("nats_stream_created", {{"stream", options_.stream}});
  }
  if (status != NATS_OK) {
    return NatsError(status, "nats stream " + options_.stream, js_error);
  }
  const bool file_storage = info->Config->Storage == js_FileStorage;
  const int64_t replicas = info->Config->Replicas;
  jsStreamInfo_Destroy(info);
  // nats-server 2.9 cannot fsync every write (no sync_interval): a stored message survives a
  // machine crash only through its replicas. Memory storage survives nothing.
  if (!file_storage) {
    LogError("nats_stream_not_durable",
             {{"stream", options_.stream},
              {"storage", "memory"},
              {"advice",
               "orders in a memory stream are lost when the server stops: use file "
               "storage with replicas: 3"}});
  }
  if (replicas < 3) {
    LogWarn("nats_stream_not_replicated",
            {{"stream", options_.stream},
             {"replicas", replicas},
             {"advice",
              "the server does not fsync each write; replicas: 3 (R3) keeps acknowledged "
              "orders through the loss of a machine"}});
  }
  return OkStatus();
}

Status NatsSource::EnsureConsumer() {
  jsConsumerInfo* info = nullptr;
  jsErrCode js_error = jsErrCode(0);
  natsStatus status = js_GetConsumerInfo(&info, connection_->jetstream(), options_.stream.c_str(),
                                         options_.consumer.c_str(), nullptr, &js_error);
  if (status != NATS_OK && (status == NATS_NOT_FOUND || js_error == kConsumerNotFound) &&
      options_.create_consumer) {
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = options_.consumer.c_str();
    config.AckPolicy = js_AckExplicit;
    config.AckWait = options_.ack_wait.count() * kNanosPerMillisecond;
    config.MaxDeliver = options_.max_deliver;
    config.MaxAckPending = options_.max_ack_pending;
    config.FilterSubject = options_.subject.c_str();
    config.DeliverPolicy = js_DeliverAll;
    status = js_AddConsumer(&info, connection_->jetstream(), options_.stream.c_str(), &config,
                            nullptr, &js_error);
    if (status == NATS_OK) LogInfo("nats_consumer_created", {{"consumer", options_.consumer}});
  }
  if (status != NATS_OK) {
    return NatsError(status, "nats consumer " + options_.stream + "/" + options_.consumer,
                     js_error);
  }
  const jsConsumerConfig& config = *info->Config;
  Status usable;
  if (config.AckPolicy != js_AckExplicit) {
    usable = FailedPrecondition("nats consumer " + options_.consumer +
                                " must use explicit acks (ack only after the engine's reply)");
  } else if (config.DeliverSubject != nullptr && *config.DeliverSubject != '\0') {
    usable = FailedPrecondition("nats consumer " + options_.consumer + " is a push consumer");
  }
  max_deliver_ = config.MaxDeliver > 0 ? config.MaxDeliver : -1;
  ack_wait_ = milliseconds(config.AckWait / kNanosPerMillisecond);
  const std::string filter = config.FilterSubject != nullptr ? config.FilterSubject : "";
  jsConsumerInfo_Destroy(info);
  WOJAK_RETURN_IF_ERROR(usable);
  if (max_deliver_ != options_.max_deliver || ack_wait_ != options_.ack_wait) {
    LogWarn("nats_consumer_settings_differ",
            {{"consumer", options_.consumer},
             {"max_deliver", max_deliver_},
             {"ack_wait_ms", static_cast<int64_t>(ack_wait_.count())},
             {"advice", "the existing consumer's settings apply; update it to change them"}});
  }
  jsSubOptions subscribe;
  jsSubOptions_Init(&subscribe);
  subscribe.Stream = options_.stream.c_str();
  subscribe.Consumer = options_.consumer.c_str();
  const std::string subject = filter.empty() ? options_.subject : filter;
  status = js_PullSubscribe(&subscription_, connection_->jetstream(), subject.c_str(),
                            options_.consumer.c_str(), nullptr, &subscribe, &js_error);
  if (status != NATS_OK) return NatsError(status, "nats pull subscribe", js_error);
  return OkStatus();
}

Status NatsSource::Start() {
  if (connection_ != nullptr) return FailedPrecondition("nats source already started");
  WOJAK_ASSIGN_OR_RETURN(connection_, NatsConnection::Connect(options_.connection));
  publisher_ = std::make_unique<NatsPublisher>(connection_);
  Status ready = EnsureStream();
  if (ready.ok()) ready = EnsureConsumer();
  if (!ready.ok()) {
    publisher_.reset();
    connection_.reset();
    return ready;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fetching_ = true;
  }
  fetcher_ = std::thread([this] { FetchLoop(); });
  LogInfo("nats_source_started", {{"stream", options_.stream},
                                  {"consumer", options_.consumer},
                                  {"max_deliver", max_deliver_},
                                  {"ack_wait_ms", static_cast<int64_t>(ack_wait_.count())},
                                  {"dead_letter_subject", options_.dead_letter_subject},
                                  {"reply_subject_prefix", options_.reply_subject_prefix}});
  return OkStatus();
}

void NatsSource::FetchLoop() {
  natsStatus last_error = NATS_OK;
  const size_t capacity = static_cast<size_t>(options_.fetch_batch);
  while (true) {
    int want = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      room_cv_.wait(lock, [&] { return !fetching_ || fetched_.size() < capacity; });
      if (!fetching_) return;
      want = static_cast<int>(capacity - fetched_.size());
    }
    natsMsgList list = {nullptr, 0};
    jsErrCode js_error = jsErrCode(0);
    natsStatus status =
        natsSubscription_Fetch(&list, subscription_, want, kFetchWaitMillis, &js_error);
    if (status == NATS_OK && list.Count > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int i = 0; i < list.Count; ++i) {
        fetched_.push_back(list.Msgs[i]);
        list.Msgs[i] = nullptr;  // ownership moves to fetched_
      }
      fetched_cv_.notify_one();
      last_error = NATS_OK;
    } else if (status != NATS_OK && status != NATS_TIMEOUT) {
      if (status != last_error) {
        LogWarn("nats_fetch_failed", {{"error", NatsError(status, "fetch", js_error).ToString()}});
      }
      last_error = status;
      std::this_thread::sleep_for(kFetchErrorPause);
    }
    natsMsgList_Destroy(&list);
  }
}

StatusOr<std::vector<Message>> NatsSource::Poll(size_t max_messages, milliseconds max_wait) {
  if (connection_ == nullptr) return FailedPrecondition("nats source not started");
  std::vector<natsMsg*> taken;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (fetched_.empty() && max_wait.count() > 0) {
      fetched_cv_.wait_for(lock, max_wait, [&] { return !fetched_.empty() || !fetching_; });
    }
    while (!fetched_.empty() && taken.size() < max_messages) {
      taken.push_back(fetched_.front());
      fetched_.pop_front();
    }
  }
  if (!taken.empty()) room_cv_.notify_one();
  std::vector<Message> messages;
  messages.reserve(taken.size());
  for (natsMsg* fetched : taken) {
    auto handle = std::make_shared<MessageHandle>(fetched, connection_);
    Message message;
    jsMsgMetaData* metadata = nullptr;
    if (natsMsg_GetMetaData(&metadata, fetched) == NATS_OK) {
      handle->stream = metadata->Stream;
      handle->sequence = metadata->Sequence.Stream;
      handle->deliveries = metadata->NumDelivered;
      metrics_.pending.Set(static_cast<double>(metadata->NumPending));
      jsMsgMetaData_Destroy(metadata);
      message.identity = handle->stream + "/" + std::to_string(handle->sequence);
      message.delivery_attempt = static_cast<uint32_t>(handle->deliveries);
    }
    handle->subject = natsMsg_GetSubject(fetched);
    const char* kind = nullptr;
    if (natsMsgHeader_Get(fetched, kKindHeader, &kind) == NATS_OK && kind != nullptr &&
        std::string_view(kind) == "cancel") {
      message.kind = MessageKind::kCancel;
    }
    if (natsMsg_GetDataLength(fetched) > 0) {
      message.body.assign(natsMsg_GetData(fetched),
                          static_cast<size_t>(natsMsg_GetDataLength(fetched)));
    }
    message.handle = std::move(handle);
    messages.push_back(std::move(message));
  }
  metrics_.received.Increment(messages.size());
  in_flight_.fetch_add(static_cast<int64_t>(messages.size()));
  metrics_.in_flight.Set(static_cast<double>(in_flight_.load()));
  return messages;
}

Status NatsSource::Ack(const Message& message, const Decision& decision) {
  auto handle = std::static_pointer_cast<MessageHandle>(message.handle);
  if (handle == nullptr) return InvalidArgument("not a nats message");
  if (!options_.reply_subject_prefix.empty() && !decision.account.empty()) {
    NatsRecord reply;
    reply.subject = options_.reply_subject_prefix + "." + decision.account;
    reply.payload = DecisionToJson(decision);
    reply.headers = {{kOriginalStreamHeader, handle->stream},
                     {kOriginalSequenceHeader, std::to_string(handle->sequence)}};
    // A redelivered message's DUPLICATE reply is dropped by the stream if the first got through.
    reply.message_id = "reply/" + handle->stream + "/" + std::to_string(handle->sequence);
    Status published = publisher_->Publish(reply, connection_->request_timeout());
    if (!published.ok()) {
      natsMsg_NakWithDelay(handle->message, kRepublishDelayMillis, nullptr);
      in_flight_.fetch_sub(1);
      return published.WithContext("replying for " + message.identity);
    }
  }
  natsStatus status = natsMsg_Ack(handle->message, nullptr);
  in_flight_.fetch_sub(1);
  metrics_.in_flight.Set(static_cast<double>(in_flight_.load()));
  if (status != NATS_OK) return NatsError(status, "nats ack " + message.identity);
  metrics_.acked.Increment();
  return OkStatus();
}

Status NatsSource::Nack(const Message& message, milliseconds delay) {
  auto handle = std::static_pointer_cast<MessageHandle>(message.handle);
  if (handle == nullptr) return InvalidArgument("not a nats message");
  if (max_deliver_ > 0 && handle->deliveries >= static_cast<uint64_t>(max_deliver_)) {
    // The server will not deliver it again: a nak here would drop it without a trace.
    DeadLetterInfo info;
    info.kind = DeadLetterKind::kTooManyAttempts;
    info.reason = "not decided after " + std::to_string(handle->deliveries) +
                  " deliveries (the consumer's max_deliver)";
    return DeadLetter(message, info);
  }
  natsStatus status = natsMsg_NakWithDelay(handle->message, delay.count(), nullptr);
  LogDebug("nats_message_naked", {{"identity", message.identity},
                                  {"delivery", handle->deliveries},
                                  {"delay_ms", static_cast<int64_t>(delay.count())}});
  in_flight_.fetch_sub(1);
  metrics_.in_flight.Set(static_cast<double>(in_flight_.load()));
  if (status != NATS_OK) return NatsError(status, "nats nak " + message.identity);
  metrics_.nacked.Increment();
  return OkStatus();
}

Status NatsSource::DeadLetter(const Message& message, const DeadLetterInfo& info) {
  auto handle = std::static_pointer_cast<MessageHandle>(message.handle);
  if (handle == nullptr) return InvalidArgument("not a nats message");
  NatsRecord record;
  record.subject = options_.dead_letter_subject;
  record.payload = message.body;
  record.headers = {{kReasonHeader, info.reason},
                    {kDeadLetterKindHeader, std::string(DeadLetterKindName(info.kind))},
                    {kOriginalStreamHeader, handle->stream},
                    {kOriginalSequenceHeader, std::to_string(handle->sequence)},
                    {kOriginalSubjectHeader, handle->subject},
                    {kDeliveriesHeader, std::to_string(handle->deliveries)}};
  if (!info.decision.reasons.empty()) {
    record.headers.emplace_back(kDecisionHeader, DecisionToJson(info.decision));
  }
  record.message_id = "dead-letter/" + handle->stream + "/" + std::to_string(handle->sequence);
  Status status = Terminate(*handle, record);
  in_flight_.fetch_sub(1);
  metrics_.in_flight.Set(static_cast<double>(in_flight_.load()));
  return status.ok() ? status : status.WithContext("dead-lettering " + message.identity);
}

Status NatsSource::Terminate(MessageHandle& handle, const NatsRecord& dead_letter) {
  Status published = publisher_->Publish(dead_letter, connection_->request_timeout());
  const bool last_delivery =
      max_deliver_ > 0 && handle.deliveries >= static_cast<uint64_t>(max_deliver_);
  if (!published.ok() && !last_delivery) {
    // Not stored anywhere yet: keep it in the stream and try again later.
    natsMsg_NakWithDelay(handle.message, kRepublishDelayMillis, nullptr);
    return published;
  }
  if (!published.ok()) {
    // The server will not deliver it again either way; the log is the last record of it.
    LogError("nats_dead_letter_lost", {{"stream", handle.stream},
                                       {"sequence", handle.sequence},
                                       {"error", published.ToString()},
                                       {"body", dead_letter.payload}});
  }
  natsStatus status = natsMsg_Term(handle.message, nullptr);
  if (status != NATS_OK) return NatsError(status, "nats term");
  if (published.ok()) metrics_.dead_lettered.Increment();
  return published;
}

std::chrono::seconds NatsSource::lease() const {
  return std::chrono::seconds(std::max<int64_t>(1, ack_wait_.count() / 1000));
}

Status NatsSource::ExtendLease(const Message& message, std::chrono::seconds /*duration*/) {
  auto handle = std::static_pointer_cast<MessageHandle>(message.handle);
  if (handle == nullptr) return InvalidArgument("not a nats message");
  // InProgress restarts the server's AckWait timer for this message.
  natsStatus status = natsMsg_InProgress(handle->message, nullptr);
  if (status != NATS_OK) return NatsError(status, "nats in-progress " + message.identity);
  metrics_.lease_extensions.Increment();
  return OkStatus();
}

void NatsSource::StopFetching() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fetching_ = false;
  }
  room_cv_.notify_all();
  fetched_cv_.notify_all();
  if (fetcher_.joinable()) fetcher_.join();
  // Prefetched but never handed out: give them back now rather than after AckWait.
  std::deque<natsMsg*> unclaimed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    unclaimed.swap(fetched_);
  }
  for (natsMsg* message : unclaimed) {
    natsMsg_Nak(message, nullptr);
    natsMsg_Destroy(message);
  }
}

void NatsSource::StopIntake() { StopFetching(); }

void NatsSource::Stop() {
  if (connection_ == nullptr) return;
  StopFetching();
  if (subscription_ != nullptr) {
    // Destroy only: the durable consumer stays on the server for the next sidecar.
    natsSubscription_Destroy(subscription_);
    subscription_ = nullptr;
  }
  publisher_.reset();
  connection_.reset();
  metrics_.in_flight.Set(0);
  LogInfo("nats_source_stopped", {{"consumer", options_.consumer}});
}

WOJAK_REGISTER_SOURCE("nats", NatsSource::Create);

}  // namespace wojak::sidecar::nats
