// Flag parsing for the wojak binary.
#include "cli/flags.h"

#include <charconv>

namespace wojak::cli {

StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                             const std::vector<FlagSpec>& specs) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      flags.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return InvalidArgument("unknown flag --" + name);
    if (!spec->takes_value) {
      if (inline_value) return InvalidArgument("flag --" + name + " takes no value");
      flags.values_[name] = "true";
      continue;
    }
    if (inline_value) {
      flags.values_[name] = *inline_value;
    } else if (i + 1 < args.size()) {
      flags.values_[name] = args[++i];
    } else {
      return InvalidArgument("flag --" + name + " needs a value");
    }
  }
  return flags;
}

std::optional<std::string> Flags::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Flags::GetOr(std::string_view name, std::string fallback) const {
  return Get(name).value_or(std::move(fallback));
}

StatusOr<int64_t> Flags::GetInt(std::string_view name, int64_t fallback) const {
  auto text = Get(name);
  if (!text) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return InvalidArgument("flag --" + std::string(name) + ": '" + *text + "' is not an integer");
  }
  return value;
}

std::string FlagsUsage(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const FlagSpec& s : specs) {
    out += "  --" + s.name + (s.takes_value ? " VALUE" : "") + "\n      " + s.help + "\n";
  }
  return out;
}

}  // namespace wojak::cli
