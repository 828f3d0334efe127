// Conformance fixture for the RabbitMQ source: rabbitmq-server on loopback (the CTest fixture's
// broker when there is one, else one per process), a fresh queue per test. Orders are published
// with reply_to, so an ack is the decision the sidecar answered on the RPC reply queue; a dead
// letter is a message in <queue>.dead-letter with its reason header; a nack is the source's
// debug line. One queue, one consumer: RabbitMQ delivers in publish order.
#include <atomic>
#include <mutex>
#include <thread>

#include "conformance/harness.h"
#include "rabbitmq_broker.h"
#include "sidecar/sources/rabbitmq/rabbitmq_source.h"
#include "support/process.h"

namespace wojak::conformance {
namespace {

using namespace std::chrono_literals;
namespace rmq = sidecar::rabbitmq;
using ::wojak::testing::AmqpTestClient;
using ::wojak::testing::RabbitBroker;

// Started once per process (rabbitmq-server takes seconds to boot), stopped at exit.
RabbitBroker& SharedBroker() {
  static ::wojak::testing::TempDir directory;
  static std::unique_ptr<RabbitBroker> broker =
      RabbitBroker::StartOrAttach(directory.File("broker"));
  return *broker;
}

class RabbitFixture final : public SourceFixture {
 public:
  ~RabbitFixture() override { Stop(); }

  Status Start(const std::string& /*directory*/) override {
    broker_ = &SharedBroker();
    queue_ = ::wojak::testing::UniqueQueueName("conformance");
    replies_ = queue_ + ".replies";
    AmqpTestClient(broker_->connection_options()).DeclareQueue(replies_);
    WOJAK_ASSIGN_OR_RETURN(
        publisher_, rmq::RabbitPublisher::Connect(broker_->connection_options(), "conformance"));
    reader_ = std::thread([this] { Read(); });
    return OkStatus();
  }

  std::string SourceConfig() const override {
    return "    host: 127.0.0.1\n"
           "    port: " +
           std::to_string(broker_->port()) +
           "\n"
           "    queue: " +
           queue_ +
           "\n"
           "    retry_min_delay: 50ms\n"
           "    retry_max_delay: 800ms\n"
           "    reconnect_initial: 100ms\n";
  }

  std::vector<std::string> SidecarEnvironment() const override {
    return {"WOJAK_SOURCES_RABBITMQ_PASSWORD=guest", "WOJAK_LOG_LEVEL=debug"};
  }

  Status SidecarStarted(const std::string& log_path) override {
    log_path_ = log_path;
    if (!::wojak::testing::WaitUntil(
            [&] {
              return ::wojak::testing::ReadFile(log_path).find("rabbitmq_connected") !=
                     std::string::npos;
            },
            30s)) {
      return DeadlineExceeded("the sidecar never connected to RabbitMQ");
    }
    topology_declared_ = true;  // the dead-letter queue exists from now on
    return OkStatus();
  }

  Status Publish(const std::string& body, const std::string& ordering_key) override {
    rmq::RabbitOutgoing message;
    message.routing_key = queue_;
    message.body = body;
    std::lock_guard lock(publish_mutex_);
    message.message_id = "m-" + std::to_string(++published_);
    message.correlation_id = ordering_key;
    message.reply_to = replies_;
    return publisher_->PublishConfirmed({&message, 1}, 10s);
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
    return ::wojak::testing::CountInFile(log_path_, "rabbitmq_message_nacked");
  }
  bool PromisesOrdering() const override { return true; }

  void Stop() override {
    stopping_ = true;
    if (reader_.joinable()) reader_.join();
    publisher_.reset();
  }

 private:
  // Drains the reply and dead-letter queues on a connection of its own (librabbitmq
  // connections are not shared between threads).
  void Read() {
    AmqpTestClient reader(broker_->connection_options());
    while (!stopping_) {
      bool idle = true;
      while (auto reply = reader.Get(replies_)) {
        idle = false;
        nlohmann::json json = nlohmann::json::parse(reply->body, nullptr, false);
        // Answers to dead-lettered requests carry "error"; they are not acks of a decision.
        if (json.contains("error")) continue;
        std::lock_guard lock(mutex_);
        acked_.push_back({json.value("client_order_id", ""), json.value("decision", ""), json});
      }
      if (topology_declared_) {
        while (auto dead = reader.Get(queue_ + ".dead-letter")) {
          idle = false;
          std::lock_guard lock(mutex_);
          dead_lettered_.push_back({dead->body, dead->headers[rmq::kDeadLetterReasonHeader]});
        }
      }
      if (idle) std::this_thread::sleep_for(20ms);
    }
  }

  RabbitBroker* broker_ = nullptr;
  std::string queue_;
  std::string replies_;
  std::unique_ptr<rmq::RabbitPublisher> publisher_;
  std::mutex publish_mutex_;
  int published_ = 0;
  std::thread reader_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> topology_declared_{false};
  std::string log_path_;
  std::mutex mutex_;
  std::vector<Acked> acked_;
  std::vector<DeadLettered> dead_lettered_;
};

}  // namespace

WOJAK_REGISTER_SOURCE_FIXTURE("rabbitmq", [] { return std::make_unique<RabbitFixture>(); });

}  // namespace wojak::conformance
