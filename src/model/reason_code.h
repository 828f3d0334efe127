// Stable reason codes: clients match on these names, so a code is only ever added, never renamed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wojak {

#define WOJAK_REASON_CODES(X)  \
  X(INVALID_ORDER)             \
  X(UNKNOWN_INSTRUMENT)        \
  X(INSTRUMENT_EXPIRED)        \
  X(QTY_NOT_POSITIVE)          \
  X(QTY_NOT_LOT_MULTIPLE)      \
  X(QTY_ABOVE_FREEZE_LIMIT)    \
  X(PRICE_NOT_TICK_MULTIPLE)   \
  X(PRICE_REQUIRED)            \
  X(TRIGGER_REQUIRED)          \
  X(TRIGGER_WRONG_SIDE)        \
  X(PRICE_OUTSIDE_BAND)        \
  X(NO_REFERENCE_PRICE)        \
  X(ORDER_VALUE_ABOVE_LIMIT)   \
  X(POSITION_LIMIT)            \
  X(EXPOSURE_LIMIT)            \
  X(OPEN_ORDERS_LIMIT)         \
  X(RATE_LIMIT)                \
  X(DAILY_LOSS_LIMIT)          \
  X(DAILY_ORDER_COUNT_LIMIT)   \
  X(SELF_TRADE)                \
  X(MARKET_CLOSED)             \
  X(TRADING_HALTED)            \
  X(REDUCE_ONLY)               \
  X(DUPLICATE)                 \
  X(ESCALATE_DAYS_TO_EXPIRY)   \
  X(ESCALATE_MONEYNESS)        \
  X(ESCALATE_STRATEGY)         \
  X(ESCALATE_NOTIONAL)         \
  X(RMS_REJECTED)              \
  X(ESCALATION_EXPIRED)        \
  X(UNKNOWN_ORDER)             \
  X(ORDER_NOT_OPEN)            \
  X(STORAGE_UNAVAILABLE)       \
  X(ENGINE_BUSY)               \
  X(PRICE_NOT_POSITIVE)

enum class ReasonCode : uint8_t {
#define WOJAK_REASON_ENUM(name) k_##name,
  WOJAK_REASON_CODES(WOJAK_REASON_ENUM)
#undef WOJAK_REASON_ENUM
};

std::string_view ReasonCodeName(ReasonCode code);
std::optional<ReasonCode> ParseReasonCode(std::string_view name);

}  // namespace wojak
