// Reason code names.
#include "model/reason_code.h"

#include <array>

namespace wojak {
namespace {
constexpr std::array kNames = {
#define WOJAK_REASON_NAME(name) std::string_view(#name),
    WOJAK_REASON_CODES(WOJAK_REASON_NAME)
#undef WOJAK_REASON_NAME
};
}  // namespace

std::string_view ReasonCodeName(ReasonCode code) { return kNames[static_cast<size_t>(code)]; }

std::optional<ReasonCode> ParseReasonCode(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ReasonCode>(i);
  }
  return std::nullopt;
}

}  // namespace wojak
