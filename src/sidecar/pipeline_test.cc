// Tests for the pipeline's action table, timeouts, reconnects, windows, shards, leases and drain,
// against an in-process fake source and fake engine driven by a manual clock.
#include "sidecar/pipeline.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "sidecar/request_builder.h"

namespace wojak::sidecar {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Nanos kStart = 1'000 * kNanosPerSecond;

std::string OrderJson(const std::string& client_order_id, const std::string& account = "ACC1") {
  return R"({"client_order_id":")" + client_order_id + R"(","account":")" + account +
         R"(","exchange":"NFO","symbol":"NIFTY26JAN24000CE","side":"SELL","quantity":75,)"
         R"("order_type":"LIMIT","product":"NRML","price":"120.50"})";
}

Message OrderMessage(const std::string& client_order_id, uint32_t attempt = 0,
                     const std::string& account = "ACC1") {
  Message message;
  message.body = OrderJson(client_order_id, account);
  message.identity = "id-" + client_order_id;
  message.delivery_attempt = attempt;
  return message;
}

std::string IdOf(const Message& message) { return message.identity.substr(3); }

// Records what the pipeline did with every message.
class FakeSource final : public Source {
 public:
  Status Start() override { return OkStatus(); }
  StatusOr<std::vector<Message>> Poll(size_t max_messages, milliseconds) override {
    last_poll_max = max_messages;
    std::vector<Message> out;
    while (!queue.empty() && out.size() < max_messages) {
      out.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    return out;
  }
  Status Ack(const Message& message, const Decision& decision) override {
    acks.emplace_back(IdOf(message), decision);
    return OkStatus();
  }
  Status Nack(const Message& message, milliseconds delay) override {
    nacks.emplace_back(IdOf(message), delay);
    return OkStatus();
  }
  Status DeadLetter(const Message& message, const DeadLetterInfo& info) override {
    dead_letters.emplace_back(IdOf(message), info);
    return OkStatus();
  }
  seconds lease() const override { return lease_duration; }
  Status ExtendLease(const Message& message, seconds duration) override {
    extensions.emplace_back(IdOf(message), duration);
    return OkStatus();
  }
  void StopIntake() override { intake_stopped = true; }
  void Stop() override {}

  std::deque<Message> queue;
  size_t last_poll_max = 0;
  std::vector<std::pair<std::string, Decision>> acks;
  std::vector<std::pair<std::string, milliseconds>> nacks;
  std::vector<std::pair<std::string, DeadLetterInfo>> dead_letters;
  std::vector<std::pair<std::string, seconds>> extensions;
  seconds lease_duration{0};
  bool intake_stopped = false;
};

// An engine the test controls: reachable or not, answering or silent, and what it decides.
struct FakeEngine {
  bool reachable = true;
  bool answering = true;
  std::function<Reply(const Request&)> decide = [](const Request& request) {
    Reply reply;
    if (const auto* order = std::get_if<OrderRequest>(&request)) {
      reply.decision.kind = DecisionKind::kAccepted;
      reply.decision.client_order_id = order->client_order_id;
      reply.decision.account = order->account;
      reply.decision.order_id = "W-1";
      reply.decision.seq = 1;
    } else if (const auto* cancel = std::get_if<CancelRequest>(&request)) {
      reply.decision.kind = DecisionKind::kAccepted;
      reply.decision.client_order_id = cancel->client_order_id;
    }
    return reply;
  };
  std::vector<Request> received;  // everything but pings
  int pings = 0;
  int connects = 0;
  std::vector<ClientOptions> connect_options;
};

class FakeClient final : public EngineClient {
 public:
  FakeClient(FakeEngine& engine, ManualClock& clock, int max_in_flight)
      : engine_(engine), clock_(clock), max_in_flight_(max_in_flight) {}

