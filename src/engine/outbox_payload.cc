// Outbox payload JSON.
#include "engine/outbox_payload.h"

#include <nlohmann/json.hpp>

#include "model/order_json.h"

namespace wojak {
namespace {

using json = nlohmann::json;

json OrderJsonValue(const OrderRequest& o) {
  return {{"client_order_id", o.client_order_id},
          {"account", o.account},
          {"strategy", o.strategy},
          {"exchange", o.exchange},
          {"symbol", o.symbol},
          {"side", SideName(o.side)},
          {"quantity", o.quantity},
          {"order_type", OrderTypeName(o.order_type)},
          {"product", ProductName(o.product)},
          {"price", o.price ? json(o.price->ToString()) : json(nullptr)},
          {"trigger_price", o.trigger_price ? json(o.trigger_price->ToString()) : json(nullptr)},
          {"validity", ValidityName(o.validity)}};
}

json OptionalPrice(const std::optional<Paise>& price) {
  return price ? json(price->ToString()) : json(nullptr);
}

std::string_view ExecutionStatusName(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kFilled:
      return "FILLED";
    case ExecutionStatus::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case ExecutionStatus::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

std::string_view ReferenceSourceName(ReferenceSource source) {
  switch (source) {
    case ReferenceSource::kLtp:
      return "LTP";
    case ReferenceSource::kMaster:
      return "MASTER";
    case ReferenceSource::kNone:
      break;
  }
  return "NONE";
}

}  // namespace

std::string EscalationOutboxPayload(const OrderRecord& order, const JournalRecord& record, Seq seq,
                                    Nanos now) {
  json doc = {{"event", "escalation"},
              {"order_id", FormatOrderId(order.seq)},
              {"seq", seq},
              {"time_ns", now},
              {"deadline_ns", order.escalation_deadline_ns},
              {"decision", DecisionToJsonValue(record.decision)},
              {"order", OrderJsonValue(order.request)},
              {"price", order.price.ToString()},
              {"reference_price", OptionalPrice(record.reference_price)},
              {"reference_source", ReferenceSourceName(record.reference_source)}};
  return doc.dump();
}

std::string ExecutionOutboxPayload(const OrderRecord& order, const ExecutionReport& report,
                                   Qty applied_quantity, Seq seq, Nanos now) {
  const bool failed = report.status == ExecutionStatus::kFailed;
  json doc = {
      {"event", "execution"},
      {"order_id", FormatOrderId(order.seq)},
      {"seq", seq},
      {"time_ns", now},
      {"account", order.request.account},
      {"strategy", order.request.strategy},
      {"client_order_id", order.request.client_order_id},
      {"symbol", order.request.symbol},
      {"side", SideName(order.request.side)},
      {"quantity", order.request.quantity},
      {"status", ExecutionStatusName(report.status)},
      {"filled_quantity", failed ? 0 : applied_quantity},
      {"fill_price", failed ? json(nullptr) : json(report.fill_price.ToString())},
      {"cumulative_filled_quantity", order.filled_quantity},
      {"average_price",
       order.filled_quantity > 0
           ? json(Paise::FromPaise(order.fill_value.value() / order.filled_quantity).ToString())
           : json(nullptr)},
      {"order_state", OrderStateName(order.state)},
      {"reason", report.reason},
      {"executor", report.executor}};
  return doc.dump();
}

std::string OutboxPayloadAccount(std::string_view payload) {
  const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return "";
  const json* holder = &doc;
  if (auto order = doc.find("order"); order != doc.end() && order->is_object()) holder = &*order;
  auto account = holder->find("account");
  return account != holder->end() && account->is_string() ? account->get<std::string>() : "";
}

}  // namespace wojak
