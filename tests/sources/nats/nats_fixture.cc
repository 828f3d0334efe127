// Conformance fixture for the NATS JetStream source: nats-server -js on loopback. An ack is a
// decision stored on the reply subject, a dead letter a message on the dead-letter subject (both
// captured by streams and read back continuously); a nack is the source's debug log line. The
// ordering key is the subject's last token. JetStream redelivers a naked message after later
// ones, so the source promises no per-key order.
#include <atomic>
#include <mutex>
#include <thread>

#include "conformance/harness.h"
#include "sidecar/sources/nats/nats_source.h"
#include "sidecar/sources/nats/nats_testbed.h"
#include "support/process.h"

namespace wojak::conformance {
namespace {

using namespace std::chrono_literals;
using sidecar::nats::CreateStream;
using sidecar::nats::NatsPublisher;
using sidecar::nats::NatsServerProcess;

class NatsFixture final : public SourceFixture {
 public:
  ~NatsFixture() override { Stop(); }

  Status Start(const std::string& directory) override {
    WOJAK_ASSIGN_OR_RETURN(server_, NatsServerProcess::Start(directory + "/nats"));
    WOJAK_RETURN_IF_ERROR(CreateStream(server_->url(), "ORDERS", {"orders.>"}));
    WOJAK_RETURN_IF_ERROR(CreateStream(server_->url(), "DEAD", {"wojak.dead-letter"}));
    WOJAK_RETURN_IF_ERROR(CreateStream(server_->url(), "REPLIES", {"replies.>"}));
    WOJAK_ASSIGN_OR_RETURN(publisher_, NatsPublisher::Connect({.servers = {server_->url()}}));
    WOJAK_RETURN_IF_ERROR(StartReader());
    return OkStatus();
  }

  std::string SourceConfig() const override {
    // A 1 s AckWait: the suite's stalled engine outlasts it, so leases must be extended.
    return "    servers: [\"" + server_->url() +
           "\"]\n"
           "    stream: ORDERS\n"
           "    subject: \"orders.>\"\n"
           "    consumer: conformance\n"
           "    ack_wait: 1s\n"
           "    reply_subject_prefix: replies\n";
  }

  std::vector<std::string> SidecarEnvironment() const override { return {"WOJAK_LOG_LEVEL=debug"}; }

  Status SidecarStarted(const std::string& log_path) override {
    log_path_ = log_path;
    if (!::wojak::testing::WaitUntil(
            [&] {
              return ::wojak::testing::ReadFile(log_path).find("nats_source_started") !=
                     std::string::npos;
            },
            30s)) {
      return DeadlineExceeded("the sidecar never started its NATS consumer");
    }
    return OkStatus();
  }

  Status Publish(const std::string& body, const std::string& ordering_key) override {
    return publisher_->Publish({"orders." + ordering_key, body, {}, ""}, 10s);
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
    return ::wojak::testing::CountInFile(log_path_, "nats_message_naked");
  }
  bool PromisesOrdering() const override { return false; }

  void Stop() override {
    stopping_ = true;
    if (reader_.joinable()) reader_.join();
    for (natsSubscription* subscription : {replies_, dead_}) {
      if (subscription != nullptr) natsSubscription_Destroy(subscription);
    }
    replies_ = dead_ = nullptr;
    if (jetstream_ != nullptr) jsCtx_Destroy(jetstream_);
    jetstream_ = nullptr;
    if (connection_ != nullptr) natsConnection_Destroy(connection_);
    connection_ = nullptr;
    publisher_.reset();
    server_.reset();
  }

 private:
  Status Subscribe(const char* stream, const char* subject, natsSubscription** subscription) {
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = stream;
    options.Config.AckPolicy = js_AckNone;
    options.Config.DeliverPolicy = js_DeliverAll;
    natsStatus status =
        js_PullSubscribe(subscription, jetstream_, subject, nullptr, nullptr, &options, nullptr);
    return status == NATS_OK ? OkStatus() : sidecar::nats::NatsError(status, subject);
  }

  Status StartReader() {
    natsStatus status = natsConnection_ConnectTo(&connection_, server_->url().c_str());
    if (status != NATS_OK) return sidecar::nats::NatsError(status, "reader connect");
    status = natsConnection_JetStream(&jetstream_, connection_, nullptr);
    if (status != NATS_OK) return sidecar::nats::NatsError(status, "reader jetstream");
    WOJAK_RETURN_IF_ERROR(Subscribe("REPLIES", "replies.>", &replies_));
    WOJAK_RETURN_IF_ERROR(Subscribe("DEAD", "wojak.dead-letter", &dead_));
    reader_ = std::thread([this] { Read(); });
    return OkStatus();
  }

  void Read() {
    while (!stopping_) {
      for (natsSubscription* subscription : {replies_, dead_}) {
        natsMsgList list = {nullptr, 0};
        if (natsSubscription_Fetch(&list, subscription, 64, 25, nullptr) != NATS_OK) continue;
        std::lock_guard lock(mutex_);
        for (int i = 0; i < list.Count; ++i) {
          natsMsg* message = list.Msgs[i];
          const std::string data(natsMsg_GetData(message),
                                 static_cast<size_t>(natsMsg_GetDataLength(message)));
          if (subscription == replies_) {
            nlohmann::json json = nlohmann::json::parse(data, nullptr, false);
            acked_.push_back({json.value("client_order_id", ""), json.value("decision", ""), json});
          } else {
            const char* reason = nullptr;
            natsMsgHeader_Get(message, sidecar::nats::kReasonHeader, &reason);
            dead_lettered_.push_back({data, reason != nullptr ? reason : ""});
          }
        }
        natsMsgList_Destroy(&list);
      }
    }
  }

  std::unique_ptr<NatsServerProcess> server_;
  std::unique_ptr<NatsPublisher> publisher_;
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
  natsSubscription* replies_ = nullptr;
  natsSubscription* dead_ = nullptr;
  std::thread reader_;
  std::atomic<bool> stopping_{false};
  std::string log_path_;
  std::mutex mutex_;
  std::vector<Acked> acked_;
  std::vector<DeadLettered> dead_lettered_;
};

}  // namespace

WOJAK_REGISTER_SOURCE_FIXTURE("nats", [] { return std::make_unique<NatsFixture>(); });

}  // namespace wojak::conformance
