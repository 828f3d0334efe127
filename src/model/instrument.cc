// Calendar arithmetic for contract expiries and IST trading dates.
#include "model/instrument.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace wojak {
namespace {

Nanos FloorDiv(Nanos a, Nanos b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool ParseFixedDigits(std::string_view text, int& out) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

constexpr std::array<std::string_view, 4> kTypeNames = {"CE", "PE", "FUT", "EQ"};

}  // namespace

std::optional<EpochDay> DaysFromCivil(int year, int month, int day) {
  // Range-check first: std::chrono::month/day keep only the low byte of their argument.
  if (year < -30000 || year > 30000 || month < 1 || month > 12 || day < 1 || day > 31) {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  return static_cast<EpochDay>(std::chrono::sys_days(date).time_since_epoch().count());
}

std::optional<EpochDay> ParseIsoDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int year = 0;
  int month = 0;
  int day = 0;
  if (!ParseFixedDigits(text.substr(0, 4), year) || !ParseFixedDigits(text.substr(5, 2), month) ||
      !ParseFixedDigits(text.substr(8, 2), day)) {
    return std::nullopt;
  }
  return DaysFromCivil(year, month, day);
}

std::string FormatIsoDate(EpochDay day) {
  std::chrono::year_month_day date{std::chrono::sys_days(std::chrono::days(day))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buf;
}

int Weekday(EpochDay day) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  int weekday = static_cast<int>((int64_t{day} + 3) % 7);
  return weekday < 0 ? weekday + 7 : weekday;
}

EpochDay IstDate(Nanos now) {
  return static_cast<EpochDay>(FloorDiv(now + kIstOffset, kNanosPerDay));
}

Nanos IstTimeOfDay(Nanos now) {
  return now + kIstOffset - FloorDiv(now + kIstOffset, kNanosPerDay) * kNanosPerDay;
}

Nanos IstMidnight(EpochDay day) { return int64_t{day} * kNanosPerDay - kIstOffset; }

std::string_view InstrumentTypeName(InstrumentType type) {
  return kTypeNames[static_cast<size_t>(type)];
}

std::optional<InstrumentType> ParseInstrumentType(std::string_view text) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == text) return static_cast<InstrumentType>(i);
  }
  return std::nullopt;
}

std::string_view SegmentName(Segment segment) {
  switch (segment) {
    case Segment::kNfoOptions:
      return "NFO-OPT";
    case Segment::kNfoFutures:
      return "NFO-FUT";
    case Segment::kOther:
      break;
  }
  return "OTHER";
}

Segment ParseSegment(std::string_view text) {
  if (text == "NFO-OPT") return Segment::kNfoOptions;
  if (text == "NFO-FUT") return Segment::kNfoFutures;
  return Segment::kOther;
}

}  // namespace wojak
