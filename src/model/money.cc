// Exact decimal parsing and formatting of paise.
#include "model/money.h"

#include <limits>

namespace wojak {

StatusOr<Paise> Paise::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty price");
  std::string_view original = text;
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return InvalidArgument("price '" + std::string(original) + "' has no digits");
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t whole = 0;
  size_t i = 0;
  bool any_digit = false;
  for (; i < text.size() && text[i] != '.'; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      return InvalidArgument("price '" + std::string(original) + "' is not a decimal number");
    }
    any_digit = true;
    if (whole > (kMax / 100 - (c - '0')) / 10) {
      return InvalidArgument("price '" + std::string(original) + "' is out of range");
    }
    whole = whole * 10 + (c - '0');
  }
  int64_t fraction = 0;
  int decimals = 0;
  if (i < text.size()) {
    ++i;  // skip '.'
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c < '0' || c > '9') {
        return InvalidArgument("price '" + std::string(original) + "' is not a decimal number");
      }
      any_digit = true;
      if (decimals == 2) {
        if (c != '0') {
          return InvalidArgument("price '" + std::string(original) +
                                 "' has more than 2 decimals (paise is the smallest unit)");
        }
        continue;
      }
      fraction = fraction * 10 + (c - '0');
      ++decimals;
    }
  }
  if (!any_digit) return InvalidArgument("price '" + std::string(original) + "' has no digits");
  if (decimals == 1) fraction *= 10;
  // The digit loop bounds `whole` by INT64_MAX / 100, but whole * 100 + fraction can still
  // exceed INT64_MAX by up to 99 paise.
  int64_t paise;
  if (__builtin_mul_overflow(whole, 100, &paise) ||
      __builtin_add_overflow(paise, fraction, &paise)) {
    return InvalidArgument("price '" + std::string(original) + "' is out of range");
  }
  return Paise(negative ? -paise : paise);
}

std::string Paise::ToString() const {
  // Work in unsigned space so INT64_MIN formats correctly.
  uint64_t magnitude = value_ < 0 ? 0 - static_cast<uint64_t>(value_) : static_cast<uint64_t>(value_);
  std::string out = value_ < 0 ? "-" : "";
  out += std::to_string(magnitude / 100);
  out += '.';
  uint64_t cents = magnitude % 100;
  out += static_cast<char>('0' + cents / 10);
  out += static_cast<char>('0' + cents % 10);
  return out;
}

std::optional<Paise> CheckedAdd(Paise a, Paise b) {
  int64_t r;
  if (__builtin_add_overflow(a.value(), b.value(), &r)) return std::nullopt;
  return Paise::FromPaise(r);
}

std::optional<Paise> CheckedSub(Paise a, Paise b) {
  int64_t r;
  if (__builtin_sub_overflow(a.value(), b.value(), &r)) return std::nullopt;
  return Paise::FromPaise(r);
}

std::optional<Paise> CheckedMul(Paise price, int64_t quantity) {
  int64_t r;
  if (__builtin_mul_overflow(price.value(), quantity, &r)) return std::nullopt;
  return Paise::FromPaise(r);
}

}  // namespace wojak
