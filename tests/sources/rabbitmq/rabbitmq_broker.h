// Test harness for the RabbitMQ source: a private rabbitmq-server on 127.0.0.1 (started through
// tests/testbeds/rabbitmq.sh) and a small AMQP client to publish, fetch and count messages.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sidecar/sources/rabbitmq/rabbitmq_connection.h"
#include "sidecar/sources/rabbitmq/rabbitmq_publisher.h"

namespace wojak::testing {

class RabbitBroker {
 public:
  // Uses the broker the CTest fixture started when WOJAK_TEST_RABBITMQ_DIR names one (it is
  // left running), otherwise starts a private one under `dir` (stopped by the destructor).
  static std::unique_ptr<RabbitBroker> StartOrAttach(const std::string& dir);
  // Always a private broker under `dir` (tests that restart it must not share it).
  static std::unique_ptr<RabbitBroker> StartPrivate(const std::string& dir);
  ~RabbitBroker();

  int port() const { return port_; }
  sidecar::rabbitmq::RabbitConnectionOptions connection_options() const;
  // Stops the node and starts it again on the same ports and data (durable queues and
  // persistent messages survive).
  void Restart();
  void Stop();
  void Start();  // after Stop(): same ports and data
  // SIGSTOP / SIGCONT the Erlang VM: a broker that holds its connections but answers nothing.
  void Pause();
  void Resume();
  // rabbitmqctl ARGS; returns its output (stdout + stderr).
  std::string Ctl(const std::vector<std::string>& args) const;
  // Ready and unacknowledged counts of a queue (rabbitmqctl list_queues); nullopt if absent.
  std::optional<std::pair<int, int>> QueueCounts(const std::string& queue) const;

 private:
  RabbitBroker(std::string dir, bool owned) : dir_(std::move(dir)), owned_(owned) {}
  void Run(const std::string& command);
  std::string dir_;
  bool owned_;
  bool running_ = false;
  int port_ = 0;
};

struct FetchedMessage {
  std::string body;
  bool redelivered = false;
  std::string message_id;
  std::string correlation_id;
  std::string type;
  std::map<std::string, std::string> headers;  // string-valued headers
  std::map<std::string, int64_t> int_headers;  // integer-valued headers
};

// A plain AMQP client for tests: its own connection, publisher confirms on every publish.
class AmqpTestClient {
 public:
  explicit AmqpTestClient(const sidecar::rabbitmq::RabbitConnectionOptions& options);
  ~AmqpTestClient();

  // Publishes to the default exchange (routing key = queue) and waits for the confirm.
  void Publish(const std::string& queue, const std::string& body,
               const std::string& message_id = "", const std::string& reply_to = "",
               const std::string& correlation_id = "", const std::string& type = "");
  void PublishAll(const std::vector<sidecar::rabbitmq::RabbitOutgoing>& messages);
  // basic.get with an ack: the next message of `queue`, or nullopt when it is empty.
  std::optional<FetchedMessage> Get(const std::string& queue, bool requeue = false);
  // Waits up to `timeout` for a message on `queue`.
  std::optional<FetchedMessage> WaitFor(const std::string& queue,
                                        std::chrono::milliseconds timeout);
  // A durable classic queue (for replies and dead letters in tests).
  void DeclareQueue(const std::string& queue, const std::string& type = "classic",
                    const std::string& dead_letter_exchange = "");
  void DeleteQueue(const std::string& queue);
  void BindQueue(const std::string& queue, const std::string& exchange,
                 const std::string& binding_key);
  // Ready messages (passive declare); -1 when the queue does not exist.
  int Ready(const std::string& queue);

 private:
  void Reconnect();
  sidecar::rabbitmq::RabbitConnectionOptions options_;
  std::unique_ptr<sidecar::rabbitmq::RabbitPublisher> publisher_;
  std::unique_ptr<sidecar::rabbitmq::RabbitConnection> reader_;
};

// A unique queue name per test, so tests sharing one broker never see each other's messages.
std::string UniqueQueueName(const std::string& prefix);

}  // namespace wojak::testing
