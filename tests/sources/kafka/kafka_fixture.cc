// Conformance fixture for the Kafka source: librdkafka's mock cluster in the test process. An ack
// is a decision on the reply topic, a dead letter a record on the dead-letter topic (both read
// back continuously by a plain consumer); a nack is the source's debug log line (Kafka itself
// records no redeliveries). The ordering key is the message key, so one account is one partition.
#include <atomic>
#include <mutex>
#include <thread>

#include "conformance/harness.h"
#include "sidecar/sources/kafka/kafka_source.h"
#include "sidecar/sources/kafka/kafka_testbed.h"
#include "support/process.h"

namespace wojak::conformance {
namespace {

using namespace std::chrono_literals;
using sidecar::kafka::KafkaClientOptions;
using sidecar::kafka::KafkaConf;
using sidecar::kafka::KafkaHandle;
using sidecar::kafka::KafkaMockCluster;
using sidecar::kafka::KafkaPartitionList;
using sidecar::kafka::KafkaPublisher;
using sidecar::kafka::KafkaPublisherOptions;
using sidecar::kafka::KafkaRecord;

constexpr const char* kOrders = "orders";
constexpr const char* kDeadLetters = "orders.dlq";
constexpr const char* kReplies = "decisions";

class KafkaFixture final : public SourceFixture {
 public:
  ~KafkaFixture() override { Stop(); }

  Status Start(const std::string& /*directory*/) override {
    WOJAK_ASSIGN_OR_RETURN(cluster_, KafkaMockCluster::Start(1));
    WOJAK_RETURN_IF_ERROR(cluster_->CreateTopic(kOrders, 3));
    WOJAK_RETURN_IF_ERROR(cluster_->CreateTopic(kDeadLetters, 1));
    WOJAK_RETURN_IF_ERROR(cluster_->CreateTopic(kReplies, 1));
    KafkaPublisherOptions options;
    options.client.brokers = cluster_->bootstrap_servers();
    options.client.client_id = "conformance";
    WOJAK_ASSIGN_OR_RETURN(publisher_, KafkaPublisher::Create(options));
    WOJAK_RETURN_IF_ERROR(StartReader());
    return OkStatus();
  }

  std::string SourceConfig() const override {
    return "    brokers: \"" + cluster_->bootstrap_servers() +
           "\"\n"
           "    topics: [" +
           kOrders +
           "]\n"
           "    group_id: conformance\n"
           "    dead_letter_topic: " +
           kDeadLetters +
           "\n"
           "    reply_topic: " +
           kReplies +
           "\n"
           "    commit_interval: 100ms\n"
           "    session_timeout: 6s\n"
           "    heartbeat_interval: 500ms\n";
  }

  // Nacks are counted from the source's debug log.
  std::vector<std::string> SidecarEnvironment() const override { return {"WOJAK_LOG_LEVEL=debug"}; }

  Status SidecarStarted(const std::string& log_path) override {
    log_path_ = log_path;
    // Messages published before the group assigned partitions are not lost (the group starts
    // from the earliest offset), but waiting keeps the suite's timings meaningful.
    if (!::wojak::testing::WaitUntil(
            [&] {
              return ::wojak::testing::ReadFile(log_path).find(
                         R"("event":"kafka_partitions_assigned","partitions":"orders)") !=
                     std::string::npos;
            },
            30s)) {
      return DeadlineExceeded("the sidecar was never assigned partitions");
    }
    return OkStatus();
  }

  Status Publish(const std::string& body, const std::string& ordering_key) override {
    std::lock_guard lock(publish_mutex_);
    KafkaRecord record{kOrders, ordering_key, body, {}};
    return publisher_->PublishAndWait({&record, 1}, 10s);
  }

  std::vector<Acked> AckedMessages() override {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::vector<DeadLettered> DeadLetteredMessages() override {
    std::lock_guard lock(mutex_);
    return dead_lettered_;
  }
  size_t NackCount() override {
    if (log_path_.empty()) return 0;
    return ::wojak::testing::CountInFile(log_path_, "kafka_message_nacked");
  }
  bool PromisesOrdering() const override { return true; }

  void Stop() override {
    stopping_ = true;
    if (reader_.joinable()) reader_.join();
    reader_consumer_.reset();
    publisher_.reset();
    cluster_.reset();
  }

 private:
  Status StartReader() {
    KafkaClientOptions client;
    client.brokers = cluster_->bootstrap_servers();
    client.client_id = "conformance-reader";
    WOJAK_ASSIGN_OR_RETURN(KafkaConf conf,
                           MakeKafkaConf(client, {{"group.id", "conformance-reader"},
                                                  {"enable.auto.commit", "false"},
                                                  {"fetch.wait.max.ms", "10"}}));
    char error[512];
    rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof(error));
    if (handle == nullptr) return Internal(error);
    conf.release();
    reader_consumer_.reset(handle);
    rd_kafka_poll_set_consumer(handle);
    KafkaPartitionList list(rd_kafka_topic_partition_list_new(2));
    rd_kafka_topic_partition_list_add(list.get(), kReplies, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_partition_list_add(list.get(), kDeadLetters, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(handle, list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Internal("assigning the reader");
    }
    reader_ = std::thread([this] { Read(); });
    return OkStatus();
  }

  void Read() {
    while (!stopping_) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(reader_consumer_.get(), 50);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR && message->payload != nullptr) {
        const std::string topic = rd_kafka_topic_name(message->rkt);
        const std::string value(static_cast<const char*>(message->payload), message->len);
        std::lock_guard lock(mutex_);
        if (topic == kReplies) {
          nlohmann::json json = nlohmann::json::parse(value, nullptr, false);
          acked_.push_back({json.value("client_order_id", ""), json.value("decision", ""), json});
        } else {
          dead_lettered_.push_back({value, Header(message, sidecar::kafka::kReasonHeader)});
        }
      }
      rd_kafka_message_destroy(message);
    }
  }

  static std::string Header(const rd_kafka_message_t* message, std::string_view name) {
    rd_kafka_headers_t* headers = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(headers, std::string(name).c_str(), &value, &size) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      return "";
    }
    return std::string(static_cast<const char*>(value), size);
  }

  std::unique_ptr<KafkaMockCluster> cluster_;
  std::unique_ptr<KafkaPublisher> publisher_;
  std::mutex publish_mutex_;
  KafkaHandle reader_consumer_;
  std::thread reader_;
  std::atomic<bool> stopping_{false};
  std::string log_path_;
  std::mutex mutex_;
  std::vector<Acked> acked_;
  std::vector<DeadLettered> dead_lettered_;
};

}  // namespace

WOJAK_REGISTER_SOURCE_FIXTURE("kafka", [] { return std::make_unique<KafkaFixture>(); });

}  // namespace wojak::conformance
