// Order JSON in, decision JSON out (ARCHITECTURE.md §2). Every field error is reported at once.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/order.h"

namespace wojak {

struct FieldError {
  std::string field;    // JSON field name; "" for the document as a whole
  std::string message;  // why: "missing", "expected a string", "unknown field", ...
  bool operator==(const FieldError&) const = default;
};

struct OrderParseResult {
  OrderRequest order;
  std::vector<FieldError> errors;  // empty = valid
  bool ok() const { return errors.empty(); }
};

// Parses one order document. client_order_id may be absent when allow_missing_client_order_id
// (sidecars derive it from the message identity); every other problem is a FieldError.
OrderParseResult ParseOrderJson(std::string_view text, bool allow_missing_client_order_id = false);
OrderParseResult ParseOrderJson(const nlohmann::json& doc, bool allow_missing_client_order_id);

std::string OrderToJson(const OrderRequest& order);
// Decision JSON; field errors become INVALID_ORDER reasons with "field" set.
std::string DecisionToJson(const Decision& decision);
nlohmann::json DecisionToJsonValue(const Decision& decision);
// A REJECTED/INVALID_ORDER decision listing every field error.
Decision InvalidOrderDecision(const std::string& client_order_id, const std::string& account,
                              const std::vector<FieldError>& errors);

}  // namespace wojak
