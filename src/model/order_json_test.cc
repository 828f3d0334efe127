// Tests for the strict order JSON parser and the decision JSON writer.
#include "model/order_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace wojak {
namespace {

using nlohmann::json;

json ValidOrder() {
  return json::parse(R"({"client_order_id":"s1-000042","account":"ACC1","strategy":"short-straddle",
    "exchange":"NFO","symbol":"NIFTY26JAN24000CE","side":"SELL","quantity":75,
    "order_type":"LIMIT","product":"NRML","price":"120.50","trigger_price":null,"validity":"DAY"})");
}

OrderParseResult ParseWith(const std::string& field, const json& value) {
  json doc = ValidOrder();
  doc[field] = value;
  return ParseOrderJson(doc.dump());
}

OrderParseResult ParseWithout(const std::string& field) {
  json doc = ValidOrder();
  doc.erase(field);
  return ParseOrderJson(doc.dump());
}

// The single error of a result, which must concern `field`.
FieldError OnlyError(const OrderParseResult& result, const std::string& field) {
  EXPECT_EQ(result.errors.size(), 1u);
  if (result.errors.empty()) return {};
  EXPECT_EQ(result.errors[0].field, field) << result.errors[0].message;
  return result.errors[0];
}

bool HasErrorFor(const OrderParseResult& result, const std::string& field) {
  return std::any_of(result.errors.begin(), result.errors.end(),
                     [&](const FieldError& e) { return e.field == field; });
}

TEST(ParseOrderJsonTest, ParsesTheDocumentedExample) {
  OrderParseResult r = ParseOrderJson(ValidOrder().dump());
  ASSERT_TRUE(r.ok()) << r.errors[0].field << ": " << r.errors[0].message;
  EXPECT_EQ(r.order.client_order_id, "s1-000042");
  EXPECT_EQ(r.order.account, "ACC1");
  EXPECT_EQ(r.order.strategy, "short-straddle");
  EXPECT_EQ(r.order.exchange, "NFO");
  EXPECT_EQ(r.order.symbol, "NIFTY26JAN24000CE");
  EXPECT_EQ(r.order.side, Side::kSell);
  EXPECT_EQ(r.order.quantity, 75);
  EXPECT_EQ(r.order.order_type, OrderType::kLimit);
  EXPECT_EQ(r.order.product, Product::kNrml);
  EXPECT_EQ(r.order.price, Paise::FromPaise(12050));
  EXPECT_FALSE(r.order.trigger_price.has_value());
  EXPECT_EQ(r.order.validity, Validity::kDay);
}

TEST(ParseOrderJsonTest, PriceAsJsonNumberIsExact) {
  OrderParseResult r = ParseWith("price", 120.5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.price, Paise::FromPaise(12050));
}

TEST(ParseOrderJsonTest, PriceAsJsonIntegerIsRupees) {
  OrderParseResult r = ParseWith("price", 120);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.price, Paise::FromPaise(12000));
}

TEST(ParseOrderJsonTest, SmallFractionalNumberIsExact) {
  OrderParseResult r = ParseWith("price", 0.05);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.price, Paise::FromPaise(5));
}

TEST(ParseOrderJsonTest, TriggerPriceIsParsed) {
  OrderParseResult r = ParseWith("trigger_price", "119.95");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.trigger_price, Paise::FromPaise(11995));
}

TEST(ParseOrderJsonTest, ValidityDefaultsToDayWhenAbsent) {
  OrderParseResult r = ParseWithout("validity");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.validity, Validity::kDay);
}

TEST(ParseOrderJsonTest, StrategyIsOptional) {
  OrderParseResult r = ParseWithout("strategy");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.strategy, "");
}

TEST(ParseOrderJsonTest, PriceIsOptionalForMarketOrders) {
  json doc = ValidOrder();
  doc["order_type"] = "MARKET";
  doc.erase("price");
  OrderParseResult r = ParseOrderJson(doc.dump());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.order.price.has_value());
}

TEST(ParseOrderJsonTest, NegativeQuantityIsLeftToTheRiskGate) {
  OrderParseResult r = ParseWith("quantity", -75);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.quantity, -75);
}

TEST(ParseOrderJsonTest, MissingClientOrderIdIsAnError) {
  EXPECT_NE(OnlyError(ParseWithout("client_order_id"), "client_order_id").message.find("missing"),
            std::string::npos);
}

TEST(ParseOrderJsonTest, MissingClientOrderIdAllowedForSidecars) {
  json doc = ValidOrder();
  doc.erase("client_order_id");
  EXPECT_TRUE(
      ParseOrderJson(std::string_view(doc.dump()), /*allow_missing_client_order_id=*/true).ok());
}

TEST(ParseOrderJsonTest, NullClientOrderIdCountsAsMissing) {
  OnlyError(ParseWith("client_order_id", nullptr), "client_order_id");
}

