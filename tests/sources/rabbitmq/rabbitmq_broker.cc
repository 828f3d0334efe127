// RabbitMQ test harness: broker lifetime through tests/testbeds/rabbitmq.sh, and a tiny client.
#include "rabbitmq_broker.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/process.h"

namespace wojak::testing {

namespace rmq = sidecar::rabbitmq;
using namespace std::chrono_literals;

namespace {

std::string Script() { return SourceDir() + "/tests/testbeds/rabbitmq.sh"; }

std::string RunScript(const std::vector<std::string>& args, std::chrono::seconds timeout,
                      int* exit_code) {
  static std::atomic<int> counter{0};
  const std::string log =
      std::filesystem::temp_directory_path() /
      ("wojak-rabbitmq-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".log");
  std::vector<std::string> argv = {"/bin/bash", Script()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child = ChildProcess::Start(argv, log);
  *exit_code = child.Wait(timeout);
  std::string output = ReadFile(log);
  std::filesystem::remove(log);
  return output;
}

}  // namespace

std::unique_ptr<RabbitBroker> RabbitBroker::StartOrAttach(const std::string& dir) {
  const char* shared = std::getenv("WOJAK_TEST_RABBITMQ_DIR");
  if (shared != nullptr && std::filesystem::exists(std::string(shared) + "/broker.env")) {
    std::unique_ptr<RabbitBroker> broker(new RabbitBroker(shared, /*owned=*/false));
    const std::string env = ReadFile(std::string(shared) + "/broker.env");
    const size_t at = env.find("PORT=");
    broker->port_ = std::stoi(env.substr(at + 5));
    broker->running_ = true;
    return broker;
  }
  return StartPrivate(dir);
}

std::unique_ptr<RabbitBroker> RabbitBroker::StartPrivate(const std::string& dir) {
  std::unique_ptr<RabbitBroker> broker(new RabbitBroker(dir, /*owned=*/true));
  broker->Run("start");
  return broker;
}

RabbitBroker::~RabbitBroker() {
  if (owned_ && running_) Stop();
}

void RabbitBroker::Run(const std::string& command) {
  int exit_code = -1;
  const std::string output = RunScript({command, dir_}, std::chrono::seconds(120), &exit_code);
  if (exit_code != 0) {
    throw std::runtime_error("rabbitmq.sh " + command + " failed (" + std::to_string(exit_code) +
                             "): " + output);
  }
  if (command == "start") {
    port_ = std::stoi(output);
    running_ = true;
  } else if (command == "stop") {
    running_ = false;
  }
}

void RabbitBroker::Restart() {
  Stop();
  Start();
}

void RabbitBroker::Start() { Run("start"); }

void RabbitBroker::Pause() {
  const pid_t pid = std::stoi(ReadFile(dir_ + "/rabbit.pid"));
  ::kill(pid, SIGSTOP);
}

void RabbitBroker::Resume() {
  const pid_t pid = std::stoi(ReadFile(dir_ + "/rabbit.pid"));
  ::kill(pid, SIGCONT);
}

void RabbitBroker::Stop() { Run("stop"); }

std::string RabbitBroker::Ctl(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"ctl", dir_};
  all.insert(all.end(), args.begin(), args.end());
  int exit_code = -1;
  return RunScript(all, std::chrono::seconds(90), &exit_code);
}

std::optional<std::pair<int, int>> RabbitBroker::QueueCounts(const std::string& queue) const {
  std::istringstream lines(Ctl({"list_queues", "--quiet", "--no-table-headers", "name",
                                "messages_ready", "messages_unacknowledged"}));
  std::string name;
  int ready = 0;
  int unacked = 0;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    if (fields >> name >> ready >> unacked && name == queue) return std::make_pair(ready, unacked);
  }
  return std::nullopt;
}

rmq::RabbitConnectionOptions RabbitBroker::connection_options() const {
  rmq::RabbitConnectionOptions options;
  options.host = "127.0.0.1";
  options.port = static_cast<uint16_t>(port_);
  options.username = "guest";
  options.password = "guest";
  options.heartbeat = std::chrono::seconds(10);
  return options;
}

AmqpTestClient::AmqpTestClient(const rmq::RabbitConnectionOptions& options) : options_(options) {
  Reconnect();
}

AmqpTestClient::~AmqpTestClient() = default;

void AmqpTestClient::Reconnect() {
  publisher_.reset();
  reader_.reset();
  auto publisher = rmq::RabbitPublisher::Connect(options_, "wojak test publisher");
  if (!publisher.ok()) throw std::runtime_error(publisher.status().ToString());
  publisher_ = std::move(publisher).value();
  auto reader = rmq::RabbitConnection::Open(options_, "wojak test reader");
  if (!reader.ok()) throw std::runtime_error(reader.status().ToString());
  reader_ = std::move(reader).value();
  Status status = reader_->OpenChannel(1);
  if (!status.ok()) throw std::runtime_error(status.ToString());
}

void AmqpTestClient::Publish(const std::string& queue, const std::string& body,
                             const std::string& message_id, const std::string& reply_to,
                             const std::string& correlation_id, const std::string& type) {
  rmq::RabbitOutgoing message;
  message.routing_key = queue;
  message.body = body;
  message.message_id = message_id;
  message.reply_to = reply_to;
  message.correlation_id = correlation_id;
  message.type = type;
  PublishAll({message});
}

void AmqpTestClient::PublishAll(const std::vector<rmq::RabbitOutgoing>& messages) {
  Status status = publisher_->PublishConfirmed(messages, 30s);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

std::optional<FetchedMessage> AmqpTestClient::Get(const std::string& queue, bool requeue) {
  amqp_connection_state_t state = reader_->state();
  amqp_rpc_reply_t reply = amqp_basic_get(state, 1, rmq::StringBytes(queue), /*no_ack=*/0);
  Status status = reader_->Reply(reply, "basic.get");
  if (!status.ok()) {
    ADD_FAILURE() << status.ToString();
    Reconnect();
    return std::nullopt;
  }
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::nullopt;
  auto* get = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
  FetchedMessage fetched;
  fetched.redelivered = get->redelivered != 0;
  const uint64_t tag = get->delivery_tag;
  amqp_message_t message;
  status = reader_->Reply(amqp_read_message(state, 1, &message, 0), "reading a message");
  if (!status.ok()) {
    ADD_FAILURE() << status.ToString();
    Reconnect();
    return std::nullopt;
  }
  fetched.body = rmq::BytesToString(message.body);
  const amqp_basic_properties_t& p = message.properties;
  if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) fetched.message_id = rmq::BytesToString(p.message_id);
  if (p._flags & AMQP_BASIC_CORRELATION_ID_FLAG) {
    fetched.correlation_id = rmq::BytesToString(p.correlation_id);
  }
  if (p._flags & AMQP_BASIC_TYPE_FLAG) fetched.type = rmq::BytesToString(p.type);
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
    for (int i = 0; i < p.headers.num_entries; ++i) {
      const std::string key = rmq::BytesToString(p.headers.entries[i].key);
      const std::string text = rmq::TableString(p.headers, key);
      if (!text.empty()) fetched.headers[key] = text;
      const int64_t number = rmq::TableInt(p.headers, key, INT64_MIN);
      if (number != INT64_MIN) fetched.int_headers[key] = number;
    }
  }
  amqp_destroy_message(&message);
  if (requeue) {
    amqp_basic_reject(state, 1, tag, 1);
  } else {
    amqp_basic_ack(state, 1, tag, 0);
  }
  return fetched;
}