  StatusOr<uint64_t> Send(const Request& request) override {
    if (!engine_.reachable) return ResourceExhausted("engine not connected");
    if (in_flight() >= max_in_flight_) return ResourceExhausted("window full");
    const uint64_t id = next_id_++;
    outstanding_.insert(id);
    if (std::holds_alternative<PingRequest>(request)) {
      ++engine_.pings;
    } else {
      engine_.received.push_back(request);
    }
    if (engine_.answering) {
      Reply reply =
          std::holds_alternative<PingRequest>(request) ? Reply{} : engine_.decide(request);
      reply.is_pong = std::holds_alternative<PingRequest>(request);
      reply.request_id = id;
      replies_.push_back(std::move(reply));
    }
    return id;
  }
  StatusOr<std::vector<Reply>> Poll(milliseconds max_wait) override {
    std::vector<Reply> out;
    for (Reply& reply : replies_) {
      if (outstanding_.erase(reply.request_id) != 0) out.push_back(std::move(reply));
    }
    replies_.clear();
    // Stands in for blocking: time passes while nobody answers.
    if (out.empty()) clock_.Advance(max_wait.count() * kNanosPerMilli);
    return out;
  }
  void Abandon(uint64_t request_id) override { outstanding_.erase(request_id); }
  int in_flight() const override { return static_cast<int>(outstanding_.size()); }

 private:
  FakeEngine& engine_;
  ManualClock& clock_;
  const int max_in_flight_;
  uint64_t next_id_ = 1;
  std::set<uint64_t> outstanding_;
  std::vector<Reply> replies_;
};

class PipelineTest : public testing::Test {
 protected:
  PipelineTest() : clock_(kStart) {
    options_.default_endpoint = "ipc://default";
    options_.window = 8;
    options_.request_timeout = milliseconds(5000);
    options_.max_attempts = 3;
    options_.backoff_initial = milliseconds(100);
    options_.backoff_max = milliseconds(1000);
    options_.heartbeat_interval = milliseconds(1000);
    options_.reconnect_interval = milliseconds(250);
    options_.connect_timeout = milliseconds(1000);
    options_.drain_timeout = milliseconds(2000);
  }

  Pipeline& MakePipeline() {
    pipeline_ = std::make_unique<Pipeline>(
        source_, "test", options_,
        [this](const ClientOptions& client_options) -> StatusOr<std::unique_ptr<EngineClient>> {
          FakeEngine& engine = engines_[client_options.endpoint];
          ++engine.connects;
          engine.connect_options.push_back(client_options);
          return std::unique_ptr<EngineClient>(
              std::make_unique<FakeClient>(engine, clock_, client_options.max_in_flight));
        },
        clock_, nullptr, &metrics_);
    return *pipeline_;
  }

  // Steps until the engine has answered the first ping (the pipeline is ready for orders).
  Pipeline& ReadyPipeline() {
    Pipeline& pipeline = MakePipeline();
    for (int i = 0; i < 3 && !pipeline.engine_available(); ++i) ASSERT_OK(pipeline.Step());
    return pipeline;
  }
  static void ASSERT_OK(const Status& status) { ASSERT_TRUE(status.ok()) << status.ToString(); }

  void Steps(int count) {
    for (int i = 0; i < count; ++i) EXPECT_TRUE(pipeline_->Step().ok());
  }
  FakeEngine& engine(const std::string& endpoint = "ipc://default") { return engines_[endpoint]; }

