// Fuzzes the strict order JSON parser: any bytes either parse into an order that prints and
// parses back to the same order, or produce field errors that render as a decision.
#include "fuzz/fuzz_check.h"
#include "model/order_json.h"

namespace wojak {
namespace {

void CheckOne(std::string_view text, bool allow_missing_client_order_id) {
  OrderParseResult result = ParseOrderJson(text, allow_missing_client_order_id);
  if (result.ok()) {
    OrderParseResult again =
        ParseOrderJson(OrderToJson(result.order), allow_missing_client_order_id);
    fuzz::Check(again.ok(), "an order that parsed must parse again after OrderToJson");
    fuzz::Check(again.order == result.order, "OrderToJson then ParseOrderJson changes the order");
    return;
  }
  // What a sidecar sends back for an invalid order must render whatever the input held.
  Decision rejected =
      InvalidOrderDecision(result.order.client_order_id, result.order.account, result.errors);
  fuzz::Check(rejected.reasons.size() == result.errors.size(), "one reason per field error");
  fuzz::Check(!DecisionToJson(rejected).empty(), "decision JSON renders");
}

}  // namespace
}  // namespace wojak

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = wojak::fuzz::AsText(data, size);
  wojak::CheckOne(text, false);
  wojak::CheckOne(text, true);
  return 0;
}
