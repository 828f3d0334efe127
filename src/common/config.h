// Configuration: one YAML file; each module reads its own section through ConfigSection, which
// records every key it was asked for (with default and doc), applies WOJAK_<SECTION>_<KEY>
// environment overrides, and collects every violation so `wojak config check` reports them all.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace wojak {

// Every violation found while reading a configuration, with the key path ("risk.limits.max_qty").
class ConfigErrors {
 public:
  void Add(std::string path, std::string message);
  bool empty() const { return errors_.empty(); }
  const std::vector<std::string>& all() const { return errors_; }
  // INVALID_ARGUMENT listing every violation, one per line; OK when there are none.
  Status ToStatus() const;

 private:
  std::vector<std::string> errors_;
};

// One documented key, as collected while reading (for `wojak config docs`).
struct ConfigKeyDoc {
  std::string path;
  std::string type;
  std::string default_value;
  std::string doc;
};

class ConfigDocument;  // the parsed file + environment + collected errors and docs

// A view of one (possibly nested) mapping of the document. Cheap to copy.
class ConfigSection {
 public:
  std::string String(std::string_view key, std::string default_value, std::string_view doc);
  int64_t Int(std::string_view key, int64_t default_value, std::string_view doc,
              int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  double Double(std::string_view key, double default_value, std::string_view doc, double min,
                double max);
  bool Bool(std::string_view key, bool default_value, std::string_view doc);
  // "250ms", "5s", "2m", "1h" (a bare integer is milliseconds).
  std::chrono::milliseconds Duration(std::string_view key, std::chrono::milliseconds default_value,
                                     std::string_view doc);
  std::vector<std::string> StringList(std::string_view key, std::vector<std::string> default_value,
                                      std::string_view doc);
  // One of `allowed`; anything else is a violation naming the allowed values.
  std::string Enum(std::string_view key, std::string default_value,
                   const std::vector<std::string>& allowed, std::string_view doc);
  // A secret: from `key` in the file is refused (secrets never live in config files), from the
  // environment override, or from the file named by `<key>_file`. Never logged or echoed.
  std::optional<std::string> Secret(std::string_view key, std::string_view doc);
  // The raw scalar as text, or nullopt when absent (for module-specific types such as money;
  // pair with Error() to report a bad value).
  std::optional<std::string> Raw(std::string_view key, std::string_view type,
                                 std::string_view default_value, std::string_view doc);

  ConfigSection Section(std::string_view key, std::string_view doc);
  // Keys of a mapping whose keys are names (e.g. per-account limits); each is marked known.
  std::vector<std::string> MapKeys() const;
  // Whether the file or the environment sets `key`. Does not count as reading it: read it with a
  // getter, or CheckUnknownKeys() reports it.
  bool Has(std::string_view key) const;

  void Error(std::string_view key, std::string message);
  const std::string& path() const { return path_; }

 private:
  friend class ConfigDocument;
  ConfigSection(ConfigDocument* doc, std::string path) : doc_(doc), path_(std::move(path)) {}
  std::string Child(std::string_view key) const;
  ConfigDocument* doc_;
  std::string path_;  // "" for the root, "risk.limits" for nested
};

class ConfigDocument {
 public:
  // Parses YAML text. `environment` holds the process environment (name -> value) so tests can
  // inject overrides; pass nullptr to read the real environment.
  static StatusOr<std::unique_ptr<ConfigDocument>> Parse(
      std::string_view yaml_text, const std::map<std::string, std::string>* environment = nullptr);
  static StatusOr<std::unique_ptr<ConfigDocument>> Load(
      const std::string& path, const std::map<std::string, std::string>* environment = nullptr);
  // An empty document: every key takes its default (environment overrides still apply).
  static std::unique_ptr<ConfigDocument> Empty(
      const std::map<std::string, std::string>* environment = nullptr);

  ~ConfigDocument();
  ConfigSection Root() { return ConfigSection(this, ""); }
  // Adds an "unknown key" violation for every key in the file no module read. Call once after
  // every module has read its section.
  void CheckUnknownKeys();
  ConfigErrors& errors() { return errors_; }
  const std::vector<ConfigKeyDoc>& docs() const { return docs_; }

 private:
  friend class ConfigSection;
  friend class ConfigSectionAccess;
  struct Impl;
  ConfigDocument();
  std::unique_ptr<Impl> impl_;
  ConfigErrors errors_;
  std::vector<ConfigKeyDoc> docs_;
};

// The environment variable that overrides `path`: "journal.sync_mode" -> WOJAK_JOURNAL_SYNC_MODE.
std::string ConfigEnvironmentVariable(std::string_view path);

// A markdown table of every documented key (key, type, default, environment variable,
// description), sorted by key, for `wojak config docs`.
std::string RenderConfigDocs(const std::vector<ConfigKeyDoc>& docs);

}  // namespace wojak
