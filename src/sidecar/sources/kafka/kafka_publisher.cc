// Idempotent, acks=all producer with per-record delivery callbacks.
#include "sidecar/sources/kafka/kafka_publisher.h"

#include <memory>
#include <thread>

namespace wojak::sidecar::kafka {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// What the source and the relay rely on: no duplicates from producer retries, and an
// acknowledgement only once every in-sync replica has the record.
Status CheckProducerProperties(const std::map<std::string, std::string>& properties) {
  for (const auto& [name, value] : properties) {
    if (name == "enable.idempotence" && !KafkaPropertyIsTrue(value)) {
      return InvalidArgument(
          "enable.idempotence must stay true (producer retries would duplicate)");
    }
    if ((name == "acks" || name == "request.required.acks") && value != "all" && value != "-1") {
      return InvalidArgument(name +
                             " must stay 'all' (a record is confirmed only when every "
                             "in-sync replica has it)");
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Create(
    const KafkaPublisherOptions& options) {
  WOJAK_RETURN_IF_ERROR(CheckProducerProperties(options.client.properties));
  WOJAK_RETURN_IF_ERROR(CheckProducerProperties(options.properties));
  std::map<std::string, std::string> properties = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"delivery.timeout.ms", std::to_string(options.delivery_timeout.count())},
      // A dead letter waits for its acknowledgement: a long linger would only add to that wait.
      {"linger.ms", "2"},
  };
  for (const auto& [name, value] : options.properties) properties[name] = value;
  WOJAK_ASSIGN_OR_RETURN(KafkaConf conf, MakeKafkaConf(options.client, properties));
  std::unique_ptr<KafkaPublisher> publisher(new KafkaPublisher(nullptr));
  rd_kafka_conf_set_opaque(conf.get(), publisher.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaPublisher::OnDelivery);
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof(error));
  if (handle == nullptr) return InvalidArgument(std::string("kafka producer: ") + error);
  conf.release();  // rd_kafka_new owns it now
  publisher->producer_.reset(handle);
  return publisher;
}

KafkaPublisher::KafkaPublisher(KafkaHandle producer) : producer_(std::move(producer)) {}

KafkaPublisher::~KafkaPublisher() {
  if (producer_ == nullptr) return;
  // Reports still due run their callbacks with a failure rather than never.
  rd_kafka_flush(producer_.get(), 1000);
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer_.get(), 0);
  producer_.reset();
}

void KafkaPublisher::OnDelivery(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message,
                                void* opaque) {
  auto* self = static_cast<KafkaPublisher*>(opaque);
  const uint64_t id = reinterpret_cast<uintptr_t>(message->_private);
  auto it = self->callbacks_.find(id);
  if (it == self->callbacks_.end()) return;
  std::function<void(const Status&)> done = std::move(it->second);
  self->callbacks_.erase(it);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    done(OkStatus());
  } else {
    done(Unavailable("kafka delivery to " + std::string(rd_kafka_topic_name(message->rkt)) +
                     " failed: " + rd_kafka_err2str(message->err)));
  }
}

Status KafkaPublisher::Produce(const KafkaRecord& record, uint64_t id) {
  for (int attempt = 0;; ++attempt) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
    for (const auto& [name, value] : record.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
        RD_KAFKA_V_KEY(record.key.empty() ? nullptr : const_cast<char*>(record.key.data()),
                       record.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(id))), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return OkStatus();
    rd_kafka_headers_destroy(headers);  // still ours when producev fails
    // A full local queue drains as reports are served; anything else is a real refusal.
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt >= 100) {
      return Unavailable("kafka produce to " + record.topic + ": " + rd_kafka_err2str(err));
    }
    rd_kafka_poll(producer_.get(), 10);
  }
}

Status KafkaPublisher::PublishAsync(const KafkaRecord& record,
                                    std::function<void(const Status&)> done) {
  const uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(done));
  Status status = Produce(record, id);
  if (!status.ok()) callbacks_.erase(id);
  return status;
}

Status KafkaPublisher::PublishAndWait(std::span<const KafkaRecord> records, milliseconds timeout) {
  struct Outcome {
    size_t remaining = 0;
    Status first_error;
  };
  auto outcome = std::make_shared<Outcome>();
  for (const KafkaRecord& record : records) {
    Status status = PublishAsync(record, [outcome](const Status& delivered) {
      --outcome->remaining;
      if (!delivered.ok() && outcome->first_error.ok()) outcome->first_error = delivered;
    });
    if (!status.ok()) {
      if (outcome->first_error.ok()) outcome->first_error = status;
      break;
    }
    ++outcome->remaining;
  }
  const Steady::time_point deadline = Steady::now() + timeout;
  while (outcome->remaining > 0) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) {
      return DeadlineExceeded("kafka: " + std::to_string(outcome->remaining) +
                              " record(s) not acknowledged within " +
                              std::to_string(timeout.count()) + " ms");
    }
    Serve(std::min(left, milliseconds(50)));
  }
  return outcome->first_error;
}

void KafkaPublisher::Serve(milliseconds wait) {
  rd_kafka_poll(producer_.get(), static_cast<int>(wait.count()));
}

Status KafkaPublisher::Flush(milliseconds timeout) {
  const Steady::time_point deadline = Steady::now() + timeout;
  while (!callbacks_.empty()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) {
      return DeadlineExceeded("kafka: " + std::to_string(callbacks_.size()) +
                              " record(s) not acknowledged");
    }
    Serve(std::min(left, milliseconds(50)));
  }
  return OkStatus();
}

}  // namespace wojak::sidecar::kafka
