// Mock cluster and test clients for Kafka on loopback.
#include "sidecar/sources/kafka/kafka_testbed.h"

#include <algorithm>
#include <tuple>

namespace wojak::sidecar::kafka {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// A plain consumer (no subscription): reads by assignment, never commits.
StatusOr<KafkaHandle> MakeConsumer(const std::string& brokers, const std::string& group) {
  KafkaClientOptions client;
  client.brokers = brokers;
  client.client_id = "wojak-testbed";
  WOJAK_ASSIGN_OR_RETURN(KafkaConf conf, MakeKafkaConf(client, {{"group.id", group},
                                                                {"enable.auto.commit", "false"},
                                                                {"enable.partition.eof", "false"},
                                                                {"fetch.wait.max.ms", "10"}}));
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof(error));
  if (handle == nullptr) return InvalidArgument(std::string("kafka consumer: ") + error);
  conf.release();
  rd_kafka_poll_set_consumer(handle);
  return KafkaHandle(handle);
}

StatusOr<int> PartitionCount(rd_kafka_t* handle, const std::string& topic, milliseconds timeout) {
  rd_kafka_topic_t* topic_handle = rd_kafka_topic_new(handle, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(handle, 0, topic_handle, &metadata, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(topic_handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable("kafka metadata for " + topic + ": " + rd_kafka_err2str(err));
  }
  int count = 0;
  if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    count = metadata->topics[0].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  if (count == 0) return NotFound("kafka topic " + topic + " has no partitions");
  return count;
}

Status AssignFromBeginning(rd_kafka_t* handle, const std::string& topic, int partitions) {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(handle, list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable(std::string("kafka assign: ") + rd_kafka_err2str(err));
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<KafkaMockCluster>> KafkaMockCluster::Start(int brokers) {
  KafkaConf conf(rd_kafka_conf_new());
  // The owner handle never connects anywhere; its "no bootstrap.servers" notice is noise.
  WOJAK_RETURN_IF_ERROR(SetKafkaProperty(conf.get(), "log_level", "3"));
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof(error));
  if (handle == nullptr) return Internal(std::string("kafka mock owner: ") + error);
  conf.release();
  std::unique_ptr<KafkaMockCluster> mock(new KafkaMockCluster());
  mock->owner_.reset(handle);
  mock->cluster_ = rd_kafka_mock_cluster_new(handle, brokers);
  if (mock->cluster_ == nullptr) return Internal("rd_kafka_mock_cluster_new failed");
  mock->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(mock->cluster_);
  return mock;
}

KafkaMockCluster::~KafkaMockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

Status KafkaMockCluster::CreateTopic(const std::string& topic, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Internal("mock topic " + topic + ": " + rd_kafka_err2str(err));
  }
  return OkStatus();
}

Status ProduceRecords(const std::string& brokers, std::span<const KafkaRecord> records,
                      milliseconds timeout) {
  KafkaPublisherOptions options;
  options.client.brokers = brokers;
  options.client.client_id = "wojak-testbed";
  // Many records per request: the preload of a benchmark should not take longer than the run.
  options.properties = {{"linger.ms", "5"}, {"batch.num.messages", "10000"}};
  WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<KafkaPublisher> publisher,
                         KafkaPublisher::Create(options));
  return publisher->PublishAndWait(records, timeout);
}

StatusOr<std::vector<ConsumedRecord>> ReadTopic(const std::string& brokers,
                                                const std::string& topic, size_t count,
                                                milliseconds timeout) {
  WOJAK_ASSIGN_OR_RETURN(KafkaHandle consumer, MakeConsumer(brokers, "wojak-testbed-reader"));
  WOJAK_ASSIGN_OR_RETURN(int partitions, PartitionCount(consumer.get(), topic, timeout));
  WOJAK_RETURN_IF_ERROR(AssignFromBeginning(consumer.get(), topic, partitions));
  std::vector<ConsumedRecord> records;
  const Steady::time_point deadline = Steady::now() + timeout;
  while (records.size() < count && Steady::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 50);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ConsumedRecord record;
      record.topic = rd_kafka_topic_name(message->rkt);
      record.partition = message->partition;
      record.offset = message->offset;
      if (message->key != nullptr) {
        record.key.assign(static_cast<const char*>(message->key), message->key_len);
      }
      if (message->payload != nullptr) {
        record.value.assign(static_cast<const char*>(message->payload), message->len);
      }
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          record.headers[name] =
              value == nullptr ? std::string() : std::string(static_cast<const char*>(value), size);
        }
      }
      records.push_back(std::move(record));
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer.get());
  std::sort(records.begin(), records.end(), [](const ConsumedRecord& a, const ConsumedRecord& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return records;
}

StatusOr<std::map<int32_t, int64_t>> CommittedOffsets(const std::string& brokers,
                                                      const std::string& group,
                                                      const std::string& topic, int partitions,
                                                      milliseconds timeout) {
  WOJAK_ASSIGN_OR_RETURN(KafkaHandle consumer, MakeConsumer(brokers, group));
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  }
  rd_kafka_resp_err_t err =
      rd_kafka_committed(consumer.get(), list.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable(std::string("kafka committed offsets: ") + rd_kafka_err2str(err));
  }
  std::map<int32_t, int64_t> offsets;
  for (int i = 0; i < list->cnt; ++i) {
    offsets[list->elems[i].partition] = list->elems[i].offset < 0 ? -1 : list->elems[i].offset;
  }
  return offsets;
}

StatusOr<double> BareConsumeRate(const std::string& brokers, const std::string& topic, size_t count,
                                 milliseconds timeout) {
  WOJAK_ASSIGN_OR_RETURN(KafkaHandle consumer, MakeConsumer(brokers, "wojak-testbed-bare"));
  WOJAK_ASSIGN_OR_RETURN(int partitions, PartitionCount(consumer.get(), topic, timeout));
  WOJAK_RETURN_IF_ERROR(AssignFromBeginning(consumer.get(), topic, partitions));
  size_t received = 0;
  Steady::time_point first;
  Steady::time_point last;
  const Steady::time_point deadline = Steady::now() + timeout;
  while (received < count && Steady::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 50);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (received == 0) first = Steady::now();
      last = Steady::now();
      ++received;
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer.get());
  if (received < count) {
    return DeadlineExceeded("bare consumer read " + std::to_string(received) + " of " +
                            std::to_string(count) + " records");
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  return seconds > 0 ? static_cast<double>(received - 1) / seconds : 0.0;
}

}  // namespace wojak::sidecar::kafka