  ManualClock clock_;
  MetricsRegistry metrics_;
  PipelineOptions options_;
  FakeSource source_;
  std::map<std::string, FakeEngine> engines_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, BecomesAvailableWhenTheEngineAnswersAPing) {
  Pipeline& pipeline = MakePipeline();
  EXPECT_FALSE(pipeline.engine_available());
  Steps(2);
  EXPECT_TRUE(pipeline.engine_available());
  EXPECT_EQ(engine().pings, 1);
}

TEST_F(PipelineTest, AcksAnAcceptedOrderOnceWithItsDecision) {
  ReadyPipeline();
  source_.queue.push_back(OrderMessage("a"));
  Steps(3);
  ASSERT_EQ(source_.acks.size(), 1u);
  EXPECT_EQ(source_.acks[0].first, "a");
  EXPECT_EQ(source_.acks[0].second.kind, DecisionKind::kAccepted);
  EXPECT_TRUE(source_.nacks.empty());
  EXPECT_TRUE(source_.dead_letters.empty());
  EXPECT_EQ(pipeline_->counters().acked.load(), 1u);
}

TEST_F(PipelineTest, ExportsItsCountsAsMetricsLabelledWithTheSource) {
  ReadyPipeline();
  source_.queue.push_back(OrderMessage("a"));
  Message bad;
  bad.body = "nope";
  bad.identity = "id-bad";
  source_.queue.push_back(bad);
  Steps(3);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find(R"(wojak_sidecar_messages_total{source="test",outcome="received"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(wojak_sidecar_messages_total{source="test",outcome="acked"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(wojak_sidecar_messages_total{source="test",outcome="dead_lettered"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(wojak_sidecar_engine_up{source="test"} 1)"), std::string::npos);
}

TEST_F(PipelineTest, AcksEveryDecidedKind) {
  std::map<std::string, DecisionKind> kinds = {{"rej", DecisionKind::kRejected},
                                               {"esc", DecisionKind::kEscalated},
                                               {"dup", DecisionKind::kDuplicate}};
  engine().decide = [&](const Request& request) {
    Reply reply;
    reply.decision.client_order_id = std::get<OrderRequest>(request).client_order_id;
    reply.decision.kind = kinds[reply.decision.client_order_id];
    reply.decision.reasons.push_back({ReasonCode::k_QTY_ABOVE_FREEZE_LIMIT, "too many", ""});
    return reply;
  };
  ReadyPipeline();
  for (const auto& [id, kind] : kinds) source_.queue.push_back(OrderMessage(id));
  Steps(3);
  ASSERT_EQ(source_.acks.size(), 3u);
  for (const auto& [id, decision] : source_.acks) EXPECT_EQ(decision.kind, kinds[id]) << id;
}

TEST_F(PipelineTest, NacksARetryNoSoonerThanTheEngineAsks) {
  engine().decide = [](const Request&) {
    Reply reply;
    reply.decision.kind = DecisionKind::kRetry;
    reply.decision.retry_after_ms = 700;
    return reply;
  };
  ReadyPipeline();
  source_.queue.push_back(OrderMessage("a"));
  Steps(3);
  ASSERT_EQ(source_.nacks.size(), 1u);
  EXPECT_EQ(source_.nacks[0].second, milliseconds(700));
  EXPECT_TRUE(source_.acks.empty());
}

TEST_F(PipelineTest, DeadLettersMalformedJsonWithoutReachingTheEngine) {
  ReadyPipeline();
  Message bad;
  bad.body = "{not json";
  bad.identity = "id-bad";
  source_.queue.push_back(bad);
  source_.queue.push_back(OrderMessage("good"));
  Steps(3);
  ASSERT_EQ(source_.dead_letters.size(), 1u);
  EXPECT_EQ(source_.dead_letters[0].first, "bad");
  EXPECT_EQ(source_.dead_letters[0].second.kind, DeadLetterKind::kMalformed);
  EXPECT_FALSE(source_.dead_letters[0].second.reason.empty());
  ASSERT_EQ(engine().received.size(), 1u);
  ASSERT_EQ(source_.acks.size(), 1u);
  EXPECT_EQ(source_.acks[0].first, "good");
}