std::optional<FetchedMessage> AmqpTestClient::WaitFor(const std::string& queue,
                                                      std::chrono::milliseconds timeout) {
  std::optional<FetchedMessage> got;
  WaitUntil(
      [&] {
        got = Get(queue);
        return got.has_value();
      },
      timeout);
  return got;
}

void AmqpTestClient::DeclareQueue(const std::string& queue, const std::string& type,
                                  const std::string& dead_letter_exchange) {
  rmq::RabbitTable arguments;
  arguments.String("x-queue-type", type);
  if (!dead_letter_exchange.empty()) {
    arguments.String("x-dead-letter-exchange", dead_letter_exchange);
  }
  amqp_queue_declare(reader_->state(), 1, rmq::StringBytes(queue), 0, 1, 0, 0, arguments.table());
  Status status = reader_->LastReply("declaring " + queue);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

void AmqpTestClient::DeleteQueue(const std::string& queue) {
  amqp_queue_delete(reader_->state(), 1, rmq::StringBytes(queue), 0, 0);
  Status status = reader_->LastReply("deleting " + queue);
  if (!status.ok()) Reconnect();
}

void AmqpTestClient::BindQueue(const std::string& queue, const std::string& exchange,
                               const std::string& binding_key) {
  amqp_queue_bind(reader_->state(), 1, rmq::StringBytes(queue), rmq::StringBytes(exchange),
                  rmq::StringBytes(binding_key), amqp_empty_table);
  Status status = reader_->LastReply("binding " + queue + " to " + exchange);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

int AmqpTestClient::Ready(const std::string& queue) {
  amqp_queue_declare_ok_t* ok = amqp_queue_declare(reader_->state(), 1, rmq::StringBytes(queue), 1,
                                                   0, 0, 0, amqp_empty_table);
  Status status = reader_->LastReply("checking " + queue);
  if (!status.ok()) {
    Reconnect();
    return -1;
  }
  return static_cast<int>(ok->message_count);
}

std::string UniqueQueueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

}  // namespace wojak::testing
