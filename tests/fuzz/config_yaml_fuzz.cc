// Fuzzes the YAML configuration reader with the typed getters every module uses, plus the risk
// and log sections read in full: no document crashes or throws out of the reader, and every bad
// value becomes a reported violation.
#include <map>

#include "common/config.h"
#include "common/log.h"
#include "fuzz/fuzz_check.h"
#include "risk/risk_config.h"

namespace wojak {
namespace {

void ReadTypedKeys(ConfigSection section) {
  using std::chrono::milliseconds;
  section.String("name", "default", "a string");
  section.Int("count", 7, "an integer", -100, 100);
  section.Double("ratio", 0.5, "a ratio", 0.0, 1.0);
  section.Bool("enabled", true, "a flag");
  section.Duration("timeout", milliseconds(250), "a duration");
  section.StringList("names", {"a", "b"}, "a list");
  section.Enum("kind", "sandbox", {"sandbox", "http", "paper"}, "one of three");
  section.Raw("price", "money", "0", "a raw scalar");
  for (const std::string& key : section.Section("per_key", "named entries").MapKeys()) {
    section.Section("per_key", "named entries").Section(key, "one entry").Int("limit", 0, "n");
  }
}

}  // namespace
}  // namespace wojak

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wojak;
  // No environment overrides: the input alone decides what is read.
  const std::map<std::string, std::string> environment;
  auto document = ConfigDocument::Parse(fuzz::AsText(data, size), &environment);
  if (!document.ok()) return 0;
  ConfigSection root = (*document)->Root();
  ReadTypedKeys(root);
  ReadTypedKeys(root.Section("nested", "a nested section").Section("deeper", "one more level"));
  ReadRiskConfig(root);
  ParseLogOptions(root.Section("log", "logging"));
  (*document)->CheckUnknownKeys();
  Status status = (*document)->errors().ToStatus();
  fuzz::Check(status.ok() == (*document)->errors().empty(), "violations make the status fail");
  return 0;
}
