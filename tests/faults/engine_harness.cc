// Harness for the storage-fault and corruption tests.
#include "faults/engine_harness.h"

#include <signal.h>

#include "common/config.h"
#include "journal/fault_vfs.h"
#include "wojak/client.h"

namespace wojak::faults {

using namespace std::chrono_literals;

std::string EngineConfigYaml(bool verify_on_open) {
  return std::string(::wojak::testing::kOpenSessionNoLimitsYaml) + std::string(R"(executor:
  kind: sandbox
  sandbox:
    fill_ratio: 0.8
    latency_max: 1ms
engine:
  verify_on_open: )") +
         (verify_on_open ? "true" : "false") + "\n";
}

OrderRequest TestOrder(const testing::InstrumentFixture& fixture, int n) {
  OrderRequest o;
  o.client_order_id = "f-" + std::to_string(n);
  o.account = "ACC" + std::to_string(n % 3);
  o.strategy = "faults";
  o.exchange = "NFO";
  o.symbol = fixture.future_symbol;
  o.side = n % 2 == 0 ? Side::kBuy : Side::kSell;
  o.quantity = n % 5 == 0 ? 70 : 75;
  o.order_type = OrderType::kLimit;
  o.price = *Paise::Parse(fixture.future_price);
  return o;
}

std::vector<OrderRequest> TestOrders(const testing::InstrumentFixture& fixture, int first,
                                     int count) {
  std::vector<OrderRequest> orders;
  for (int n = first; n < first + count; ++n) orders.push_back(TestOrder(fixture, n));
  return orders;
}

std::map<size_t, Decision> SendOnce(const std::string& endpoint,
                                    const std::vector<OrderRequest>& orders,
                                    std::chrono::seconds timeout) {
  ClientOptions options;
  options.endpoint = endpoint;
  options.max_in_flight = 64;
  options.connect_timeout = 5s;
  std::map<size_t, Decision> replies;
  auto client = EngineClient::Connect(options);
  if (!client.ok()) return replies;
  std::map<uint64_t, size_t> index_of;
  size_t next = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (replies.size() < orders.size() && std::chrono::steady_clock::now() < deadline) {
    while (next < orders.size()) {
      auto id = (*client)->Send(orders[next]);
      if (!id.ok()) break;
      index_of[*id] = next++;
    }
    auto polled = (*client)->Poll(20ms);
    if (!polled.ok()) break;
    for (Reply& reply : *polled) {
      auto it = index_of.find(reply.request_id);
      if (it == index_of.end()) continue;
      replies.emplace(it->second, std::move(reply.decision));
      index_of.erase(it);
    }
  }
  return replies;
}

bool IsDuplicateOf(const Decision& duplicate, const Decision& original) {
  return duplicate.kind == DecisionKind::kDuplicate && duplicate.original_kind == original.kind &&
         duplicate.order_id == original.order_id && duplicate.seq == original.seq &&
         duplicate.original_reasons == original.reasons &&
         duplicate.client_order_id == original.client_order_id;
}

uint64_t ExpectedEntries(const std::map<size_t, Decision>& decided) {
  uint64_t entries = 0;
  for (const auto& [index, decision] : decided) {
    entries += decision.kind == DecisionKind::kAccepted ? 2 : 1;
  }
  return entries;
}

InProcessEngine::InProcessEngine(std::string data_dir, testing::InstrumentFixture fixture)
    : data_dir_(std::move(data_dir)), fixture_(std::move(fixture)) {}

bool InProcessEngine::Start(std::string* error) {
  auto config = ConfigDocument::Parse(EngineConfigYaml());
  if (!config.ok()) {
    if (error != nullptr) *error = config.status().ToString();
    return false;
  }
  EngineOptions options;
  options.data_dir = data_dir_;
  options.endpoint = endpoint();
  options.instruments_path = fixture_.instruments_path;
  options.freeze_path = fixture_.freeze_path;
  options.journal_vfs = kFaultVfsName;
  auto engine = Engine::Open(options, **config);
  if (!engine.ok()) {
    if (error != nullptr) *error = engine.status().ToString();
    return false;
  }
  engine_ = std::move(engine).value();
  stop_ = false;
  sequencer_ = std::thread([this] { (void)engine_->Run(stop_); });
  return true;
}

void InProcessEngine::Stop() {
  if (!sequencer_.joinable()) return;
  stop_ = true;
  sequencer_.join();
  engine_.reset();
}

bool InProcessEngine::WaitForLastSeq(uint64_t seq) {
  return testing::WaitUntil([&] { return engine_->status().last_seq >= seq; }, 20s) &&
         engine_->status().last_seq == seq;
}

EngineProcess::EngineProcess(std::string data_dir, testing::InstrumentFixture fixture,
                             bool verify_on_open)
    : data_dir_(std::move(data_dir)), fixture_(std::move(fixture)) {
  testing::WriteFile(data_dir_ + "/wojak.yaml", EngineConfigYaml(verify_on_open));
}

void EngineProcess::Start() {
  const std::string log_path = data_dir_ + "/engine-" + std::to_string(++starts_) + ".log";
  process_ = testing::ChildProcess::Start(
      {testing::WojakBinary(), "engine", "--config", data_dir_ + "/wojak.yaml", "--data", data_dir_,
       "--endpoint", endpoint(), "--instruments", fixture_.instruments_path, "--freeze",
       fixture_.freeze_path},
      log_path);
  testing::WaitUntil(
      [&] {
        return testing::ReadFile(log_path).find("engine_ready") != std::string::npos ||
               !process_.running();
      },
      30s);
}

int EngineProcess::Stop() {
  process_.Signal(SIGTERM);
  return process_.Wait(10s);
}

std::string EngineProcess::log() const {
  return testing::ReadFile(data_dir_ + "/engine-" + std::to_string(starts_) + ".log");
}

int RunVerify(const std::string& data_dir, std::string* output) {
  const std::string log_path = data_dir + "/verify.log";
  std::remove(log_path.c_str());
  testing::ChildProcess verify = testing::ChildProcess::Start(
      {testing::WojakBinary(), "verify", "--data", data_dir}, log_path);
  const int status = verify.Wait(60s);
  if (output != nullptr) *output = testing::ReadFile(log_path);
  return status;
}

}  // namespace wojak::faults
