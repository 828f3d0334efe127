// Event application for the risk state: open orders, fills into positions and P&L, counters.
#include "risk/risk_state.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "risk/saturating.h"

namespace wojak {
namespace {

int64_t Signed(Side side, Qty quantity) { return side == Side::kBuy ? quantity : -quantity; }

int64_t LotsOf(Qty net_quantity, Qty lot_size) {
  return lot_size > 0 ? Abs(net_quantity) / lot_size : 0;
}

// Applies a signed fill to a position; returns the realised P&L it books. Reducing fills
// release a pro-rata share of the cost (truncated toward zero, deterministic); a fill that
// crosses zero opens the remainder at the fill price.
Paise ApplyFill(Position& position, int64_t signed_quantity, Paise price) {
  int64_t net = position.net_quantity;
  int64_t cost = position.cost.value();
  int64_t realised = 0;
  if (net == 0 || (net > 0) == (signed_quantity > 0)) {
    net += signed_quantity;
    cost = SaturatingAdd(cost, SaturatingMul(signed_quantity, price.value()));
  } else {
    int64_t closed = std::min(Abs(net), Abs(signed_quantity));
    int64_t direction = net > 0 ? 1 : -1;
    int64_t released = static_cast<int64_t>(static_cast<__int128>(cost) * closed / Abs(net));
    realised = SaturatingSub(SaturatingMul(direction * closed, price.value()), released);
    cost -= released;
    net -= direction * closed;
    int64_t rest = Abs(signed_quantity) - closed;
    if (rest > 0) {
      net = signed_quantity > 0 ? rest : -rest;
      cost = SaturatingMul(net, price.value());
    }
  }
  position.net_quantity = net;
  position.cost = Paise::FromPaise(cost);
  position.realised = Paise::FromPaise(SaturatingAdd(position.realised.value(), realised));
  return Paise::FromPaise(realised);
}

const char* StateName(TradingState state) { return TradingStateName(state).data(); }

}  // namespace

void DayCounter::Increment(EpochDay today) {
  if (day != today) {
    day = today;
    count = 0;
  }
  ++count;
}

int64_t RateWindow::CountInWindow(Nanos now) const {
  auto first = std::upper_bound(times_.begin() + static_cast<std::ptrdiff_t>(head_), times_.end(),
                                now - kRateWindow);
  return static_cast<int64_t>(times_.end() - first);
}

void RateWindow::Record(Nanos now) {
  if (size() > 0) now = std::max(now, times_.back());
  while (head_ < times_.size() && times_[head_] <= now - kRateWindow) ++head_;
  if (head_ == times_.size()) {
    times_.clear();
    head_ = 0;
  } else if (head_ >= 64 && head_ * 2 >= times_.size()) {
    times_.erase(times_.begin(), times_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  times_.push_back(now);
}

const Position* AccountState::FindPosition(int64_t instrument_token) const {
  if (positions.size() <= kLinearScanPositions) {
    for (size_t i = 0; i < holdings.size(); ++i) {
      if (holdings[i].instrument_token == instrument_token) return &positions[i];
    }
    return nullptr;
  }
  auto it = position_index.find(instrument_token);
  return it == position_index.end() ? nullptr : &positions[it->second];
}

uint32_t AccountState::PositionIndex(int64_t instrument_token, std::string_view underlying,
                                     Qty lot_size, uint32_t underlying_id) {
  auto [it, inserted] =
      position_index.emplace(instrument_token, static_cast<uint32_t>(positions.size()));
  if (inserted) {
    Position& position = positions.emplace_back();
    position.instrument_token = instrument_token;
    position.underlying = std::string(underlying);
    position.lot_size = lot_size;
    holdings.push_back(Holding{instrument_token, 0, 0, lot_size, underlying_id});
  }
  return it->second;
}

int64_t AccountState::UnderlyingLots(std::string_view underlying) const {
  int64_t lots = 0;
  for (const Position& position : positions) {
    if (position.underlying == underlying) lots += LotsOf(position.net_quantity, position.lot_size);
  }
  return lots;
}

std::optional<uint32_t> RiskState::FindUnderlyingId(std::string_view underlying) const {
  auto it = underlying_ids_.find(underlying);
  if (it == underlying_ids_.end()) return std::nullopt;
  return it->second;
}

Position& RiskState::PositionOf(AccountState& account, const OpenOrder& order) {
  auto id = underlying_ids_.find(order.underlying.str());
  if (id == underlying_ids_.end()) {
    id = underlying_ids_
             .emplace(order.underlying.str(), static_cast<uint32_t>(underlying_ids_.size()))
             .first;
  }
  return account.positions[account.PositionIndex(order.instrument_token, order.underlying.str(),
                                                 order.lot_size, id->second)];
}

RiskState::RiskState(const RiskStateOptions& options) {
  accounts_.reserve(options.expected_accounts);
  strategies_.reserve(options.expected_strategies);
  open_orders_.reserve(options.expected_open_orders);
}

AccountState& RiskState::Account(std::string_view account) {
  auto it = accounts_.find(account);
  if (it != accounts_.end()) return it->second;
  return accounts_.emplace(std::string(account), AccountState()).first->second;
}

StrategyState& RiskState::Strategy(std::string_view strategy) {
  auto it = strategies_.find(strategy);
  if (it != strategies_.end()) return it->second;
  return strategies_.emplace(std::string(strategy), StrategyState()).first->second;
}

const AccountState* RiskState::FindAccount(std::string_view account) const {
  auto it = accounts_.find(account);
  return it == accounts_.end() ? nullptr : &it->second;
}

const StrategyState* RiskState::FindStrategy(std::string_view strategy) const {
  auto it = strategies_.find(strategy);
  return it == strategies_.end() ? nullptr : &it->second;
}

const OpenOrder* RiskState::FindOpenOrder(OrderId id) const {
  auto it = open_orders_.find(id);
  return it == open_orders_.end() ? nullptr : &it->second;
}

void RiskState::OnOrderEvaluated(std::string_view account, std::string_view strategy, Nanos now) {
  EpochDay today = IstDate(now);
  AccountState& a = Account(account);
  a.orders_today.Increment(today);
  a.rate.Record(now);
  if (!strategy.empty()) {
    StrategyState& s = Strategy(strategy);
    s.orders_today.Increment(today);
    s.rate.Record(now);
  }
}

Status RiskState::OnOrderOpened(OrderId id, const OrderView& order, Paise price) {
  if (order.instrument == nullptr) {
    return InvalidArgument("order " + FormatOrderId(id) + " has no resolved instrument");
  }
  if (order.quantity <= 0) {
    return InvalidArgument("order " + FormatOrderId(id) + " has a non-positive quantity");
  }
  if (open_orders_.count(id) > 0) {
    return AlreadyExists("order " + FormatOrderId(id) + " is already open");
  }
  const Instrument& instrument = *order.instrument;
  OpenOrder open{InternedString(order.account),
                 InternedString(order.strategy),
                 instrument.instrument_token,
                 InternedString(instrument.name),
                 instrument.lot_size,
                 order.side,
                 order.quantity,
                 price};
  AccountState& account = Account(order.account);
  Position& position = PositionOf(account, open);
  ++account.open_orders;
  account.open_order_value = Paise::FromPaise(SaturatingAdd(
      account.open_order_value.value(), SaturatingMul(order.quantity, price.value())));
  (order.side == Side::kBuy ? position.open_buy_quantity : position.open_sell_quantity) +=
      order.quantity;
  position.resting.push_back({id, order.side, price});
  open_orders_.emplace(id, std::move(open));
  return OkStatus();
}

void RiskState::ReleaseOpenQuantity(AccountState& account, const OpenOrder& order, Qty quantity) {
  account.open_order_value = Paise::FromPaise(SaturatingSub(
      account.open_order_value.value(), SaturatingMul(quantity, order.price.value())));
  Position& position = PositionOf(account, order);
  (order.side == Side::kBuy ? position.open_buy_quantity : position.open_sell_quantity) -= quantity;
}

Status RiskState::OnOrderModified(OrderId id, Qty remaining, Paise price) {
  auto it = open_orders_.find(id);
  if (it == open_orders_.end()) return NotFound("order " + FormatOrderId(id) + " is not open");
  if (remaining <= 0) {
    return InvalidArgument("modified order " + FormatOrderId(id) +
                           " must keep a positive quantity");
  }
  OpenOrder& order = it->second;
  AccountState& account = Account(order.account.str());
  ReleaseOpenQuantity(account, order, order.remaining);
  order.remaining = remaining;
  order.price = price;
  account.open_order_value = Paise::FromPaise(
      SaturatingAdd(account.open_order_value.value(), SaturatingMul(remaining, price.value())));
  Position& position = PositionOf(account, order);
  (order.side == Side::kBuy ? position.open_buy_quantity : position.open_sell_quantity) +=
      remaining;
  for (RestingOrder& resting : position.resting) {
    if (resting.id == id) resting.price = price;
  }
  return OkStatus();
}

Status RiskState::OnFill(OrderId id, Qty quantity, Paise price, Nanos now) {
  auto it = open_orders_.find(id);
  if (it == open_orders_.end()) return NotFound("order " + FormatOrderId(id) + " is not open");
  OpenOrder& order = it->second;
  if (quantity <= 0 || quantity > order.remaining) {
    return FailedPrecondition("fill of " + std::to_string(quantity) + " for order " +
                              FormatOrderId(id) + " with " + std::to_string(order.remaining) +
                              " remaining");
  }
  AccountState& account = Account(order.account.str());
  ReleaseOpenQuantity(account, order, quantity);
  order.remaining -= quantity;
  Position& position = PositionOf(account, order);
  Paise realised = ApplyFill(position, Signed(order.side, quantity), price);
  Holding& holding = account.holdings[static_cast<size_t>(&position - account.positions.data())];
  holding.net_quantity = position.net_quantity;
  holding.cost = position.cost.value();
  EpochDay today = IstDate(now);
  if (account.realised_day != today) {
    account.realised_day = today;
    account.realised_today = Paise();
  }
  account.realised_today =
      Paise::FromPaise(SaturatingAdd(account.realised_today.value(), realised.value()));
  if (order.remaining == 0) return OnOrderClosed(id);
  return OkStatus();
}

Status RiskState::OnOrderClosed(OrderId id) {
  auto it = open_orders_.find(id);
  if (it == open_orders_.end()) return NotFound("order " + FormatOrderId(id) + " is not open");
  const OpenOrder& order = it->second;
  AccountState& account = Account(order.account.str());
  ReleaseOpenQuantity(account, order, order.remaining);
  --account.open_orders;
  Position& position = PositionOf(account, order);
  std::erase_if(position.resting, [id](const RestingOrder& r) { return r.id == id; });
  open_orders_.erase(it);
  return OkStatus();
}

void RiskState::SetTradingState(AdminScope scope, std::string_view target, TradingState state) {
  switch (scope) {
    case AdminScope::kGlobal:
      global_trading_state_ = state;
      return;
    case AdminScope::kAccount:
      Account(target).trading_state = state;
      return;
    case AdminScope::kStrategy:
      Strategy(target).trading_state = state;
      return;
  }
}

std::string RiskState::Dump() const {
  std::ostringstream out;
  auto times = [](const RateWindow& window) {
    std::string text = "[";
    for (Nanos t : window.Times()) text += (text.size() > 1 ? "," : "") + std::to_string(t);
    return text + "]";
  };
  out << "global state=" << StateName(global_trading_state_) << "\n";
  std::map<std::string_view, const AccountState*> accounts;
  for (const auto& [name, account] : accounts_) accounts.emplace(name, &account);
  for (const auto& [name, a] : accounts) {
    out << "account " << name << " state=" << StateName(a->trading_state)
        << " open_orders=" << a->open_orders << " open_value=" << a->open_order_value.ToString()
        << " realised_today=" << a->realised_today.ToString() << "@" << a->realised_day
        << " orders_today=" << a->orders_today.count << "@" << a->orders_today.day
        << " rate=" << times(a->rate) << "\n";
    std::map<int64_t, const Position*> positions;
    for (const Position& position : a->positions) {
      positions.emplace(position.instrument_token, &position);
    }
    for (const auto& [token, p] : positions) {
      out << "  position " << token << " " << p->underlying << " lot=" << p->lot_size
          << " net=" << p->net_quantity << " cost=" << p->cost.ToString()
          << " realised=" << p->realised.ToString() << " open_buy=" << p->open_buy_quantity
          << " open_sell=" << p->open_sell_quantity << " resting=[";
      std::vector<RestingOrder> resting = p->resting;
      std::sort(resting.begin(), resting.end(),
                [](const RestingOrder& x, const RestingOrder& y) { return x.id < y.id; });
      for (const RestingOrder& r : resting) {
        out << " " << r.id << ":" << SideName(r.side) << "@" << r.price.ToString();
      }
      out << " ]\n";
    }
    std::map<std::string_view, int64_t> lots;
    for (const Position& position : a->positions) {
      lots[position.underlying] += LotsOf(position.net_quantity, position.lot_size);
    }
    for (const auto& [underlying, count] : lots) {
      if (count != 0) out << "  underlying " << underlying << " lots=" << count << "\n";
    }
  }
  std::map<std::string_view, const StrategyState*> strategies;
  for (const auto& [name, strategy] : strategies_) strategies.emplace(name, &strategy);
  for (const auto& [name, s] : strategies) {
    out << "strategy " << name << " state=" << StateName(s->trading_state)
        << " orders_today=" << s->orders_today.count << "@" << s->orders_today.day
        << " rate=" << times(s->rate) << "\n";
  }
  std::map<OrderId, const OpenOrder*> orders;
  for (const auto& [id, order] : open_orders_) orders.emplace(id, &order);
  for (const auto& [id, o] : orders) {
    out << "order " << id << " " << o->account.str() << "/" << o->strategy.str()
        << " token=" << o->instrument_token << " " << SideName(o->side)
        << " remaining=" << o->remaining << " price=" << o->price.ToString() << "\n";
  }
  return out.str();
}

}  // namespace wojak
