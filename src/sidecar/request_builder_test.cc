// Tests for turning source messages into engine requests.
#include "sidecar/request_builder.h"

#include <gtest/gtest.h>

namespace wojak::sidecar {
namespace {

constexpr char kOrder[] =
    R"({"client_order_id":"s1-1","account":"ACC1","exchange":"NFO","symbol":"NIFTY26JAN24000CE",)"
    R"("side":"SELL","quantity":75,"order_type":"LIMIT","product":"NRML","price":"120.50"})";
constexpr char kOrderWithoutId[] =
    R"({"account":"ACC1","exchange":"NFO","symbol":"NIFTY26JAN24000CE",)"
    R"("side":"SELL","quantity":75,"order_type":"LIMIT","product":"NRML","price":"120.50"})";

Message OrderMessage(std::string body, std::string identity = "m-1") {
  Message message;
  message.body = std::move(body);
  message.identity = std::move(identity);
  return message;
}

std::shared_ptr<const AccountScope> ScopeOf(std::initializer_list<const char*> accounts) {
  auto scope = std::make_shared<AccountScope>();
  for (const char* account : accounts) scope->accounts.insert(account);
  return scope;
}

TEST(BuildRequestTest, KeepsTheSendersClientOrderId) {
  BuildResult result = BuildRequest("http", OrderMessage(kOrder));
  ASSERT_TRUE(std::holds_alternative<BuiltRequest>(result));
  const auto& built = std::get<BuiltRequest>(result);
  EXPECT_EQ(built.client_order_id, "s1-1");
  EXPECT_EQ(built.account, "ACC1");
  EXPECT_EQ(std::get<OrderRequest>(built.request).quantity, 75);
}

TEST(BuildRequestTest, DerivesTheSameClientOrderIdForARedeliveredMessage) {
  BuildResult first = BuildRequest("kafka", OrderMessage(kOrderWithoutId, "orders/3/1042"));
  BuildResult again = BuildRequest("kafka", OrderMessage(kOrderWithoutId, "orders/3/1042"));
  ASSERT_TRUE(std::holds_alternative<BuiltRequest>(first));
  ASSERT_TRUE(std::holds_alternative<BuiltRequest>(again));
  const std::string id = std::get<BuiltRequest>(first).client_order_id;
  EXPECT_EQ(id, std::get<BuiltRequest>(again).client_order_id);
  EXPECT_EQ(std::get<OrderRequest>(std::get<BuiltRequest>(first).request).client_order_id, id);
  EXPECT_EQ(id.rfind("d-", 0), 0u);
}

TEST(BuildRequestTest, DerivedIdsDifferAcrossMessagesAndSources) {
  EXPECT_NE(DeriveClientOrderId("kafka", "orders/3/1042"),
            DeriveClientOrderId("kafka", "orders/3/1043"));
  EXPECT_NE(DeriveClientOrderId("kafka", "x"), DeriveClientOrderId("sqs", "x"));
  EXPECT_EQ(DeriveClientOrderId("kafka", "x").size(), 24u);
}

TEST(BuildRequestTest, MissingIdWithoutIdentityIsMalformed) {
  BuildResult result = BuildRequest("http", OrderMessage(kOrderWithoutId, ""));
  ASSERT_TRUE(std::holds_alternative<DeadLetterInfo>(result));
  const auto& info = std::get<DeadLetterInfo>(result);
  EXPECT_EQ(info.kind, DeadLetterKind::kMalformed);
  ASSERT_EQ(info.decision.reasons.size(), 1u);
  EXPECT_EQ(info.decision.reasons[0].field, "client_order_id");
}

TEST(BuildRequestTest, ReportsEveryFieldErrorAtOnce) {
  BuildResult result = BuildRequest(
      "http", OrderMessage(R"({"client_order_id":"a","account":"ACC1","side":"UP","colour":1})"));
  ASSERT_TRUE(std::holds_alternative<DeadLetterInfo>(result));
  const auto& info = std::get<DeadLetterInfo>(result);
  EXPECT_EQ(info.kind, DeadLetterKind::kMalformed);
  EXPECT_EQ(info.decision.kind, DecisionKind::kRejected);
  // colour (unknown), exchange, symbol, side, quantity, order_type, product.
  EXPECT_EQ(info.decision.reasons.size(), 7u);
  for (const Reason& reason : info.decision.reasons) {
    EXPECT_EQ(reason.code, ReasonCode::k_INVALID_ORDER);
  }
  EXPECT_NE(info.reason.find("colour: unknown field"), std::string::npos);
}

TEST(BuildRequestTest, RefusesAnAccountOutsideTheSendersScope) {
  Message message = OrderMessage(kOrder);
  message.scope = ScopeOf({"ACC2"});
  BuildResult result = BuildRequest("http", message);
  ASSERT_TRUE(std::holds_alternative<DeadLetterInfo>(result));
  EXPECT_EQ(std::get<DeadLetterInfo>(result).kind, DeadLetterKind::kForbidden);
}

TEST(BuildRequestTest, AllowsAnAccountInsideTheSendersScope) {
  Message message = OrderMessage(kOrder);
  message.scope = ScopeOf({"ACC2", "ACC1"});
  EXPECT_TRUE(std::holds_alternative<BuiltRequest>(BuildRequest("http", message)));
}

TEST(BuildRequestTest, BuildsACancel) {
  Message message;
  message.kind = MessageKind::kCancel;
  message.body = CancelBody("ACC1", "s1-1");
  BuildResult result = BuildRequest("http", message);
  ASSERT_TRUE(std::holds_alternative<BuiltRequest>(result));
  const auto& cancel = std::get<CancelRequest>(std::get<BuiltRequest>(result).request);
  EXPECT_EQ(cancel.account, "ACC1");
  EXPECT_EQ(cancel.client_order_id, "s1-1");
}

TEST(BuildRequestTest, RefusesACancelForAnotherAccount) {
  Message message;
  message.kind = MessageKind::kCancel;
  message.body = CancelBody("ACC1", "s1-1");
  message.scope = ScopeOf({"ACC2"});
  BuildResult result = BuildRequest("http", message);
  ASSERT_TRUE(std::holds_alternative<DeadLetterInfo>(result));
  EXPECT_EQ(std::get<DeadLetterInfo>(result).kind, DeadLetterKind::kForbidden);
}

TEST(BuildRequestTest, CancelWithUnknownFieldsIsMalformed) {
  Message message;
  message.kind = MessageKind::kCancel;
  message.body = R"({"account":"ACC1","client_order_id":"x","why":"because"})";
  BuildResult result = BuildRequest("http", message);
  ASSERT_TRUE(std::holds_alternative<DeadLetterInfo>(result));
  EXPECT_EQ(std::get<DeadLetterInfo>(result).kind, DeadLetterKind::kMalformed);
}

}  // namespace
}  // namespace wojak::sidecar
