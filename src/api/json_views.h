// JSON shapes of what the REST API and the CLI show: orders, trades, positions, ticks, the
// effective risk limits and the engine's state. Money is a rupee string ("120.50"), never a float.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "engine/tick_store.h"
#include "journal/journal.h"
#include "risk/risk_config.h"

namespace wojak::api {

nlohmann::json OrderJson(const OrderRow& order);
nlohmann::json TradeJson(const TradeRow& trade);
nlohmann::json PositionJson(const PositionRow& position);
nlohmann::json TickJson(const TickRow& tick);
// Every rule (enabled, action), the limits at each scope ("none" limits are null), price bands,
// escalation thresholds, the session and the reference-price policy.
nlohmann::json RiskConfigJson(const RiskConfig& config);
nlohmann::json EngineStatusJson(const EngineStatus& status);
nlohmann::json TradingStatesJson(const TradingStates& states);

}  // namespace wojak::api