TEST(ParseOrderJsonTest, ClientOrderIdMustBeString) {
  EXPECT_NE(OnlyError(ParseWith("client_order_id", 42), "client_order_id")
                .message.find("expected a string"),
            std::string::npos);
}

TEST(ParseOrderJsonTest, ClientOrderIdMustNotBeEmpty) {
  OnlyError(ParseWith("client_order_id", ""), "client_order_id");
}

TEST(ParseOrderJsonTest, ClientOrderIdOfSixtyFourCharactersIsAccepted) {
  EXPECT_TRUE(ParseWith("client_order_id", std::string(64, 'x')).ok());
}

TEST(ParseOrderJsonTest, ClientOrderIdLongerThanSixtyFourIsRejected) {
  OnlyError(ParseWith("client_order_id", std::string(65, 'x')), "client_order_id");
}

TEST(ParseOrderJsonTest, ControlCharacterInIdIsRejected) {
  EXPECT_NE(OnlyError(ParseWith("client_order_id", "a\nb"), "client_order_id")
                .message.find("control character"),
            std::string::npos);
}

TEST(ParseOrderJsonTest, MissingAccountIsAnError) { OnlyError(ParseWithout("account"), "account"); }

TEST(ParseOrderJsonTest, AccountMustBeString) { OnlyError(ParseWith("account", true), "account"); }

TEST(ParseOrderJsonTest, StrategyMustBeStringWhenPresent) {
  OnlyError(ParseWith("strategy", json::array()), "strategy");
}

TEST(ParseOrderJsonTest, ExchangeIsLimitedToEightCharacters) {
  OnlyError(ParseWith("exchange", "NFOXXXXXX"), "exchange");
}

TEST(ParseOrderJsonTest, MissingExchangeIsAnError) {
  OnlyError(ParseWithout("exchange"), "exchange");
}

TEST(ParseOrderJsonTest, MissingSymbolIsAnError) { OnlyError(ParseWithout("symbol"), "symbol"); }

TEST(ParseOrderJsonTest, UnknownSideNamesTheAllowedValues) {
  FieldError e = OnlyError(ParseWith("side", "SHORT"), "side");
  EXPECT_NE(e.message.find("BUY, SELL"), std::string::npos);
}

TEST(ParseOrderJsonTest, SideMustBeString) { OnlyError(ParseWith("side", 1), "side"); }

TEST(ParseOrderJsonTest, MissingSideIsAnError) { OnlyError(ParseWithout("side"), "side"); }

TEST(ParseOrderJsonTest, FractionalQuantityIsRejected) {
  EXPECT_NE(OnlyError(ParseWith("quantity", 75.5), "quantity").message.find("whole number"),
            std::string::npos);
}

TEST(ParseOrderJsonTest, QuantityAsStringIsRejected) {
  OnlyError(ParseWith("quantity", "75"), "quantity");
}

TEST(ParseOrderJsonTest, QuantityAboveInt64IsRejected) {
  OnlyError(ParseWith("quantity", uint64_t{1} << 63), "quantity");
}

TEST(ParseOrderJsonTest, MissingQuantityIsAnError) {
  OnlyError(ParseWithout("quantity"), "quantity");
}

TEST(ParseOrderJsonTest, UnknownOrderTypeIsRejected) {
  OnlyError(ParseWith("order_type", "STOP"), "order_type");
}

TEST(ParseOrderJsonTest, StopLossMarketIsSpelledWithHyphen) {
  OrderParseResult r = ParseWith("order_type", "SL-M");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.order.order_type, OrderType::kStopLossMarket);
}

TEST(ParseOrderJsonTest, UnknownProductIsRejected) {
  OnlyError(ParseWith("product", "CNC"), "product");
}

TEST(ParseOrderJsonTest, UnknownValidityIsRejected) {
  OnlyError(ParseWith("validity", "GTC"), "validity");
}

TEST(ParseOrderJsonTest, PriceWithThreeDecimalsIsRejected) {
  EXPECT_NE(OnlyError(ParseWith("price", "120.505"), "price").message.find("more than 2 decimals"),
            std::string::npos);
}

TEST(ParseOrderJsonTest, PriceNumberWithThreeDecimalsIsRejected) {
  OnlyError(ParseWith("price", 120.505), "price");
}

TEST(ParseOrderJsonTest, NonNumericPriceIsRejected) {
  OnlyError(ParseWith("price", "abc"), "price");
}

TEST(ParseOrderJsonTest, BooleanPriceIsRejected) { OnlyError(ParseWith("price", false), "price"); }

TEST(ParseOrderJsonTest, HugePriceIsRejected) { OnlyError(ParseWith("price", 1e30), "price"); }

TEST(ParseOrderJsonTest, MalformedTriggerPriceIsRejected) {
  OnlyError(ParseWith("trigger_price", "1,5"), "trigger_price");
}

