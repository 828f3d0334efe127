// Strict order JSON parsing: unknown fields, wrong types, missing fields and bad enums are all
// collected so a strategy learns every mistake from one reply.
#include "model/order_json.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace wojak {
namespace {

using nlohmann::json;

constexpr size_t kMaxIdLength = 64;

constexpr std::string_view kKnownFields[] = {
    "client_order_id", "account", "strategy",      "exchange", "symbol",  "side",
    "quantity",        "order_type", "product",    "price",    "trigger_price", "validity"};

class Parser {
 public:
  explicit Parser(const json& doc) : doc_(doc) {}

  void Error(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }

  // Required (or optional) short identifier string.
  void String(const char* field, std::string& out, bool required, size_t max_length = kMaxIdLength) {
    auto it = doc_.find(field);
    if (it == doc_.end() || it->is_null()) {
      if (required) Error(field, "missing");
      return;
    }
    if (!it->is_string()) {
      Error(field, std::string("expected a string, got ") + it->type_name());
      return;
    }
    const auto& s = it->get_ref<const std::string&>();
    if (required && s.empty()) {
      Error(field, "must not be empty");
      return;
    }
    if (s.size() > max_length) {
      Error(field, "longer than " + std::to_string(max_length) + " characters");
      return;
    }
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7f) {
        Error(field, "contains a control character");
        return;
      }
    }
    out = s;
  }

  template <typename Enum, typename ParseFn>
  void Enumerated(const char* field, Enum& out, ParseFn parse, const char* allowed,
                  bool required = true) {
    auto it = doc_.find(field);
    if (it == doc_.end() || it->is_null()) {
      if (required) Error(field, std::string("missing (one of ") + allowed + ")");
      return;
    }
    if (!it->is_string()) {
      Error(field, std::string("expected a string (one of ") + allowed + "), got " + it->type_name());
      return;
    }
    auto value = parse(it->get_ref<const std::string&>());
    if (!value) {
      Error(field, "'" + it->get<std::string>() + "' is not one of " + allowed);
      return;
    }
    out = *value;
  }

  void Quantity(const char* field, Qty& out) {
    auto it = doc_.find(field);
    if (it == doc_.end() || it->is_null()) {
      Error(field, "missing");
      return;
    }
    if (it->is_number_integer()) {
      if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        Error(field, "out of range");
        return;
      }
      out = it->get<int64_t>();
      return;
    }
    if (it->is_number_float()) {
      Error(field, "must be a whole number of units");
      return;
    }
    Error(field, std::string("expected an integer, got ") + it->type_name());
  }

  void Price(const char* field, std::optional<Paise>& out) {
    auto it = doc_.find(field);
    if (it == doc_.end() || it->is_null()) return;
    std::string text;
    if (it->is_string()) {
      text = it->get<std::string>();
    } else if (it->is_number_integer()) {
      text = it->dump();
    } else if (it->is_number_float()) {
      double d = it->get<double>();
      if (!std::isfinite(d)) {
        Error(field, "must be a finite number");
        return;
      }
      // The shortest text that round-trips is what the sender wrote for any sane price, so
      // 120.5 parses to exactly 12050 paise without floating-point rounding.
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
      if (ec != std::errc()) {
        Error(field, "out of range");
        return;
      }
      text.assign(buf, end);
    } else {
      Error(field, std::string("expected a decimal string or number, got ") + it->type_name());
      return;
    }
    auto parsed = Paise::Parse(text);
    if (!parsed.ok()) {
      Error(field, parsed.status().message());
      return;
    }
    out = *parsed;
  }

  std::vector<FieldError> TakeErrors() { return std::move(errors_); }

 private:
  const json& doc_;
  std::vector<FieldError> errors_;
};

}  // namespace

OrderParseResult ParseOrderJson(std::string_view text, bool allow_missing_client_order_id) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    OrderParseResult result;
    result.errors.push_back({"", "body is not valid JSON"});
    return result;
  }
  return ParseOrderJson(doc, allow_missing_client_order_id);
}

OrderParseResult ParseOrderJson(const json& doc, bool allow_missing_client_order_id) {
  OrderParseResult result;
  if (!doc.is_object()) {
    result.errors.push_back({"", std::string("expected a JSON object, got ") + doc.type_name()});
    return result;
  }
  Parser p(doc);
  for (const auto& [key, value] : doc.items()) {
    bool known = false;
    for (std::string_view k : kKnownFields) known = known || k == key;
    if (!known) p.Error(key, "unknown field");
  }
  OrderRequest& o = result.order;
  p.String("client_order_id", o.client_order_id, !allow_missing_client_order_id);
  p.String("account", o.account, true);
  p.String("strategy", o.strategy, false);
  p.String("exchange", o.exchange, true, 8);
  p.String("symbol", o.symbol, true);
  p.Enumerated("side", o.side, ParseSide, "BUY, SELL");
  p.Quantity("quantity", o.quantity);
  p.Enumerated("order_type", o.order_type, ParseOrderType, "MARKET, LIMIT, SL, SL-M");
  p.Enumerated("product", o.product, ParseProduct, "NRML, MIS");
  p.Price("price", o.price);
  p.Price("trigger_price", o.trigger_price);
  p.Enumerated("validity", o.validity, ParseValidity, "DAY, IOC", /*required=*/false);
  result.errors = p.TakeErrors();
  return result;
}

std::string OrderToJson(const OrderRequest& o) {
  json doc = {{"client_order_id", o.client_order_id},
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
  return doc.dump();
}

namespace {
json ReasonsToJson(const std::vector<Reason>& reasons) {
  json out = json::array();
  for (const Reason& r : reasons) {
    json entry = {{"code", ReasonCodeName(r.code)}, {"message", r.message}};
    if (!r.field.empty()) entry["field"] = r.field;
    out.push_back(std::move(entry));
  }
  return out;
}
}  // namespace

json DecisionToJsonValue(const Decision& d) {
  json doc = {{"client_order_id", d.client_order_id}, {"decision", DecisionKindName(d.kind)}};
  if (!d.account.empty()) doc["account"] = d.account;
  if (d.kind == DecisionKind::kDuplicate) {
    json original = {{"client_order_id", d.client_order_id},
                     {"order_id", d.order_id},
                     {"decision", DecisionKindName(d.original_kind.value_or(DecisionKind::kRejected))},
                     {"seq", d.seq},
                     {"reasons", ReasonsToJson(d.original_reasons)}};
    doc["original"] = std::move(original);
    doc["reasons"] = ReasonsToJson(d.reasons);
    return doc;
  }
  if (!d.order_id.empty()) doc["order_id"] = d.order_id;
  if (d.seq != 0) doc["seq"] = d.seq;
  doc["reasons"] = ReasonsToJson(d.reasons);
  if (d.kind == DecisionKind::kRetry) doc["retry_after_ms"] = d.retry_after_ms;
  return doc;
}

std::string DecisionToJson(const Decision& d) { return DecisionToJsonValue(d).dump(); }

Decision InvalidOrderDecision(const std::string& client_order_id, const std::string& account,
                              const std::vector<FieldError>& errors) {
  Decision d;
  d.kind = DecisionKind::kRejected;
  d.client_order_id = client_order_id;
  d.account = account;
  for (const FieldError& e : errors) {
    std::string message = e.field.empty() ? e.message : e.field + ": " + e.message;
    d.reasons.push_back({ReasonCode::k_INVALID_ORDER, std::move(message), e.field});
  }
  return d;
}

}  // namespace wojak
