// `wojak bench source --source nats`: a nats-server -js process with a file-storage stream;
// settled orders are the durable consumer's ack floor, the bare rate an ephemeral pull consumer
// acking each message.
#include "bench/source_bench.h"
#include "sidecar/sources/nats/nats_testbed.h"

namespace wojak::sidecar::nats {
namespace {

class NatsBenchBroker final : public SourceBenchBroker {
 public:
  Status Start(const std::string& directory) override {
    WOJAK_ASSIGN_OR_RETURN(server_, NatsServerProcess::Start(directory));
    WOJAK_RETURN_IF_ERROR(CreateStream(server_->url(), "ORDERS", {"orders.>"}));
    WOJAK_RETURN_IF_ERROR(CreateStream(server_->url(), "DEAD", {"wojak.dead-letter"}));
    WOJAK_ASSIGN_OR_RETURN(publisher_, NatsPublisher::Connect({.servers = {server_->url()}}));
    return OkStatus();
  }

  Status Publish(const std::vector<std::string>& orders) override {
    std::vector<NatsRecord> records;
    records.reserve(orders.size());
    for (size_t i = 0; i < orders.size(); ++i) {
      records.push_back({"orders.bench", orders[i], {}, ""});
    }
    return publisher_->PublishAndWait(records, std::chrono::seconds(120));
  }

  std::string SidecarConfig() const override {
    return "    servers: [\"" + server_->url() +
           "\"]\n    stream: ORDERS\n    subject: \"orders.>\"\n    consumer: wojak-bench\n"
           "    max_ack_pending: 20000\n";
  }

  StatusOr<uint64_t> Settled() override {
    WOJAK_ASSIGN_OR_RETURN(ConsumerState state,
                           ReadConsumerState(server_->url(), "ORDERS", "wojak-bench"));
    return state.ack_floor;
  }

  StatusOr<double> BareConsumeRate(uint64_t count) override {
    return nats::BareConsumeRate(server_->url(), "ORDERS", "orders.>", count,
                                 std::chrono::seconds(120));
  }

 private:
  std::unique_ptr<NatsServerProcess> server_;
  std::unique_ptr<NatsPublisher> publisher_;
};

[[maybe_unused]] const bool registered =
    RegisterSourceBenchBroker("nats", [] { return std::make_unique<NatsBenchBroker>(); });

}  // namespace
}  // namespace wojak::sidecar::nats
