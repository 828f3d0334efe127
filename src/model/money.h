// Fixed-point money: rupees are held as int64 paise (1/100 rupee). No floating point touches money.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wojak {

class Paise {
 public:
  constexpr Paise() = default;
  static constexpr Paise FromPaise(int64_t paise) { return Paise(paise); }
  static constexpr Paise FromRupees(int64_t rupees) { return Paise(rupees * 100); }

  constexpr int64_t value() const { return value_; }
  constexpr auto operator<=>(const Paise&) const = default;

  // "120.50" / "120.5" / "-3" / "0.05". More than two decimals, exponents, or overflow are errors.
  static StatusOr<Paise> Parse(std::string_view text);
  // Always two decimals: "120.50", "-0.05".
  std::string ToString() const;

 private:
  constexpr explicit Paise(int64_t v) : value_(v) {}
  int64_t value_ = 0;
};

// Overflow-checked arithmetic: std::nullopt when the int64 result would overflow.
std::optional<Paise> CheckedAdd(Paise a, Paise b);
std::optional<Paise> CheckedSub(Paise a, Paise b);
// price × quantity (units), e.g. the notional of an order.
std::optional<Paise> CheckedMul(Paise price, int64_t quantity);

// Quantities are whole contract units (not lots): NIFTY 75 means one lot of 75.
using Qty = int64_t;

}  // namespace wojak
