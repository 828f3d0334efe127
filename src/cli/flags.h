// A small command-line flag parser: `--name value`, `--name=value` and boolean `--name`.
// Unknown flags and missing values are errors naming the flag, never silently ignored.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wojak::cli {

struct FlagSpec {
  std::string name;  // without dashes
  bool takes_value = true;
  std::string help;
};

class Flags {
 public:
  // Parses args (after the subcommand words) against the specs.
  static StatusOr<Flags> Parse(const std::vector<std::string>& args,
                               const std::vector<FlagSpec>& specs);
  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  std::optional<std::string> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string fallback) const;
  StatusOr<int64_t> GetInt(std::string_view name, int64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

std::string FlagsUsage(const std::vector<FlagSpec>& specs);

}  // namespace wojak::cli
