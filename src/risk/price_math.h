// Exact integer price arithmetic shared by the gate and its rules: bands and market protection.
#pragma once

#include <cstdint>

#include "model/instrument.h"
#include "model/order.h"
#include "risk/risk_config.h"

namespace wojak {

// Inclusive bounds in paise: a price exactly on a bound is inside.
struct PriceBandLimits {
  int64_t low = 0;
  int64_t high = 0;
};

// Options: reference at or below the threshold -> +/- the absolute amount, else +/- percent;
// futures: +/- percent. The percent width is truncated to whole paise.
PriceBandLimits ComputePriceBand(const Instrument& instrument, Paise reference,
                                 const PriceBands& bands);

// The LIMIT price a MARKET order becomes: `basis_points` through the reference, rounded on the
// tick grid toward the reference so the protection is never exceeded, and at least one tick.
Paise ProtectedMarketPrice(Side side, Paise reference, int64_t basis_points, Paise tick_size);

}  // namespace wojak
