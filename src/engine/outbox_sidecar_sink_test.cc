// SidecarSink against a fake sidecar (a ROUTER in the test): the delivery carries the webhook
// body, topic and account; only the matching ok receipt counts; refusals, silence and a missing
// sidecar are errors, so the relay keeps the row.
#include "engine/outbox_sidecar_sink.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "journal/test_util.h"
#include "wire/codec.h"

namespace wojak {
namespace {

using namespace std::chrono_literals;

// Answers each OutboxDelivery with whatever `answer` returns (possibly several receipts, or
// none), and records the deliveries.
class FakeSidecar {
 public:
  using Answer = std::function<std::vector<OutboxReceipt>(const OutboxDelivery&)>;

  FakeSidecar(const std::string& endpoint, Answer answer)
      : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_ROUTER)), answer_(answer) {
    int linger = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof(linger));
    bound_ = zmq_bind(socket_, endpoint.c_str()) == 0;
    thread_ = std::thread([this] { Run(); });
  }
  ~FakeSidecar() {
    stop_ = true;
    thread_.join();
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }

  bool bound() const { return bound_; }
  std::vector<OutboxDelivery> deliveries() {
    std::lock_guard lock(mutex_);
    return deliveries_;
  }

 private:
  void Run() {
    while (!stop_) {
      zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
      if (zmq_poll(&item, 1, 10) <= 0) continue;
      std::string identity = Receive();
      std::string frame = Receive();
      StatusOr<OutboxDelivery> delivery = DecodeOutboxDelivery(frame);
      if (!delivery.ok()) continue;
      {
        std::lock_guard lock(mutex_);
        deliveries_.push_back(*delivery);
      }
      for (const OutboxReceipt& receipt : answer_(*delivery)) {
        std::string reply = EncodeOutboxReceipt(PeekRequestId(frame), receipt);
        zmq_send(socket_, identity.data(), identity.size(), ZMQ_SNDMORE);
        zmq_send(socket_, reply.data(), reply.size(), 0);
      }
    }
  }

  std::string Receive() {
    zmq_msg_t message;
    zmq_msg_init(&message);
    zmq_msg_recv(&message, socket_, 0);
    std::string bytes(static_cast<const char*>(zmq_msg_data(&message)), zmq_msg_size(&message));
    zmq_msg_close(&message);
    return bytes;
  }

  void* context_;
  void* socket_;
  Answer answer_;
  bool bound_ = false;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<OutboxDelivery> deliveries_;
  std::thread thread_;
};

class SidecarSinkTest : public ::testing::Test {
 protected:
  std::unique_ptr<SidecarSink> Connect(std::chrono::milliseconds timeout = 5s) {
    SidecarSinkOptions options;
    options.endpoint = endpoint_;
    options.timeout = timeout;
    auto sink = SidecarSink::Connect(options);
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    return sink.ok() ? std::move(sink).value() : nullptr;
  }

  static OutboxRow Row(Seq outbox_seq) {
    return {outbox_seq, 40 + outbox_seq, "escalation",
            R"({"event":"escalation","order":{"account":"ACC7"}})"};
  }

  testing::TempDir dir_;
  const std::string endpoint_ = "ipc://" + dir_.path() + "/outbox.sock";
};

TEST_F(SidecarSinkTest, DeliversTheWebhookBodyTopicAndAccountAndSucceedsOnItsReceipt) {
  FakeSidecar sidecar(endpoint_, [](const OutboxDelivery& d) {
    return std::vector<OutboxReceipt>{{d.outbox_seq, true, ""}};
  });
  ASSERT_TRUE(sidecar.bound());
  auto sink = Connect();
  ASSERT_NE(sink, nullptr);

  Status delivered = sink->Deliver(Row(3));

  ASSERT_TRUE(delivered.ok()) << delivered.ToString();
  const std::vector<OutboxDelivery> deliveries = sidecar.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  const OutboxDelivery& d = deliveries[0];
  EXPECT_EQ(d.outbox_seq, 3u);
  EXPECT_EQ(d.entry_seq, 43u);
  EXPECT_EQ(d.topic, "escalation");
  EXPECT_EQ(d.account, "ACC7");
  EXPECT_EQ(d.body, WebhookBody(Row(3)));
}

