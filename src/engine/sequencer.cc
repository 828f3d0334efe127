// Sequencer: decide, record, apply.
#include "engine/sequencer.h"

#include "common/log.h"
#include "engine/outbox_payload.h"
#include "model/order_json.h"

namespace wojak {
namespace {

Decision MakeDecision(DecisionKind kind, const std::string& account,
                      const std::string& client_order_id) {
  Decision d;
  d.kind = kind;
  d.account = account;
  d.client_order_id = client_order_id;
  return d;
}

Reason MakeReason(ReasonCode code, std::string message) {
  return Reason{code, std::move(message), ""};
}

Decision DuplicateOf(const Decision& original) {
  Decision d = original;
  d.kind = DecisionKind::kDuplicate;
  d.original_kind = original.kind;
  d.original_reasons = original.reasons;
  d.reasons = {MakeReason(ReasonCode::k_DUPLICATE,
                          "(account, client_order_id) seen before; "
                          "the original decision is returned")};
  return d;
}

std::string CancelKey(const CancelRequest& c) {
  return "cancel\x1f" + OrderBook::ClientKey(c.account, c.client_order_id);
}

}  // namespace

Sequencer::Sequencer(SequencerOptions options, const InstrumentMaster& instruments,
                     const RiskGate& gate, const MarketView& market)
    : options_(options), instruments_(instruments), gate_(&gate), market_(market) {
  orders_.Reserve(options_.expected_orders);
}

void Sequencer::Handle(SequencerInput&& in, Nanos now, CommitBatch& batch) {
  auto reply_now = [&](Decision decision) {
    if (!in.routing_id.empty()) {
      batch.replies.push_back({std::move(in.routing_id), in.request_id, std::move(decision)});
    }
  };

  if (auto* order = std::get_if<OrderRequest>(&in.input)) {
    if (order->client_order_id.empty() || order->account.empty()) {
      Decision d = InvalidOrderDecision(
          order->client_order_id, order->account,
          {{order->account.empty() ? "account" : "client_order_id", "missing"}});
      reply_now(std::move(d));
      return;
    }
    if (const OrderRecord* seen = orders_.FindByClientId(order->account, order->client_order_id)) {
      reply_now(DuplicateOf(seen->FirstDecision()));
      return;
    }
    Append(EntryKind::kNewOrder, DecideNewOrder(*order, now), now, batch, &in);
    RestrictAccountIfAsked(order->account, now, batch);
    return;
  }
  if (auto* cancel = std::get_if<CancelRequest>(&in.input)) {
    if (const Decision* seen = orders_.FindRequestDecision(CancelKey(*cancel))) {
      reply_now(DuplicateOf(*seen));
      return;
    }
    Append(EntryKind::kCancel, DecideCancel(*cancel, now), now, batch, &in);
    return;
  }
  if (auto* modify = std::get_if<ModifyRequest>(&in.input)) {
    Append(EntryKind::kModify, DecideModify(*modify, now), now, batch, &in);
    return;
  }
  if (auto* verdict = std::get_if<EscalationVerdict>(&in.input)) {
    Append(EntryKind::kVerdict, DecideVerdict(*verdict), now, batch, &in);
    return;
  }
  if (auto* admin = std::get_if<AdminRequest>(&in.input)) {
    JournalRecord record;
    record.input = *admin;
    record.decision = MakeDecision(DecisionKind::kAccepted, admin->target, "");
    Append(EntryKind::kAdmin, std::move(record), now, batch, &in);
    return;
  }
  if (auto* report = std::get_if<ExecutionReport>(&in.input)) {
    auto seq = OrderBook::ParseOrderId(report->order_id);
    const OrderRecord* order = seq ? orders_.Find(*seq) : nullptr;
    // A result for an order that is already final (cancelled meanwhile, or a reconciliation
    // re-send answered twice) changes nothing and is not recorded: executing is idempotent.
    if (order == nullptr || IsTerminal(order->state)) {
      LogDebug("execution_report_ignored", {{"order_id", report->order_id}});
      return;
    }
    JournalRecord record;
    record.order_id = report->order_id;
    record.decision = MakeDecision(DecisionKind::kAccepted, order->request.account,
                                   order->request.client_order_id);
    record.input = std::move(*report);
    Append(EntryKind::kExecution, std::move(record), now, batch, nullptr);
    return;
  }
}

JournalRecord Sequencer::DecideNewOrder(const OrderRequest& order, Nanos now) {
  auto table = instruments_.Snapshot();
  OrderView view = OrderView::Of(order, table->FindBySymbol(order.symbol));
  gate_->Evaluate(view, risk_, market_, now, result_);
  JournalRecord record;
  record.input = order;
  record.decision = MakeDecision(result_.decision, order.account, order.client_order_id);
  record.decision.reasons = BreachReasons(result_, view);
  RecordPrices(result_, record);
  return record;
}

void Sequencer::RestrictAccountIfAsked(const std::string& account, Nanos now, CommitBatch& batch) {
  // The gate saw the account's daily loss past its limit. The state change is its own journal
  // entry, so replay restores it without re-running the gate.
  if (!result_.account_state_request) return;
  const AccountState* state = risk_.FindAccount(account);
  const TradingState wanted = *result_.account_state_request;
  if (state != nullptr && state->trading_state >= wanted) return;
  JournalRecord record;
  record.input =
      AdminRequest{wanted == TradingState::kHalted ? AdminAction::kHalt : AdminAction::kReduceOnly,
                   AdminScope::kAccount, account};
  record.decision = MakeDecision(DecisionKind::kAccepted, account, "");
  record.decision.reasons.push_back(MakeReason(
      ReasonCode::k_DAILY_LOSS_LIMIT,
      "daily loss limit reached: account set to " + std::string(TradingStateName(wanted))));
  result_.account_state_request.reset();
  Append(EntryKind::kAdmin, std::move(record), now, batch, nullptr);
}

void Sequencer::RecordPrices(const RiskResult& result, JournalRecord& record) {
  if (result.reference) {
    record.reference_price = result.reference->price;
    record.reference_source = result.reference->source == PriceSource::kMaster
                                  ? ReferenceSource::kMaster
                                  : ReferenceSource::kLtp;
  }
  record.effective_price = result.effective_price;
}

JournalRecord Sequencer::DecideCancel(const CancelRequest& cancel, Nanos) {
  JournalRecord record;
  record.input = cancel;
  record.decision = MakeDecision(DecisionKind::kAccepted, cancel.account, cancel.client_order_id);
  const OrderRecord* order = orders_.FindByClientId(cancel.account, cancel.client_order_id);
  if (order == nullptr) {
    record.decision.kind = DecisionKind::kRejected;
    record.decision.reasons.push_back(MakeReason(
        ReasonCode::k_UNKNOWN_ORDER,
        "no order with client_order_id '" + cancel.client_order_id + "' for this account"));
    return record;
  }
  record.order_id = FormatOrderId(order->seq);
  record.decision.order_id = record.order_id;
  if (!IsOpen(order->state) || !IsLegalTransition(order->state, OrderState::kCancelled)) {
    record.decision.kind = DecisionKind::kRejected;
    record.decision.reasons.push_back(
        MakeReason(ReasonCode::k_ORDER_NOT_OPEN, "order " + record.order_id + " is " +
                                                     std::string(OrderStateName(order->state)) +
                                                     " and cannot be cancelled"));
  }
  return record;
}

JournalRecord Sequencer::DecideModify(const ModifyRequest& modify, Nanos now) {
  JournalRecord record;
  record.input = modify;
  record.decision = MakeDecision(DecisionKind::kAccepted, modify.account, modify.client_order_id);
  const OrderRecord* order = orders_.FindByClientId(modify.account, modify.client_order_id);
  if (order == nullptr) {
    record.decision.kind = DecisionKind::kRejected;
    record.decision.reasons.push_back(MakeReason(
        ReasonCode::k_UNKNOWN_ORDER,
        "no order with client_order_id '" + modify.client_order_id + "' for this account"));
    return record;
  }
  record.order_id = FormatOrderId(order->seq);
  record.decision.order_id = record.order_id;
  // Only an order the executor has not finished with can change; the sandbox and HTTP
  // executors take orders as final once sent, so a modify is accepted only while escalated.
  if (order->state != OrderState::kEscalated) {
    record.decision.kind = DecisionKind::kRejected;
    record.decision.reasons.push_back(
        MakeReason(ReasonCode::k_ORDER_NOT_OPEN, "order " + record.order_id + " is " +
                                                     std::string(OrderStateName(order->state)) +
                                                     " and can no longer be modified"));
    return record;
  }
  OrderRequest changed = order->request;
  if (modify.quantity) changed.quantity = *modify.quantity;
  if (modify.price) changed.price = *modify.price;
  if (modify.trigger_price) changed.trigger_price = *modify.trigger_price;
  auto table = instruments_.Snapshot();
  OrderView view = OrderView::Of(changed, table->FindBySymbol(changed.symbol), order->seq);
  gate_->Evaluate(view, risk_, market_, now, result_);
  record.decision.kind = result_.decision;
  record.decision.reasons = BreachReasons(result_, view);
  RecordPrices(result_, record);
  return record;
}

JournalRecord Sequencer::DecideVerdict(const EscalationVerdict& verdict) {
  JournalRecord record;
  record.input = verdict;
  record.order_id = verdict.order_id;
  auto seq = OrderBook::ParseOrderId(verdict.order_id);
  const OrderRecord* order = seq ? orders_.Find(*seq) : nullptr;
  if (order == nullptr) {
    record.decision = MakeDecision(DecisionKind::kRejected, "", "");
    record.decision.reasons.push_back(
        MakeReason(ReasonCode::k_UNKNOWN_ORDER, "no order " + verdict.order_id));
    return record;
  }
  record.decision =
      MakeDecision(DecisionKind::kAccepted, order->request.account, order->request.client_order_id);
  record.decision.order_id = verdict.order_id;
  if (order->state != OrderState::kEscalated) {
    record.decision.kind = DecisionKind::kRejected;
    record.decision.reasons.push_back(
        MakeReason(ReasonCode::k_ORDER_NOT_OPEN, "order " + verdict.order_id + " is " +
                                                     std::string(OrderStateName(order->state)) +
                                                     ", not waiting for a verdict"));
    return record;
  }
  if (!verdict.approve) {
    record.decision.kind = DecisionKind::kRejected;
    record.decision.reasons.push_back(MakeReason(
        ReasonCode::k_RMS_REJECTED,
        verdict.reason.empty() ? "rejected by the risk management system" : verdict.reason));
  }
  return record;
}

void Sequencer::Append(EntryKind kind, JournalRecord record, Nanos now, CommitBatch& batch,
                       const SequencerInput* reply_to) {
  const Seq seq = ++last_seq_;
  if (kind == EntryKind::kNewOrder) {
    record.order_id = FormatOrderId(seq);
    record.decision.order_id = record.order_id;
  }
  record.decision.seq = seq;
  Apply(record, seq, now, &batch);
  Entry entry;
  entry.seq = seq;
  entry.time_ns = now;
  entry.kind = kind;
  entry.account = record.decision.account;
  entry.client_order_id = record.decision.client_order_id;
  entry.payload = EncodeJournalRecord(record);
  batch.entries.push_back(std::move(entry));
  if (reply_to != nullptr && !reply_to->routing_id.empty()) {
    batch.replies.push_back({reply_to->routing_id, reply_to->request_id, record.decision});
  }
}

Status Sequencer::Replay(const Entry& entry) {
  if (entry.seq != last_seq_ + 1) {
    return DataLoss("journal entry " + std::to_string(entry.seq) + " follows " +
                    std::to_string(last_seq_) + ": sequence gap");
  }
  auto record = DecodeJournalRecord(entry.payload);
  if (!record.ok()) return record.status().WithContext("entry " + std::to_string(entry.seq));
  last_seq_ = entry.seq;
  Apply(*record, entry.seq, entry.time_ns, nullptr);
  return OkStatus();
}

void Sequencer::Apply(const JournalRecord& record, Seq seq, Nanos now, CommitBatch* batch) {
  const Decision& decision = record.decision;
  if (auto* order = std::get_if<OrderRequest>(&record.input)) {
    risk_.OnOrderEvaluated(order->account, order->strategy, now);
    OrderRecord created;
    created.seq = seq;
    created.request = StoredOrderRequest(*order);
    created.KeepFirstDecision(decision);
    created.created_ns = created.updated_ns = now;
    created.last_seq = seq;
    created.price = record.effective_price.value_or(order->price.value_or(Paise()));
    switch (decision.kind) {
      case DecisionKind::kAccepted:
        created.state = OrderState::kSent;  // accepted and handed to the executor after commit
        break;
      case DecisionKind::kEscalated:
        created.state = OrderState::kEscalated;
        created.escalation_deadline_ns = now + options_.escalation_timeout_ns;
        escalation_deadlines_.emplace(created.escalation_deadline_ns, seq);
        break;
      default:
        created.state = OrderState::kRejected;
        break;
    }
    OrderRecord& stored = orders_.Insert(std::move(created));
    if (IsOpen(stored.state)) {
      auto table = instruments_.Snapshot();
      CheckRisk(risk_.OnOrderOpened(seq, OrderView::Of(*order, table->FindBySymbol(order->symbol)),
                                    stored.price),
                stored);
    }
    EmitOrder(stored, batch);
    if (decision.kind == DecisionKind::kEscalated) EmitEscalation(stored, record, seq, now, batch);
    if (stored.state == OrderState::kSent) Dispatch(stored, batch);
    return;
  }
  if (auto* cancel = std::get_if<CancelRequest>(&record.input)) {
    orders_.RememberRequestDecision(CancelKey(*cancel), decision);
    if (decision.kind != DecisionKind::kAccepted) return;
    auto target = OrderBook::ParseOrderId(record.order_id);
    if (OrderRecord* order = target ? orders_.Find(*target) : nullptr) {
      CloseOrder(*order, OrderState::kCancelled, seq, now, batch);
    }
    return;
  }
  if (auto* modify = std::get_if<ModifyRequest>(&record.input)) {
    if (decision.kind == DecisionKind::kRejected) return;
    auto target = OrderBook::ParseOrderId(record.order_id);
    OrderRecord* order = target ? orders_.Find(*target) : nullptr;
    if (order == nullptr) return;
    if (modify->quantity) order->request.quantity = *modify->quantity;
    if (modify->price) order->request.price = *modify->price;
    if (modify->trigger_price) order->request.trigger_price = *modify->trigger_price;
    order->price = record.effective_price.value_or(order->request.price.value_or(Paise()));
    order->updated_ns = now;
    order->last_seq = seq;
    // An accepted modify releases the escalated order to the executor; an escalated one keeps
    // waiting for the verdict on its new terms.
    if (decision.kind == DecisionKind::kAccepted) order->state = OrderState::kSent;
    CheckRisk(risk_.OnOrderModified(order->seq, order->request.quantity - order->filled_quantity,
                                    order->price),
              *order);
    EmitOrder(*order, batch);
    // Still escalated: the RMS must judge the new terms, so it hears about them.
    if (decision.kind == DecisionKind::kEscalated) EmitEscalation(*order, record, seq, now, batch);
    if (order->state == OrderState::kSent) Dispatch(*order, batch);
    return;
  }
  if (std::get_if<EscalationVerdict>(&record.input) != nullptr) {
    auto target = OrderBook::ParseOrderId(record.order_id);
    OrderRecord* order = target ? orders_.Find(*target) : nullptr;
    if (order == nullptr || order->state != OrderState::kEscalated) return;
    if (decision.kind == DecisionKind::kAccepted) {
      order->state = OrderState::kSent;  // APPROVED and handed to the executor after commit
      order->updated_ns = now;
      order->last_seq = seq;
      EmitOrder(*order, batch);
      Dispatch(*order, batch);
    } else {
      bool expired = !decision.reasons.empty() &&
                     decision.reasons.front().code == ReasonCode::k_ESCALATION_EXPIRED;
      CloseOrder(*order, expired ? OrderState::kExpired : OrderState::kRejected, seq, now, batch);
    }
    return;
  }
  if (auto* admin = std::get_if<AdminRequest>(&record.input)) {
    TradingState state = admin->action == AdminAction::kHalt         ? TradingState::kHalted
                         : admin->action == AdminAction::kReduceOnly ? TradingState::kReducing
                                                                     : TradingState::kActive;
    risk_.SetTradingState(admin->scope, admin->target, state);
    if (admin->action != AdminAction::kHalt) return;
    // Halting also cancels the open orders in scope that the executor has not finished.
    for (Seq open : orders_.OpenOrders()) {
      OrderRecord* order = orders_.Find(open);
      bool in_scope =
          admin->scope == AdminScope::kGlobal ||
          (admin->scope == AdminScope::kAccount && order->request.account == admin->target) ||
          (admin->scope == AdminScope::kStrategy && order->request.strategy == admin->target);
      if (in_scope && IsLegalTransition(order->state, OrderState::kCancelled)) {
        CloseOrder(*order, OrderState::kCancelled, seq, now, batch);
      }
    }
    return;
  }
  if (auto* report = std::get_if<ExecutionReport>(&record.input)) {
    ApplyExecution(*report, seq, now, batch);
    return;
  }
}

void Sequencer::ApplyExecution(const ExecutionReport& report, Seq seq, Nanos now,
                               CommitBatch* batch) {
  auto target = OrderBook::ParseOrderId(report.order_id);
  OrderRecord* order = target ? orders_.Find(*target) : nullptr;
  if (order == nullptr || IsTerminal(order->state)) return;
  if (report.status == ExecutionStatus::kFailed) {
    CloseOrder(*order, OrderState::kFailed, seq, now, batch);
    EmitExecution(*order, report, 0, seq, now, batch);
    return;
  }
  const Qty remaining = order->request.quantity - order->filled_quantity;
  const Qty quantity = std::min(report.filled_quantity, remaining);
  order->filled_quantity += quantity;
  order->fill_value =
      Paise::FromPaise(order->fill_value.value() + report.fill_price.value() * quantity);
  order->state = order->filled_quantity >= order->request.quantity ? OrderState::kFilled
                                                                   : OrderState::kPartiallyFilled;
  order->updated_ns = now;
  order->last_seq = seq;
  CheckRisk(risk_.OnFill(order->seq, quantity, report.fill_price, now), *order);
  const TradedTotals& totals =
      trades_.AddFill(order->request.account, order->request.symbol, order->request.side, quantity,
                      report.fill_price, seq);
  if (batch != nullptr) {
    TradeRow trade;
    trade.trade_id = "T-" + std::to_string(seq);
    trade.seq = seq;
    trade.order_id = report.order_id;
    trade.account = order->request.account;
    trade.strategy = order->request.strategy;
    trade.symbol = order->request.symbol;
    trade.side = std::string(SideName(order->request.side));
    trade.quantity = quantity;
    trade.price_paise = report.fill_price.value();
    trade.time_ns = now;
    batch->projections.trades.push_back(std::move(trade));
    batch->projections.positions.push_back(PositionRowFor(*order, totals));
  }
  EmitOrder(*order, batch);
  EmitExecution(*order, report, quantity, seq, now, batch);
}

// Outbox rows are numbered identically live and in replay (next_outbox_seq_ advances in both),
// but only built and written live: replay must not pay for JSON it would throw away.
void Sequencer::EmitEscalation(const OrderRecord& order, const JournalRecord& record, Seq seq,
                               Nanos now, CommitBatch* batch) {
  if (batch != nullptr) {
    batch->projections.outbox.push_back(
        {next_outbox_seq_, seq, "escalation", EscalationOutboxPayload(order, record, seq, now)});
  }
  ++next_outbox_seq_;
}

void Sequencer::EmitExecution(const OrderRecord& order, const ExecutionReport& report,
                              Qty applied_quantity, Seq seq, Nanos now, CommitBatch* batch) {
  if (batch != nullptr) {
    batch->projections.outbox.push_back(
        {next_outbox_seq_, seq, "execution",
         ExecutionOutboxPayload(order, report, applied_quantity, seq, now)});
  }
  ++next_outbox_seq_;
}

void Sequencer::CloseOrder(OrderRecord& order, OrderState state, Seq seq, Nanos now,
                           CommitBatch* batch) {
  const bool at_executor =
      order.state == OrderState::kSent || order.state == OrderState::kPartiallyFilled;
  if (batch != nullptr && state == OrderState::kCancelled && at_executor) {
    batch->withdrawals.push_back(FormatOrderId(order.seq));
  }
  order.state = state;
  order.updated_ns = now;
  order.last_seq = seq;
  CheckRisk(risk_.OnOrderClosed(order.seq), order);
  EmitOrder(order, batch);
}

void Sequencer::ExpireEscalations(Nanos now, CommitBatch& batch) {
  while (!escalation_deadlines_.empty() && escalation_deadlines_.begin()->first <= now) {
    const Seq seq = escalation_deadlines_.begin()->second;
    escalation_deadlines_.erase(escalation_deadlines_.begin());
    const OrderRecord* order = orders_.Find(seq);
    if (order == nullptr || order->state != OrderState::kEscalated) continue;  // decided meanwhile
    JournalRecord record;
    record.order_id = FormatOrderId(order->seq);
    record.input = EscalationVerdict{record.order_id, false, ""};
    record.decision = MakeDecision(DecisionKind::kRejected, order->request.account,
                                   order->request.client_order_id);
    record.decision.order_id = record.order_id;
    record.decision.reasons.push_back(
        MakeReason(ReasonCode::k_ESCALATION_EXPIRED,
                   "no verdict from the risk management system before the deadline"));
    Append(EntryKind::kExpiry, std::move(record), now, batch, nullptr);
  }
}

std::vector<ExecutionOrder> Sequencer::PendingExecutions() const {
  std::vector<ExecutionOrder> pending;
  for (Seq open : orders_.OpenOrders()) {
    const OrderRecord* order = orders_.Find(open);
    if (order->state == OrderState::kSent || order->state == OrderState::kPartiallyFilled) {
      pending.push_back({FormatOrderId(order->seq), order->request, order->price});
    }
  }
  return pending;
}

PositionRow Sequencer::PositionRowFor(const OrderRecord& order, const TradedTotals& totals) const {
  PositionRow row;
  row.account = order.request.account;
  row.symbol = order.request.symbol;
  row.buy_quantity = totals.buy_quantity;
  row.sell_quantity = totals.sell_quantity;
  row.buy_value_paise = totals.buy_value_paise;
  row.sell_value_paise = totals.sell_value_paise;
  row.last_seq = totals.last_seq;
  auto table = instruments_.Snapshot();
  const Instrument* instrument = table->FindBySymbol(order.request.symbol.str());
  const AccountState* account = risk_.FindAccount(order.request.account.str());
  if (instrument != nullptr && account != nullptr) {
    if (const Position* p = account->FindPosition(instrument->instrument_token)) {
      row.net_quantity = p->net_quantity;
      row.realised_pnl_paise = p->realised.value();
    }
  }
  return row;
}

void Sequencer::CheckRisk(const Status& status, const OrderRecord& order) const {
  // The risk state refusing an event means it and the order book disagree: a bug, never an
  // input error. Say so loudly; the decision already made stays as recorded.
  if (status.ok()) return;
  LogError("risk_state_inconsistent", {{"order_id", FormatOrderId(order.seq)},
                                       {"client_order_id", order.request.client_order_id},
                                       {"account", order.request.account},
                                       {"error", status.ToString()}});
}

void Sequencer::EmitOrder(const OrderRecord& order, CommitBatch* batch) {
  if (batch != nullptr) batch->projections.orders.push_back(ToOrderRow(order));
}

void Sequencer::Dispatch(const OrderRecord& order, CommitBatch* batch) {
  if (batch != nullptr) {
    batch->dispatches.push_back({FormatOrderId(order.seq), order.request, order.price});
  }
}

}  // namespace wojak