TEST_F(PipelineTest, DeadLettersWhatTheEngineCallsInvalid) {
  engine().decide = [](const Request&) {
    Reply reply;
    reply.decision.kind = DecisionKind::kRejected;
    reply.decision.reasons.push_back({ReasonCode::k_INVALID_ORDER, "symbol: bad", "symbol"});
    return reply;
  };
  ReadyPipeline();
  source_.queue.push_back(OrderMessage("a"));
  Steps(3);
  ASSERT_EQ(source_.dead_letters.size(), 1u);
  EXPECT_EQ(source_.dead_letters[0].second.reason, "symbol: bad");
  EXPECT_EQ(source_.dead_letters[0].second.decision.reasons.size(), 1u);
  EXPECT_TRUE(source_.acks.empty());
}

TEST_F(PipelineTest, DeadLettersARequestTheEngineCouldNotDecode) {
  engine().decide = [](const Request&) {
    Reply reply;
    reply.error = "unsupported envelope version";
    return reply;
  };
  ReadyPipeline();
  source_.queue.push_back(OrderMessage("a"));
  Steps(3);
  ASSERT_EQ(source_.dead_letters.size(), 1u);
  EXPECT_NE(source_.dead_letters[0].second.reason.find("unsupported envelope version"),
            std::string::npos);
}

TEST_F(PipelineTest, RefusesAForbiddenAccountBeforeTheEngine) {
  ReadyPipeline();
  Message message = OrderMessage("a", 0, "ACC9");
  auto scope = std::make_shared<AccountScope>();
  scope->accounts.insert("ACC1");
  message.scope = scope;
  source_.queue.push_back(message);
  Steps(3);
  ASSERT_EQ(source_.dead_letters.size(), 1u);
  EXPECT_EQ(source_.dead_letters[0].second.kind, DeadLetterKind::kForbidden);
  EXPECT_TRUE(engine().received.empty());
}

TEST_F(PipelineTest, SendsACancelToTheEngine) {
  ReadyPipeline();
  Message message;
  message.kind = MessageKind::kCancel;
  message.body = CancelBody("ACC1", "a");
  message.identity = "id-cancel";
  source_.queue.push_back(message);
  Steps(3);
  ASSERT_EQ(engine().received.size(), 1u);
  EXPECT_EQ(std::get<CancelRequest>(engine().received[0]).client_order_id, "a");
  ASSERT_EQ(source_.acks.size(), 1u);
}

TEST_F(PipelineTest, NacksEverythingInFlightWhenARequestTimesOut) {
  ReadyPipeline();
  engine().answering = false;
  source_.queue.push_back(OrderMessage("a"));
  source_.queue.push_back(OrderMessage("b"));
  Steps(1);
  EXPECT_EQ(pipeline_->in_flight(), 2);
  clock_.Advance(5 * kNanosPerSecond);
  Steps(1);
  EXPECT_TRUE(source_.acks.empty());
  ASSERT_EQ(source_.nacks.size(), 2u);
  EXPECT_EQ(pipeline_->in_flight(), 0);
  EXPECT_FALSE(pipeline_->engine_available());
  EXPECT_EQ(pipeline_->counters().engine_timeouts.load(), 1u);
}

TEST_F(PipelineTest, NacksAtOnceWhileTheEngineIsDown) {
  ReadyPipeline();
  engine().answering = false;
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  clock_.Advance(5 * kNanosPerSecond);
  Steps(1);
  ASSERT_FALSE(pipeline_->engine_available());
  const size_t sent_before = engine().received.size();
  source_.queue.push_back(OrderMessage("b"));
  Steps(1);
  ASSERT_EQ(source_.nacks.size(), 2u);
  EXPECT_EQ(source_.nacks[1].first, "b");
  EXPECT_EQ(engine().received.size(), sent_before);
}

TEST_F(PipelineTest, ReconnectsAndResumesAfterTheEngineComesBack) {
  ReadyPipeline();
  engine().answering = false;
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  clock_.Advance(5 * kNanosPerSecond);
  Steps(1);
  engine().answering = true;
  clock_.Advance(options_.reconnect_interval.count() * kNanosPerMilli);
  Steps(2);
  EXPECT_TRUE(pipeline_->engine_available());
  EXPECT_EQ(engine().connects, 2);
  source_.queue.push_back(OrderMessage("a", 2));
  Steps(2);
  ASSERT_EQ(source_.acks.size(), 1u);
  EXPECT_EQ(source_.acks[0].first, "a");
}

