// The outbox's NATS broker sink end to end, with real processes: `wojak engine` (outbox.sink:
// sidecar) → `wojak sidecar --source nats` (sidecar.outbox_endpoint) → nats-server -js. The
// scenario is tests/sources/outbox_e2e.h's; the rows are read back from a JetStream stream.
#include <gtest/gtest.h>

#include "sidecar/sources/nats/nats_testbed.h"
#include "sources/outbox_e2e.h"

namespace wojak::sidecar::nats {
namespace {

using wojak::testing::OutboxBrokerMessage;

constexpr const char* kMsgIdPrefix = "wojak-outbox-";

class NatsOutboxHooks final : public wojak::testing::OutboxBrokerHooks {
 public:
  explicit NatsOutboxHooks(const NatsServerProcess& server) : server_(server) {}

  std::string SourceName() const override { return "nats"; }
  std::string SourcesYaml() const override {
    return "sources:\n  nats:\n    servers: [\"" + server_.url() +
           "\"]\n    stream: ORDERS\n    subject: \"orders.>\"\n"
           "    consumer: sidecars\n    outbox:\n      servers: [\"" +
           server_.url() + "\"]\n";
  }
  std::vector<OutboxBrokerMessage> Consume(size_t count,
                                           std::chrono::milliseconds timeout) override {
    auto messages = ReadStream(server_.url(), "OUTBOX", "wojak.outbox.>", count, timeout);
    EXPECT_TRUE(messages.ok()) << messages.status().ToString();
    std::vector<OutboxBrokerMessage> out;
    if (!messages.ok()) return out;
    for (ReceivedMessage& message : *messages) {
      // JetStream dedupes by Nats-Msg-Id, which carries the outbox_seq.
      std::string id = message.headers["Nats-Msg-Id"];
      EXPECT_EQ(id.rfind(kMsgIdPrefix, 0), 0u) << id;
      const uint64_t seq = id.rfind(kMsgIdPrefix, 0) == 0
                               ? std::stoull(id.substr(std::string(kMsgIdPrefix).size()))
                               : 0;
      out.push_back({message.subject, message.headers["Wojak-Account"], seq, message.data});
    }
    return out;
  }
  std::string EscalationDestination() const override { return "wojak.outbox.escalation"; }

 private:
  const NatsServerProcess& server_;
};

TEST(NatsOutboxEndToEndTest, RowsReachJetStreamInOrderAndWaitInTheOutboxWhileTheSidecarIsDown) {
  wojak::testing::TempDir dir;
  auto server = NatsServerProcess::Start(dir.File("nats"));
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string url = (*server)->url();
  ASSERT_TRUE(CreateStream(url, "ORDERS", {"orders.>"}).ok());
  ASSERT_TRUE(CreateStream(url, "DEAD", {"wojak.dead-letter"}).ok());
  ASSERT_TRUE(CreateStream(url, "OUTBOX", {"wojak.outbox.>"}).ok());
  NatsOutboxHooks hooks(**server);
  wojak::testing::RunOutboxEndToEnd(hooks);
}

}  // namespace
}  // namespace wojak::sidecar::nats
