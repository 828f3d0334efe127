// NatsOutboxPublisher against a real nats-server -js on loopback: rows land on
// <subject_prefix>.<topic> with the webhook body and Nats-Msg-Id, a redelivered row is stored
// once, and a subject no stream captures is an error (the row stays in the engine's outbox).
#include "sidecar/sources/nats/nats_outbox_publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "sidecar/sources/nats/nats_testbed.h"

namespace wojak::sidecar::nats {
namespace {

using namespace std::chrono_literals;

class NatsOutboxPublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("wojak-nats-outbox-" + std::to_string(getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    auto server = NatsServerProcess::Start(directory_.string());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(directory_);
  }

  // Built the way the sidecar builds it: through the registry, from a config section.
  std::unique_ptr<OutboxPublisher> StartPublisher(const std::string& extra_yaml = "") {
    auto config =
        ConfigDocument::Parse("outbox:\n  servers: [\"" + server_->url() + "\"]\n" + extra_yaml);
    EXPECT_TRUE(config.ok());
    const OutboxPublisherFactory* factory = OutboxPublisherRegistry::Find("nats");
    EXPECT_NE(factory, nullptr);
    if (!config.ok() || factory == nullptr) return nullptr;
    ConfigSection section = (*config)->Root().Section("outbox", "");
    auto publisher = (*factory)(section);
    EXPECT_TRUE((*config)->errors().empty()) << (*config)->errors().ToStatus().ToString();
    EXPECT_TRUE(publisher.ok()) << publisher.status().ToString();
    if (!publisher.ok()) return nullptr;
    Status started = (*publisher)->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return std::move(publisher).value();
  }

  static OutboxMessage Row(uint64_t outbox_seq, const std::string& topic = "escalation") {
    return {outbox_seq, 100 + outbox_seq, topic, "ACC1",
            R"({"outbox_seq":)" + std::to_string(outbox_seq) + R"(,"entry_seq":1,"topic":")" +
                topic + R"(","payload":{}})"};
  }

  std::filesystem::path directory_;
  std::unique_ptr<NatsServerProcess> server_;
};

TEST_F(NatsOutboxPublisherTest, RowLandsOnPrefixedTopicSubjectWithBodyAndMessageId) {
  ASSERT_TRUE(CreateStream(server_->url(), "OUTBOX", {"wojak.outbox.>"}).ok());
  auto publisher = StartPublisher();
  ASSERT_NE(publisher, nullptr);

  Status published = publisher->Publish(Row(7), 5s);
  ASSERT_TRUE(published.ok()) << published.ToString();

  auto messages = ReadStream(server_->url(), "OUTBOX", "wojak.outbox.>", 1, 5s);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 1u);
  const ReceivedMessage& message = (*messages)[0];
  EXPECT_EQ(message.subject, "wojak.outbox.escalation");
  EXPECT_EQ(message.data, Row(7).body);
  EXPECT_EQ(message.headers.at("Nats-Msg-Id"), "wojak-outbox-7");
  EXPECT_EQ(message.headers.at("Wojak-Account"), "ACC1");
  EXPECT_EQ(message.headers.at("Wojak-Outbox-Seq"), "7");
}

TEST_F(NatsOutboxPublisherTest, SubjectPrefixIsConfigurable) {
  ASSERT_TRUE(CreateStream(server_->url(), "RMS", {"rms.feed.>"}).ok());
  auto publisher = StartPublisher("  subject_prefix: rms.feed\n");
  ASSERT_NE(publisher, nullptr);

  ASSERT_TRUE(publisher->Publish(Row(1, "execution"), 5s).ok());

  auto messages = ReadStream(server_->url(), "RMS", "rms.feed.>", 1, 5s);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].subject, "rms.feed.execution");
}

TEST_F(NatsOutboxPublisherTest, RedeliveredRowIsStoredOnce) {
  ASSERT_TRUE(CreateStream(server_->url(), "OUTBOX", {"wojak.outbox.>"}).ok());
  auto publisher = StartPublisher();
  ASSERT_NE(publisher, nullptr);

  ASSERT_TRUE(publisher->Publish(Row(3), 5s).ok());
  Status again = publisher->Publish(Row(3), 5s);
  ASSERT_TRUE(again.ok()) << again.ToString();
  ASSERT_TRUE(publisher->Publish(Row(4), 5s).ok());

  // Asks for three: only two arrive, the second publish of row 3 was dropped by the stream.
  auto messages = ReadStream(server_->url(), "OUTBOX", "wojak.outbox.>", 3, 1s);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].headers.at("Nats-Msg-Id"), "wojak-outbox-3");
  EXPECT_EQ((*messages)[1].headers.at("Nats-Msg-Id"), "wojak-outbox-4");
}

TEST_F(NatsOutboxPublisherTest, SubjectNoStreamCapturesIsAnError) {
  auto publisher = StartPublisher();
  ASSERT_NE(publisher, nullptr);

  Status published = publisher->Publish(Row(1), 2s);

  EXPECT_FALSE(published.ok());
}

TEST(NatsOutboxOptionsTest, WildcardPrefixIsRefused) {
  auto config = ConfigDocument::Parse("outbox:\n  subject_prefix: wojak.>\n");
  ASSERT_TRUE(config.ok());
  ConfigSection section = (*config)->Root().Section("outbox", "");
  ReadNatsOutboxOptions(section);
  ASSERT_EQ((*config)->errors().all().size(), 1u);
  EXPECT_NE((*config)->errors().all()[0].find("subject_prefix"), std::string::npos);
}

}  // namespace
}  // namespace wojak::sidecar::nats