TEST_F(PipelineTest, HoldsMessagesWhileConnectingThenNacksWhenTheEngineStaysUnreachable) {
  engine().reachable = false;
  MakePipeline();
  Steps(1);
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  EXPECT_TRUE(source_.nacks.empty());
  clock_.Advance(options_.connect_timeout.count() * kNanosPerMilli);
  Steps(1);
  ASSERT_EQ(source_.nacks.size(), 1u);
  EXPECT_TRUE(engine().received.empty());
  EXPECT_FALSE(pipeline_->engine_available());
}

TEST_F(PipelineTest, NacksAtOnceOnceTheEngineIsKnownUnreachable) {
  engine().reachable = false;
  MakePipeline();
  Steps(1);
  clock_.Advance(options_.connect_timeout.count() * kNanosPerMilli);
  Steps(1);
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  ASSERT_EQ(source_.nacks.size(), 1u);
  EXPECT_TRUE(engine().received.empty());
}

TEST_F(PipelineTest, SendsWhatWaitedOnceAConnectingEngineAnswers) {
  engine().reachable = false;
  MakePipeline();
  Steps(1);
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  engine().reachable = true;
  Steps(3);
  ASSERT_EQ(source_.acks.size(), 1u);
  EXPECT_TRUE(source_.nacks.empty());
}

TEST_F(PipelineTest, ComesUpOnceAnUnreachableEngineBecomesReachable) {
  engine().reachable = false;
  MakePipeline();
  Steps(2);
  engine().reachable = true;
  Steps(2);
  EXPECT_TRUE(pipeline_->engine_available());
  EXPECT_EQ(engine().connects, 1);
}

TEST_F(PipelineTest, MarksTheEngineDownWhenItDisconnectsMidStream) {
  ReadyPipeline();
  engine().answering = false;
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  engine().reachable = false;
  source_.queue.push_back(OrderMessage("b"));
  Steps(1);
  EXPECT_EQ(source_.nacks.size(), 2u);
  EXPECT_FALSE(pipeline_->engine_available());
}

TEST_F(PipelineTest, DeadLettersAMessageThatTimedOutOnItsLastAttempt) {
  ReadyPipeline();
  engine().answering = false;
  source_.queue.push_back(OrderMessage("poison", options_.max_attempts));
  source_.queue.push_back(OrderMessage("innocent", 1));
  Steps(1);
  clock_.Advance(5 * kNanosPerSecond);
  Steps(1);
  ASSERT_EQ(source_.dead_letters.size(), 1u);
  EXPECT_EQ(source_.dead_letters[0].first, "poison");
  EXPECT_EQ(source_.dead_letters[0].second.kind, DeadLetterKind::kTooManyAttempts);
  ASSERT_EQ(source_.nacks.size(), 1u);
  EXPECT_EQ(source_.nacks[0].first, "innocent");
}

TEST_F(PipelineTest, BacksOffExponentiallyWithTheDeliveryAttempt) {
  options_.reconnect_interval = milliseconds(50);
  engine().reachable = false;
  MakePipeline();
  Steps(1);
  clock_.Advance(options_.connect_timeout.count() * kNanosPerMilli);
  Steps(1);
  for (uint32_t attempt = 1; attempt <= 6; ++attempt) {
    source_.queue.push_back(OrderMessage("a" + std::to_string(attempt), attempt));
  }
  // Far from the next reconnect, so the backoff alone sets the delay.
  Steps(1);
  ASSERT_EQ(source_.nacks.size(), 6u);
  std::vector<milliseconds> expected = {milliseconds(100), milliseconds(200),  milliseconds(400),
                                        milliseconds(800), milliseconds(1000), milliseconds(1000)};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(source_.nacks[i].second, expected[i]);
}