TEST_F(SidecarSinkTest, ReceiptsOfEarlierRowsAreSkipped) {
  // A late "ok" for an earlier row first, then a refusal of this one: the refusal decides.
  FakeSidecar sidecar(endpoint_, [](const OutboxDelivery& d) {
    return std::vector<OutboxReceipt>{{d.outbox_seq - 1, true, ""},
                                      {d.outbox_seq, false, "no PubAck"}};
  });
  auto sink = Connect();
  ASSERT_NE(sink, nullptr);

  Status delivered = sink->Deliver(Row(5));

  ASSERT_FALSE(delivered.ok());
  EXPECT_NE(delivered.message().find("no PubAck"), std::string::npos) << delivered.ToString();
}

TEST_F(SidecarSinkTest, RefusedReceiptIsAnErrorNamingTheBrokersReason) {
  FakeSidecar sidecar(endpoint_, [](const OutboxDelivery& d) {
    return std::vector<OutboxReceipt>{{d.outbox_seq, false, "stream not found"}};
  });
  auto sink = Connect();
  ASSERT_NE(sink, nullptr);

  Status delivered = sink->Deliver(Row(1));

  EXPECT_EQ(delivered.code(), StatusCode::kUnavailable);
  EXPECT_NE(delivered.message().find("stream not found"), std::string::npos);
}

TEST_F(SidecarSinkTest, NoReceiptInTimeIsAnErrorAndALateOneDoesNotConfuseTheNextRow) {
  std::atomic<int> calls{0};
  FakeSidecar sidecar(endpoint_, [&](const OutboxDelivery& d) {
    if (calls++ == 0) {
      std::this_thread::sleep_for(1s);  // answers the first row after the sink gave up
    }
    // The late answer refuses, so accepting it for the second row would fail the test.
    return std::vector<OutboxReceipt>{{d.outbox_seq, d.outbox_seq != 1, "refused"}};
  });
  auto sink = Connect(500ms);
  ASSERT_NE(sink, nullptr);

  Status first = sink->Deliver(Row(1));
  EXPECT_EQ(first.code(), StatusCode::kDeadlineExceeded) << first.ToString();
  std::this_thread::sleep_for(1s);  // the late refusal of row 1 is now queued for the sink
  Status second = sink->Deliver(Row(2));
  EXPECT_TRUE(second.ok()) << second.ToString();
}

TEST_F(SidecarSinkTest, NoSidecarIsAnError) {
  auto sink = Connect(100ms);
  ASSERT_NE(sink, nullptr);

  Status delivered = sink->Deliver(Row(1));

  EXPECT_EQ(delivered.code(), StatusCode::kUnavailable);
}

OutboxOptions ReadOptions(const std::string& yaml, ConfigDocument** document_out,
                          std::unique_ptr<ConfigDocument>& holder) {
  std::map<std::string, std::string> no_env;
  auto config = ConfigDocument::Parse(yaml, &no_env);
  EXPECT_TRUE(config.ok());
  holder = std::move(config).value();
  *document_out = holder.get();
  return ReadOutboxOptions(holder->Root().Section("outbox", ""));
}

TEST(SidecarSinkOptionsTest, SidecarSinkNeedsAnEndpointButNoUrlOrSecret) {
  std::unique_ptr<ConfigDocument> holder;
  ConfigDocument* document = nullptr;
  ReadOptions("outbox:\n  enabled: true\n  sink: sidecar\n", &document, holder);
  ASSERT_EQ(document->errors().all().size(), 1u);
  EXPECT_NE(document->errors().all()[0].find("sidecar_endpoint"), std::string::npos);
}

TEST(SidecarSinkOptionsTest, PlainTcpToAnotherHostIsRefused) {
  std::unique_ptr<ConfigDocument> holder;
  ConfigDocument* document = nullptr;
  ReadOptions(
      "outbox:\n  enabled: true\n  sink: sidecar\n  sidecar_endpoint: tcp://10.0.0.5:7000\n",
      &document, holder);
  ASSERT_EQ(document->errors().all().size(), 1u);
  EXPECT_NE(document->errors().all()[0].find("CURVE"), std::string::npos)
      << document->errors().all()[0];
}

TEST(SidecarSinkOptionsTest, DefaultSinkIsTheWebhook) {
  std::unique_ptr<ConfigDocument> holder;
  ConfigDocument* document = nullptr;
  OutboxOptions options = ReadOptions("outbox:\n  enabled: false\n", &document, holder);
  EXPECT_EQ(options.sink, "webhook");
  EXPECT_TRUE(document->errors().empty());
}

}  // namespace
}  // namespace wojak
