// Price band and market-protection arithmetic in integer paise.
#include "risk/price_math.h"

#include <algorithm>

#include "risk/saturating.h"

namespace wojak {
namespace {

int64_t PercentOf(int64_t amount, int64_t basis_points) {
  int64_t product;
  if (!__builtin_mul_overflow(amount, basis_points, &product)) return product / 10000;
  return static_cast<int64_t>(static_cast<__int128>(amount) * basis_points / 10000);
}

}  // namespace

PriceBandLimits ComputePriceBand(const Instrument& instrument, Paise reference,
                                 const PriceBands& bands) {
  int64_t ref = reference.value();
  int64_t width;
  if (instrument.IsOption()) {
    width = reference <= bands.option_threshold ? bands.option_absolute.value()
                                                : PercentOf(ref, bands.option_basis_points);
  } else {
    width = PercentOf(ref, bands.future_basis_points);
  }
  return PriceBandLimits{std::max<int64_t>(0, ref - width), SaturatingAdd(ref, width)};
}

Paise ProtectedMarketPrice(Side side, Paise reference, int64_t basis_points, Paise tick_size) {
  int64_t ref = reference.value();
  int64_t tick = std::max<int64_t>(1, tick_size.value());
  int64_t width = PercentOf(ref, basis_points);
  if (side == Side::kBuy) {
    int64_t limit = SaturatingAdd(ref, width);
    limit -= limit % tick;
    return Paise::FromPaise(std::max(limit, tick));
  }
  int64_t limit = ref - width;
  if (limit <= tick) return Paise::FromPaise(tick);
  if (limit % tick != 0) limit += tick - limit % tick;
  return Paise::FromPaise(limit);
}

}  // namespace wojak
