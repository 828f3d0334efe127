// Executors: where accepted orders go. Results come back as ExecutionReports through the engine's
// sequencer (and so through the journal); an executor never touches trading state itself.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"
#include "model/order.h"
#include "model/requests.h"

namespace wojak {

struct ExecutionOrder {
  std::string order_id;  // also the idempotency key the executor must honour
  OrderRequest order;
  Paise price;  // limit price, or the reference price a MARKET order was protected at
};

// The latest traded price of one contract, as the engine's tick table holds it.
struct LastPrice {
  Paise ltp;
  Nanos exchange_ns = 0;  // exchange time of the tick
  Nanos received_ns = 0;  // when the engine stored it (wall clock); staleness is judged by this
};

// Looks up the latest LTP of a contract by exchange and trading symbol; nullopt when the symbol is
// unknown or no tick has arrived for it. Safe to call from any thread, never blocks for long.
using LastPriceSource =
    std::function<std::optional<LastPrice>(std::string_view exchange, std::string_view symbol)>;

// Delivers a result to the engine. Returns false when the engine cannot take it right now (queue
// full); the executor must keep the result and try again later, never drop it.
using ExecutionSink = std::function<bool(ExecutionReport&&)>;

class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::string_view name() const = 0;
  // Called once before Start by an engine that has live prices. Executors that simulate execution
  // against the market (paper) keep it; the others have no use for prices and ignore it.
  virtual void UseLastPrices(LastPriceSource) {}
  virtual Status Start(ExecutionSink sink) = 0;
  // Never blocks the caller (the sequencer thread). The same order_id may be submitted again after
  // an engine restart (reconciliation); the executor must treat it idempotently.
  virtual void Submit(ExecutionOrder order) = 0;
  // The engine cancelled an order it had submitted (a cancel request or a halt). An executor that
  // can still stop the order should; a result that arrives anyway is ignored by the engine.
  virtual void Withdraw(const std::string&) {}
  // Stops accepting work; results still pending are abandoned (reconciliation re-sends them).
  virtual void Stop() = 0;
};

using ExecutorFactory = std::function<StatusOr<std::unique_ptr<Executor>>(ConfigSection config)>;

// Executors register by name from their own folder; the engine picks one from `executor.kind`.
class ExecutorRegistry {
 public:
  static ExecutorRegistry& Instance();
  bool Register(std::string name, ExecutorFactory factory);
  StatusOr<std::unique_ptr<Executor>> Create(std::string_view name, ConfigSection config) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, ExecutorFactory, std::less<>> factories_;
};

#define WOJAK_REGISTER_EXECUTOR(name, factory)                                      \
  [[maybe_unused]] static const bool WOJAK_CONCAT(wojak_executor_registered_, __LINE__) = \
      ::wojak::ExecutorRegistry::Instance().Register(name, factory)

}  // namespace wojak