TEST_F(PipelineTest, KeepsNoMoreThanTheWindowInFlight) {
  options_.window = 2;
  ReadyPipeline();
  engine().answering = false;
  for (int i = 0; i < 5; ++i) source_.queue.push_back(OrderMessage("m" + std::to_string(i)));
  Steps(3);
  EXPECT_EQ(engine().received.size(), 2u);
  EXPECT_EQ(source_.queue.size(), 3u);
  EXPECT_EQ(pipeline_->in_flight(), 2);
}

TEST_F(PipelineTest, RoutesEachAccountToItsShard) {
  options_.shard_map = {{"ACC2", "ipc://shard2"}};
  ReadyPipeline();
  Steps(2);
  source_.queue.push_back(OrderMessage("one", 0, "ACC1"));
  source_.queue.push_back(OrderMessage("two", 0, "ACC2"));
  Steps(3);
  ASSERT_EQ(engine("ipc://default").received.size(), 1u);
  ASSERT_EQ(engine("ipc://shard2").received.size(), 1u);
  EXPECT_EQ(std::get<OrderRequest>(engine("ipc://shard2").received[0]).account, "ACC2");
  EXPECT_EQ(source_.acks.size(), 2u);
}

TEST_F(PipelineTest, ExtendsTheLeaseOfASlowMessageAtHalfLife) {
  source_.lease_duration = seconds(4);
  options_.request_timeout = milliseconds(10000);
  ReadyPipeline();
  engine().answering = false;
  source_.queue.push_back(OrderMessage("slow"));
  Steps(1);
  EXPECT_TRUE(source_.extensions.empty());
  clock_.Advance(2 * kNanosPerSecond);
  Steps(1);
  ASSERT_EQ(source_.extensions.size(), 1u);
  EXPECT_EQ(source_.extensions[0].first, "slow");
  EXPECT_EQ(source_.extensions[0].second, seconds(4));
  EXPECT_TRUE(source_.nacks.empty());
}

TEST_F(PipelineTest, PingsAnIdleEngineAndMarksItDownWithoutAPong) {
  ReadyPipeline();
  const int pings = engine().pings;
  engine().answering = false;
  clock_.Advance(options_.heartbeat_interval.count() * kNanosPerMilli);
  Steps(1);
  EXPECT_EQ(engine().pings, pings + 1);
  EXPECT_TRUE(pipeline_->engine_available());
  clock_.Advance(options_.request_timeout.count() * kNanosPerMilli);
  Steps(1);
  EXPECT_FALSE(pipeline_->engine_available());
}

TEST_F(PipelineTest, DrainAnswersWhatIsInFlightAndStopsIntake) {
  ReadyPipeline();
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  pipeline_->Drain();
  EXPECT_TRUE(source_.intake_stopped);
  ASSERT_EQ(source_.acks.size(), 1u);
  EXPECT_TRUE(source_.nacks.empty());
}

TEST_F(PipelineTest, DrainNacksWhatTheEngineDoesNotAnswerInTime) {
  ReadyPipeline();
  engine().answering = false;
  source_.queue.push_back(OrderMessage("a"));
  Steps(1);
  pipeline_->Drain();
  EXPECT_TRUE(source_.acks.empty());
  ASSERT_EQ(source_.nacks.size(), 1u);
  EXPECT_EQ(source_.nacks[0].second, milliseconds(0));
}

TEST_F(PipelineTest, RunDrainsAndReturnsWhenStopIsSet) {
  MakePipeline();
  std::atomic<bool> stop{true};
  EXPECT_TRUE(pipeline_->Run(stop).ok());
  EXPECT_TRUE(source_.intake_stopped);
}

}  // namespace
}  // namespace wojak::sidecar
