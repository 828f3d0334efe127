// Paper matching rules.
#include "executors/paper/paper_book.h"

#include <algorithm>

namespace wojak {
namespace {

constexpr Nanos kNanosPerDay = 24 * 3600 * kNanosPerSecond;
// 15:30 IST is 10:00 UTC (IST is UTC+05:30, no daylight saving).
constexpr Nanos kSessionCloseUtc = 10 * 3600 * kNanosPerSecond;

Nanos ToNanos(std::chrono::milliseconds duration) { return duration.count() * kNanosPerMilli; }

bool IsStop(OrderType type) {
  return type == OrderType::kStopLoss || type == OrderType::kStopLossMarket;
}

ExecutionReport Filled(const ExecutionOrder& order, Paise price) {
  ExecutionReport report;
  report.order_id = order.order_id;
  report.status = ExecutionStatus::kFilled;
  report.filled_quantity = order.order.quantity;
  report.fill_price = price;
  report.executor = "paper";
  return report;
}

ExecutionReport Failed(const ExecutionOrder& order, std::string reason) {
  ExecutionReport report;
  report.order_id = order.order_id;
  report.status = ExecutionStatus::kFailed;
  report.reason = std::move(reason);
  report.executor = "paper";
  return report;
}

std::string Describe(const OrderRequest& order) {
  std::string text = std::string(SideName(order.side)) + " " +
                     std::string(OrderTypeName(order.order_type)) + " " + order.symbol;
  if (order.price) text += " price " + order.price->ToString();
  if (order.trigger_price) text += " trigger " + order.trigger_price->ToString();
  return text;
}

}  // namespace

Nanos NextSessionClose(Nanos now) {
  Nanos day_start = now - ((now % kNanosPerDay) + kNanosPerDay) % kNanosPerDay;
  Nanos close = day_start + kSessionCloseUtc;
  return close > now ? close : close + kNanosPerDay;
}

PaperBook::PaperBook(PaperOptions options, LastPriceSource prices)
    : options_(options), prices_(std::move(prices)) {}

std::optional<LastPrice> PaperBook::FreshPrice(const OrderRequest& order, Nanos now,
                                               Nanos latest_receipt) const {
  if (!prices_) return std::nullopt;
  std::optional<LastPrice> price = prices_(order.exchange, order.symbol);
  // Same rule as the risk gate's reference price: an LTP exactly max_age old still counts, one
  // stamped after `now` (clocks apart) counts as fresh.
  if (!price || now - price->received_ns > ToNanos(options_.max_age)) return std::nullopt;
  if (price->received_ns > latest_receipt) return std::nullopt;
  return price;
}

std::optional<Paise> PaperBook::Match(Resting& resting, Paise ltp, bool arriving) const {
  const OrderRequest& order = resting.order.order;
  const bool buy = order.side == Side::kBuy;
  if (IsStop(order.order_type) && !resting.triggered) {
    const Paise trigger = order.trigger_price.value_or(resting.order.price);
    if (buy ? ltp < trigger : ltp > trigger) return std::nullopt;
    resting.triggered = true;
    // Once triggered it is a new LIMIT / MARKET order arriving at this LTP.
    arriving = true;
  }
  if (order.order_type == OrderType::kMarket || order.order_type == OrderType::kStopLossMarket) {
    return ltp;
  }
  const Paise limit = order.price.value_or(resting.order.price);
  if (buy ? ltp > limit : ltp < limit) return std::nullopt;
  if (!arriving) return limit;
  return buy ? std::min(ltp, limit) : std::max(ltp, limit);
}

std::optional<ExecutionReport> PaperBook::Arrive(ExecutionOrder order, Nanos now) {
  if (finished_.contains(order.order_id) || resting_.contains(order.order_id)) {
    return std::nullopt;
  }
  Resting resting;
  resting.order = std::move(order);
  const OrderRequest& request = resting.order.order;
  std::optional<LastPrice> price = FreshPrice(request, now, now);
  std::optional<Paise> fill = price ? Match(resting, price->ltp, true) : std::nullopt;
  if (fill) {
    finished_.insert(resting.order.order_id);
    return Filled(resting.order, *fill);
  }
  if (request.validity == Validity::kIoc) {
    finished_.insert(resting.order.order_id);
    return Failed(resting.order,
                  "IOC_NOT_FILLABLE: " + Describe(request) +
                      (price ? " against LTP " + price->ltp.ToString() : " with no fresh LTP"));
  }
  if (request.order_type == OrderType::kMarket) {
    resting.deadline = now + ToNanos(options_.max_wait);
    resting.deadline_reason = "NO_LTP";
  } else {
    resting.deadline =
        options_.max_rest.count() > 0 ? now + ToNanos(options_.max_rest) : NextSessionClose(now);
    resting.deadline_reason = "EXPIRED_UNFILLED";
  }
  std::string id = resting.order.order_id;
  resting_.emplace(std::move(id), std::move(resting));
  return std::nullopt;
}

std::vector<ExecutionReport> PaperBook::Poll(Nanos now) {
  std::vector<ExecutionReport> reports;
  for (auto it = resting_.begin(); it != resting_.end();) {
    Resting& resting = it->second;
    // A tick that arrived after the deadline is too late for this order even if the poll that
    // sees it runs a little after the deadline.
    std::optional<LastPrice> price =
        FreshPrice(resting.order.order, now, std::min(now, resting.deadline));
    std::optional<Paise> fill = price ? Match(resting, price->ltp, false) : std::nullopt;
    if (fill) {
      reports.push_back(Filled(resting.order, *fill));
    } else if (now >= resting.deadline) {
      reports.push_back(Failed(resting.order, std::string(resting.deadline_reason) + ": " +
                                                  Describe(resting.order.order)));
    } else {
      ++it;
      continue;
    }
    finished_.insert(it->first);
    it = resting_.erase(it);
  }
  return reports;
}

bool PaperBook::Withdraw(const std::string& order_id) {
  auto it = resting_.find(order_id);
  if (it == resting_.end()) return false;
  finished_.insert(it->first);
  resting_.erase(it);
  return true;
}

}  // namespace wojak