TEST(ParseOrderJsonTest, UnknownFieldIsAnError) {
  EXPECT_EQ(OnlyError(ParseWith("tag", "x"), "tag").message, "unknown field");
}

TEST(ParseOrderJsonTest, InvalidJsonIsOneDocumentError) {
  OrderParseResult r = ParseOrderJson("{\"account\":");
  OnlyError(r, "");
}

TEST(ParseOrderJsonTest, NonObjectIsOneDocumentError) {
  OrderParseResult r = ParseOrderJson("[1,2]");
  EXPECT_NE(OnlyError(r, "").message.find("object"), std::string::npos);
}

TEST(ParseOrderJsonTest, ReportsAllErrorsAtOnce) {
  json doc = ValidOrder();
  doc.erase("account");
  doc["side"] = "SHORT";
  doc["quantity"] = 1.5;
  doc["price"] = "1.234";
  doc["extra"] = 1;
  doc["product"] = "CNC";
  OrderParseResult r = ParseOrderJson(doc.dump());
  EXPECT_EQ(r.errors.size(), 6u);
  for (const char* field : {"account", "side", "quantity", "price", "extra", "product"}) {
    EXPECT_TRUE(HasErrorFor(r, field)) << field;
  }
}

TEST(OrderToJsonTest, RoundTripsThroughTheParser) {
  OrderParseResult first = ParseWith("trigger_price", "119.95");
  ASSERT_TRUE(first.ok());
  OrderParseResult second = ParseOrderJson(OrderToJson(first.order));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.order, second.order);
}

TEST(DecisionJsonTest, AcceptedHasEmptyReasons) {
  Decision d;
  d.kind = DecisionKind::kAccepted;
  d.client_order_id = "s1-1";
  d.order_id = FormatOrderId(123);
  d.seq = 123;
  json out = json::parse(DecisionToJson(d));
  EXPECT_EQ(out["decision"], "ACCEPTED");
  EXPECT_EQ(out["order_id"], "W-000000000123");
  EXPECT_EQ(out["seq"], 123);
  EXPECT_TRUE(out["reasons"].is_array());
  EXPECT_TRUE(out["reasons"].empty());
  EXPECT_FALSE(out.contains("retry_after_ms"));
}

TEST(DecisionJsonTest, RejectedListsCodesAndMessages) {
  Decision d;
  d.kind = DecisionKind::kRejected;
  d.client_order_id = "s1-2";
  d.reasons.push_back(
      {ReasonCode::k_QTY_NOT_LOT_MULTIPLE, "quantity 70 is not a multiple of lot size 75", ""});
  json out = DecisionToJsonValue(d);
  ASSERT_EQ(out["reasons"].size(), 1u);
  EXPECT_EQ(out["reasons"][0]["code"], "QTY_NOT_LOT_MULTIPLE");
  EXPECT_EQ(out["reasons"][0]["message"], "quantity 70 is not a multiple of lot size 75");
  EXPECT_FALSE(out["reasons"][0].contains("field"));
  EXPECT_FALSE(out.contains("order_id"));
}

TEST(DecisionJsonTest, RetryCarriesRetryAfter) {
  Decision d;
  d.kind = DecisionKind::kRetry;
  d.retry_after_ms = 250;
  json out = DecisionToJsonValue(d);
  EXPECT_EQ(out["decision"], "RETRY");
  EXPECT_EQ(out["retry_after_ms"], 250);
}

TEST(DecisionJsonTest, DuplicateCarriesTheOriginalDecision) {
  Decision d;
  d.kind = DecisionKind::kDuplicate;
  d.client_order_id = "s1-3";
  d.order_id = FormatOrderId(7);
  d.seq = 7;
  d.original_kind = DecisionKind::kAccepted;
  json out = DecisionToJsonValue(d);
  EXPECT_EQ(out["decision"], "DUPLICATE");
  EXPECT_EQ(out["original"]["decision"], "ACCEPTED");
  EXPECT_EQ(out["original"]["order_id"], "W-000000000007");
  EXPECT_EQ(out["original"]["client_order_id"], "s1-3");
}

TEST(InvalidOrderDecisionTest, OneReasonPerFieldError) {
  Decision d =
      InvalidOrderDecision("s1-4", "ACC1", {{"side", "bad"}, {"", "body is not valid JSON"}});
  EXPECT_EQ(d.kind, DecisionKind::kRejected);
  ASSERT_EQ(d.reasons.size(), 2u);
  EXPECT_EQ(d.reasons[0].code, ReasonCode::k_INVALID_ORDER);
  EXPECT_EQ(d.reasons[0].field, "side");
  EXPECT_EQ(d.reasons[0].message, "side: bad");
  EXPECT_EQ(d.reasons[1].message, "body is not valid JSON");
  json out = DecisionToJsonValue(d);
  EXPECT_EQ(out["reasons"][0]["field"], "side");
  EXPECT_FALSE(out["reasons"][1].contains("field"));
}

}  // namespace
}  // namespace wojak
