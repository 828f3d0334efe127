// `wojak bench source --source rabbitmq`: a private rabbitmq-server (tests/testbeds/rabbitmq.sh)
// with a fanout exchange feeding two quorum queues, one for the sidecar and one for the bare
// consumer. Orders carry reply_to, so settled orders are the RPC replies the sidecar published
// (each one confirmed before its order is acked); the bare rate is a plain consumer with the
// same prefetch acking every message.
#include <amqp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "bench/source_bench.h"
#include "sidecar/sources/rabbitmq/rabbitmq_connection.h"
#include "sidecar/sources/rabbitmq/rabbitmq_publisher.h"

namespace wojak::sidecar::rabbitmq {
namespace {

using Steady = std::chrono::steady_clock;

constexpr char kExchange[] = "wojak.bench";
constexpr char kOrders[] = "bench.orders";
constexpr char kBare[] = "bench.bare";
constexpr char kReplies[] = "bench.replies";
constexpr uint16_t kPrefetch = 1024;
constexpr size_t kPublishBatch = 2000;

// The testbed script, from the repository root (where the benchmark runs, like its default
// instrument files) or from $WOJAK_SOURCE_DIR.
std::string Script() {
  const char* root = std::getenv("WOJAK_SOURCE_DIR");
  return std::string(root != nullptr ? root : ".") + "/tests/testbeds/rabbitmq.sh";
}

// Runs the script and returns its standard output.
StatusOr<std::string> RunScript(const std::string& command, const std::string& directory) {
  const std::string line = "'" + Script() + "' " + command + " '" + directory + "' 2>&1";
  FILE* pipe = popen(line.c_str(), "r");
  if (pipe == nullptr) return Internal("cannot run " + Script());
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  if (status != 0) return Unavailable(Script() + " " + command + " failed: " + output);
  return output;
}

class RabbitBenchBroker final : public SourceBenchBroker {
 public:
  ~RabbitBenchBroker() override {
    stats_.reset();
    publisher_.reset();
    if (started_) RunScript("stop", directory_).status().IgnoreError();
  }

  Status Start(const std::string& directory) override {
    directory_ = directory;
    WOJAK_ASSIGN_OR_RETURN(std::string port, RunScript("fresh", directory_));
    started_ = true;
    options_.port = static_cast<uint16_t>(std::stoi(port));
    options_.password = "guest";
    std::ofstream(directory_ + "/password") << options_.password;

    WOJAK_ASSIGN_OR_RETURN(stats_, RabbitConnection::Open(options_, "wojak bench"));
    WOJAK_RETURN_IF_ERROR(stats_->OpenChannel(1));
    amqp_connection_state_t state = stats_->state();
    amqp_exchange_declare(state, 1, amqp_cstring_bytes(kExchange), amqp_cstring_bytes("fanout"), 0,
                          1, 0, 0, amqp_empty_table);
    WOJAK_RETURN_IF_ERROR(stats_->LastReply("declaring the bench exchange"));
    for (const char* queue : {kOrders, kBare, kReplies}) {
      RabbitTable arguments;
      arguments.String("x-queue-type", std::string_view(queue) == kReplies ? "classic" : "quorum");
      amqp_queue_declare(state, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, arguments.table());
      WOJAK_RETURN_IF_ERROR(stats_->LastReply(std::string("declaring ") + queue));
    }
    for (const char* queue : {kOrders, kBare}) {
      amqp_queue_bind(state, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes(kExchange),
                      amqp_empty_bytes, amqp_empty_table);
      WOJAK_RETURN_IF_ERROR(stats_->LastReply(std::string("binding ") + queue));
    }
    WOJAK_ASSIGN_OR_RETURN(publisher_, RabbitPublisher::Connect(options_, "wojak bench publisher"));
    return OkStatus();
  }

  Status Publish(const std::vector<std::string>& orders) override {
    std::vector<RabbitOutgoing> batch;
    for (size_t i = 0; i < orders.size(); ++i) {
      RabbitOutgoing message;
      message.exchange = kExchange;
      message.body = orders[i];
      message.message_id = "bench-" + std::to_string(i);
      message.reply_to = kReplies;
      batch.push_back(std::move(message));
      if (batch.size() == kPublishBatch || i + 1 == orders.size()) {
        WOJAK_RETURN_IF_ERROR(publisher_->PublishConfirmed(batch, std::chrono::seconds(120)));
        batch.clear();
      }
    }
    return OkStatus();
  }

  std::string SidecarConfig() const override {
    return "    host: 127.0.0.1\n    port: " + std::to_string(options_.port) +
           "\n    password_file: " + directory_ + "/password\n    queue: " + kOrders +
           "\n    declare: false\n    retry_mode: hold\n    dead_letter_exchange: none\n"
           "    prefetch: " +
           std::to_string(kPrefetch) + "\n    stats_interval: 0\n";
  }

  StatusOr<uint64_t> Settled() override {
    amqp_queue_declare_ok_t* ok = amqp_queue_declare(
        stats_->state(), 1, amqp_cstring_bytes(kReplies), 1, 0, 0, 0, amqp_empty_table);
    WOJAK_RETURN_IF_ERROR(stats_->LastReply("reading the reply count"));
    return static_cast<uint64_t>(ok->message_count);
  }

  StatusOr<double> BareConsumeRate(uint64_t count) override {
    WOJAK_ASSIGN_OR_RETURN(std::unique_ptr<RabbitConnection> consumer,
                           RabbitConnection::Open(options_, "wojak bench bare consumer"));
    WOJAK_RETURN_IF_ERROR(consumer->OpenChannel(1));
    amqp_connection_state_t state = consumer->state();
    amqp_basic_qos(state, 1, 0, kPrefetch, 0);
    WOJAK_RETURN_IF_ERROR(consumer->LastReply("basic.qos"));
    const Steady::time_point started = Steady::now();
    amqp_basic_consume(state, 1, amqp_cstring_bytes(kBare), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    WOJAK_RETURN_IF_ERROR(consumer->LastReply("basic.consume"));
    for (uint64_t received = 0; received < count;) {
      amqp_envelope_t envelope;
      timeval timeout{120, 0};
      amqp_maybe_release_buffers(state);
      WOJAK_RETURN_IF_ERROR(
          consumer->Reply(amqp_consume_message(state, &envelope, &timeout, 0), "consuming"));
      WOJAK_RETURN_IF_ERROR(
          consumer->Library(amqp_basic_ack(state, 1, envelope.delivery_tag, 0), "basic.ack"));
      amqp_destroy_envelope(&envelope);
      ++received;
    }
    const double seconds = std::chrono::duration<double>(Steady::now() - started).count();
    return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
  }

 private:
  std::string directory_;
  bool started_ = false;
  RabbitConnectionOptions options_;
  std::unique_ptr<RabbitConnection> stats_;
  std::unique_ptr<RabbitPublisher> publisher_;
};

[[maybe_unused]] const bool registered =
    RegisterSourceBenchBroker("rabbitmq", [] { return std::make_unique<RabbitBenchBroker>(); });

}  // namespace
}  // namespace wojak::sidecar::rabbitmq
