// One tradable contract from the instrument master, and the calendar arithmetic its expiry needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "model/money.h"

namespace wojak {

// A calendar date as days since 1970-01-01 (the civil date, no time zone attached).
using EpochDay = int32_t;
inline constexpr EpochDay kNoExpiry = INT32_MAX;

// Days since 1970-01-01 for a proleptic Gregorian date; nullopt when the date does not exist.
std::optional<EpochDay> DaysFromCivil(int year, int month, int day);
// "2026-01-27" -> days; nullopt for anything else (including impossible dates like 2026-02-30).
std::optional<EpochDay> ParseIsoDate(std::string_view text);
// days -> "2026-01-27".
std::string FormatIsoDate(EpochDay day);
// 0 = Monday ... 6 = Sunday.
int Weekday(EpochDay day);

// NSE trades on India Standard Time (UTC+05:30, no daylight saving), so trading dates and
// session times are IST whatever the host's time zone is.
inline constexpr Nanos kIstOffset = (5 * 3600 + 30 * 60) * kNanosPerSecond;
inline constexpr Nanos kNanosPerDay = 86'400 * kNanosPerSecond;
// The IST calendar date of an instant.
EpochDay IstDate(Nanos now);
// Nanoseconds since IST midnight of an instant.
Nanos IstTimeOfDay(Nanos now);
// The instant of IST midnight starting `day` (for tests and fixtures).
Nanos IstMidnight(EpochDay day);

enum class InstrumentType : uint8_t { kCall, kPut, kFuture, kEquity };  // CE, PE, FUT, EQ
// Segments the gate trades are NFO options and futures; any other segment of the Kite master
// (NSE cash, INDICES, BFO, MCX, ...) is loaded as kOther so the file can be used unfiltered.
enum class Segment : uint8_t { kNfoOptions, kNfoFutures, kOther };

std::string_view InstrumentTypeName(InstrumentType type);  // "CE", "PE", "FUT", "EQ"
std::optional<InstrumentType> ParseInstrumentType(std::string_view text);
std::string_view SegmentName(Segment segment);  // "NFO-OPT", "NFO-FUT", "OTHER"
Segment ParseSegment(std::string_view text);

// Field order is deliberate: the numbers the risk gate reads on every order come first so they
// share the first cache line; the strings follow.
struct Instrument {
  int64_t instrument_token = 0;
  // The future whose price stands for the underlying (same underlying, nearest expiry on or
  // after this contract's); 0 = none in the master. Set by the instrument table.
  int64_t underlying_token = 0;
  Qty lot_size = 0;
  // From the freeze-limit file by underlying; 0 = no freeze limit known.
  Qty freeze_quantity = 0;
  Paise tick_size;
  Paise strike;      // 0 for futures
  Paise last_price;  // the master's last price; 0 = unknown
  EpochDay expiry = kNoExpiry;
  InstrumentType instrument_type = InstrumentType::kFuture;
  Segment segment = Segment::kOther;
  std::string exchange;       // "NFO"
  std::string name;           // the underlying: NIFTY
  std::string tradingsymbol;  // NIFTY26JAN24000CE
  std::string segment_name;   // as written in the master ("NFO-OPT")
  int64_t exchange_token = 0;

  bool IsOption() const {
    return instrument_type == InstrumentType::kCall || instrument_type == InstrumentType::kPut;
  }
  bool IsNfoDerivative() const { return segment != Segment::kOther && exchange == "NFO"; }
  // A contract trades through its expiry day; it is expired from the next IST date on.
  bool IsExpiredOn(EpochDay ist_today) const { return expiry != kNoExpiry && ist_today > expiry; }
  bool IsExpiredAt(Nanos now) const { return IsExpiredOn(IstDate(now)); }
  // Calendar days from `ist_today` to expiry (0 on expiry day); kNoExpiry when it never expires.
  int64_t DaysToExpiry(EpochDay ist_today) const {
    return expiry == kNoExpiry ? kNoExpiry : int64_t{expiry} - ist_today;
  }

  bool operator==(const Instrument&) const = default;
};

}  // namespace wojak
