// Configuration reader: YAML file + WOJAK_* environment overrides, typed getters that document
// every key they read and collect every violation instead of stopping at the first.
#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>
#include <variant>

#include "common/log.h"

extern char** environ;

namespace wojak {

void ConfigErrors::Add(std::string path, std::string message) {
  if (path.empty()) {
    errors_.push_back(std::move(message));
  } else {
    errors_.push_back(path + ": " + message);
  }
}

Status ConfigErrors::ToStatus() const {
  if (errors_.empty()) return OkStatus();
  std::string message = std::to_string(errors_.size()) + " configuration violation" +
                        (errors_.size() == 1 ? "" : "s") + ":";
  for (const std::string& error : errors_) {
    message += "\n";
    message += error;
  }
  return InvalidArgument(std::move(message));
}

namespace {

constexpr std::string_view kNamePlaceholder = "<name>";

std::string EnvironmentVariableFor(std::string_view path) {
  std::string name = "WOJAK_";
  for (char c : path) {
    if (c == '.' || c == '-') {
      name += '_';
    } else {
      name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return name;
}

std::string JoinPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  path += '.';
  path += key;
  return path;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) joined += separator;
    joined += items[i];
  }
  return joined;
}

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string NodeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Undefined:
      break;
  }
  return "an undefined value";
}

std::string LineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return "";
  return " (line " + std::to_string(mark.line + 1) + ")";
}

// Either the parsed value or a message saying why the text is not one.
template <typename T>
using Parsed = std::variant<T, std::string>;

Parsed<int64_t> ParseInt(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error == std::errc::invalid_argument ||
      end != digits.data() + digits.size()) {
    return "expected an integer, got '" + std::string(text) + "'";
  }
  if (error == std::errc::result_out_of_range) {
    return "integer '" + std::string(text) + "' is out of range";
  }
  return value;
}

Parsed<double> ParseDouble(std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno == ERANGE ||
      !std::isfinite(value) || std::isspace(static_cast<unsigned char>(copy.front()))) {
    return "expected a number, got '" + copy + "'";
  }
  return value;
}

Parsed<bool> ParseBool(std::string_view text) {
  const std::string lower = Lowercase(text);
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return "expected true or false, got '" + std::string(text) + "'";
}

Parsed<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string bad =
      "expected a duration such as 250ms, 5s, 2m or 1h, got '" + std::string(text) + "'";
  size_t digit_count = 0;
  while (digit_count < text.size() && std::isdigit(static_cast<unsigned char>(text[digit_count]))) {
    ++digit_count;
  }
  if (digit_count == 0) return bad;
  int64_t amount = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + digit_count, amount);
  if (error != std::errc()) return bad;
  const std::string_view unit = text.substr(digit_count);
  int64_t millis_per_unit = 0;
  if (unit.empty() || unit == "ms") {
    millis_per_unit = 1;
  } else if (unit == "s") {
    millis_per_unit = 1000;
  } else if (unit == "m") {
    millis_per_unit = 60 * 1000;
  } else if (unit == "h") {
    millis_per_unit = 60 * 60 * 1000;
  } else {
    return bad;
  }
  if (amount > std::numeric_limits<int64_t>::max() / millis_per_unit) {
    return "duration '" + std::string(text) + "' is out of range";
  }
  return std::chrono::milliseconds(amount * millis_per_unit);
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  const int64_t millis = duration.count();
  if (millis != 0 && millis % (60 * 60 * 1000) == 0) {
    return std::to_string(millis / (60 * 60 * 1000)) + "h";
  }
  if (millis != 0 && millis % (60 * 1000) == 0) return std::to_string(millis / (60 * 1000)) + "m";
  if (millis != 0 && millis % 1000 == 0) return std::to_string(millis / 1000) + "s";
  return std::to_string(millis) + "ms";
}

std::string FormatDouble(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (error != std::errc()) return "?";
  return std::string(buffer, end);
}

std::string FormatList(const std::vector<std::string>& items) {
  return "[" + Join(items, ", ") + "]";
}

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> items;
  if (Trim(text).empty()) return items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    items.emplace_back(Trim(text.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return environment;
}

// yaml-cpp keeps every pair of a mapping, duplicates included, so duplicates are found here.
void CheckDuplicateKeys(const YAML::Node& node, const std::string& path, ConfigErrors& errors) {
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      CheckDuplicateKeys(node[i], path + "[" + std::to_string(i) + "]", errors);
    }
    return;
  }
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& pair : node) {
    if (!pair.first.IsScalar()) {
      errors.Add(path, "mapping keys must be plain names" + LineOf(pair.first));
      continue;
    }
    const std::string& key = pair.first.Scalar();
    const std::string child = JoinPath(path, key);
    if (!seen.insert(key).second) {
      errors.Add(child, "duplicate key" + LineOf(pair.first));
      continue;
    }
    CheckDuplicateKeys(pair.second, child, errors);
  }
}

}  // namespace

struct ConfigDocument::Impl {
  YAML::Node root;
  std::map<std::string, std::string> environment;
  // Mapping node of every section handed out, by path; a null node for an absent section.
  std::map<std::string, YAML::Node> sections;
  // Keys read in each section (by section path), for unknown-key detection and did-you-mean.
  std::map<std::string, std::set<std::string>> read_keys;
  // Sections whose keys are names (MapKeys was called): documented as "<name>".
  std::set<std::string> name_keyed_sections;
  // Section path -> documented path (names replaced by the placeholder).
  std::map<std::string, std::string> documented_paths;
  std::map<std::string, size_t> doc_index;
};

ConfigDocument::ConfigDocument() : impl_(std::make_unique<Impl>()) {
  impl_->sections[""] = YAML::Node(YAML::NodeType::Map);
  impl_->documented_paths[""] = "";
}

ConfigDocument::~ConfigDocument() = default;

StatusOr<std::unique_ptr<ConfigDocument>> ConfigDocument::Parse(
    std::string_view yaml_text, const std::map<std::string, std::string>* environment) {
  std::unique_ptr<ConfigDocument> document = Empty(environment);
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) {
      return InvalidArgument("configuration must be a mapping of sections at the top level, got " +
                             NodeKind(root));
    }
    CheckDuplicateKeys(root, "", document->errors_);
    document->impl_->root = root;
    document->impl_->sections[""] = root;
  } catch (const YAML::Exception& error) {
    return InvalidArgument("YAML syntax error at line " + std::to_string(error.mark.line + 1) +
                           ", column " + std::to_string(error.mark.column + 1) + ": " + error.msg);
  } catch (const std::exception& error) {
    return InvalidArgument(std::string("cannot parse configuration: ") + error.what());
  }
  return document;
}

StatusOr<std::unique_ptr<ConfigDocument>> ConfigDocument::Load(
    const std::string& path, const std::map<std::string, std::string>* environment) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFound("cannot open configuration file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return IoError("cannot read configuration file '" + path + "'");
  auto document = Parse(text.str(), environment);
  if (!document.ok()) return document.status().WithContext(path);
  return document;
}

std::unique_ptr<ConfigDocument> ConfigDocument::Empty(
    const std::map<std::string, std::string>* environment) {
  std::unique_ptr<ConfigDocument> document(new ConfigDocument());
  document->impl_->environment = environment ? *environment : ProcessEnvironment();
  return document;
}

void ConfigDocument::CheckUnknownKeys() {
  // Walks only into sections a module asked for; everything else unread is unknown.
  struct Walker {
    ConfigDocument::Impl& impl;
    ConfigErrors& errors;
    void Walk(const std::string& section_path) {
      auto section = impl.sections.find(section_path);
      if (section == impl.sections.end() || !section->second.IsMap()) return;
      const std::set<std::string>& read = impl.read_keys[section_path];
      std::set<std::string> reported;
      for (const auto& pair : section->second) {
        if (!pair.first.IsScalar()) continue;
        const std::string& key = pair.first.Scalar();
        const std::string path = JoinPath(section_path, key);
        if (read.count(key) == 0) {
          if (reported.insert(key).second) errors.Add("", UnknownKeyMessage(path, key, read));
          continue;
        }
        Walk(path);
      }
    }
    std::string UnknownKeyMessage(const std::string& path, const std::string& key,
                                  const std::set<std::string>& known) {
      std::string message = "unknown key '" + path + "'";
      const size_t tolerance = std::max<size_t>(2, key.size() / 3);
      size_t best_distance = tolerance + 1;
      std::string best;
      for (const std::string& candidate : known) {
        const size_t distance = EditDistance(Lowercase(key), Lowercase(candidate));
        if (distance < best_distance) {
          best_distance = distance;
          best = candidate;
        }
      }
      if (!best.empty()) {
        const std::string parent = path.substr(0, path.size() - key.size());
        message += " (did you mean '" + parent + best + "'?)";
      }
      return message;
    }
  };
  try {
    Walker{*impl_, errors_}.Walk("");
  } catch (const std::exception& error) {
    errors_.Add("", std::string("cannot check for unknown keys: ") + error.what());
  }
}

namespace {

// Where a scalar value came from, so a violation can say "(from environment WOJAK_X)".
struct ScalarValue {
  std::string text;
  std::string origin;  // "" for the file
};

}  // namespace

std::string ConfigSection::Child(std::string_view key) const { return JoinPath(path_, key); }

// Internal helpers shared by the getters. They live in a local class with access to the document
// so the public header stays free of yaml-cpp.
class ConfigSectionAccess {
 public:
  ConfigSectionAccess(ConfigDocument* document, const std::string& section_path)
      : impl_(*document->impl_),
        errors_(document->errors_),
        docs_(document->docs_),
        section_path_(section_path) {}

  void MarkRead(std::string_view key) { impl_.read_keys[section_path_].emplace(key); }

  std::string DocumentedPath(std::string_view key) const {
    auto parent = impl_.documented_paths.find(section_path_);
    const std::string documented_parent =
        parent == impl_.documented_paths.end() ? section_path_ : parent->second;
    return JoinPath(documented_parent, key);
  }

  void Record(std::string_view key, std::string_view type, std::string default_value,
              std::string_view doc) {
    RecordAs(key, DocumentedPath(key), type, std::move(default_value), doc);
  }

  // Marks `key` read and documents it under `path` (which may hold a name placeholder).
  void RecordAs(std::string_view key, std::string path, std::string_view type,
                std::string default_value, std::string_view doc) {
    MarkRead(key);
    if (impl_.doc_index.count(path) > 0) return;
    impl_.doc_index.emplace(path, docs_.size());
    docs_.push_back(ConfigKeyDoc{std::move(path), std::string(type), std::move(default_value),
                                 std::string(doc)});
  }

  // The value node in the file, if the key is present in this section.
  std::optional<YAML::Node> FileNode(std::string_view key) const {
    auto section = impl_.sections.find(section_path_);
    if (section == impl_.sections.end() || !section->second.IsMap()) return std::nullopt;
    for (const auto& pair : section->second) {
      if (pair.first.IsScalar() && pair.first.Scalar() == key) return pair.second;
    }
    return std::nullopt;
  }

  std::optional<std::string> EnvironmentValue(std::string_view key) const {
    auto found = impl_.environment.find(EnvironmentVariableFor(JoinPath(section_path_, key)));
    if (found == impl_.environment.end()) return std::nullopt;
    return found->second;
  }

  std::string EnvironmentOrigin(std::string_view key) const {
    return " (from environment " + EnvironmentVariableFor(JoinPath(section_path_, key)) + ")";
  }

  // The scalar text for `key` from the environment or the file; nullopt when absent or when the
  // file holds a non-scalar (reported as a violation naming `expected`).
  std::optional<ScalarValue> Scalar(std::string_view key, std::string_view expected) {
    if (auto environment = EnvironmentValue(key)) {
      return ScalarValue{*environment, EnvironmentOrigin(key)};
    }
    std::optional<YAML::Node> node = FileNode(key);
    if (!node) return std::nullopt;
    if (!node->IsScalar()) {
      Violation(key,
                "expected " + std::string(expected) + ", got " + NodeKind(*node) + LineOf(*node));
      return std::nullopt;
    }
    return ScalarValue{node->Scalar(), ""};
  }

  void Violation(std::string_view key, std::string message) {
    errors_.Add(JoinPath(section_path_, key), std::move(message));
  }

  template <typename T>
  T Read(std::string_view key, std::string_view expected, const T& default_value,
         Parsed<T> (*parse)(std::string_view)) {
    std::optional<ScalarValue> value = Scalar(key, expected);
    if (!value) return default_value;
    Parsed<T> parsed = parse(value->text);
    if (auto* message = std::get_if<std::string>(&parsed)) {
      Violation(key, *message + value->origin);
      return default_value;
    }
    return std::get<T>(parsed);
  }

  ConfigDocument::Impl& impl() { return impl_; }
  ConfigErrors& errors() { return errors_; }

 private:
  ConfigDocument::Impl& impl_;
  ConfigErrors& errors_;
  std::vector<ConfigKeyDoc>& docs_;
  const std::string& section_path_;
};

std::string ConfigSection::String(std::string_view key, std::string default_value,
                                  std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, "string", default_value, doc);
  try {
    std::optional<ScalarValue> value = access.Scalar(key, "a string");
    return value ? value->text : default_value;
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return default_value;
  }
}

int64_t ConfigSection::Int(std::string_view key, int64_t default_value, std::string_view doc,
                           int64_t min, int64_t max) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, "int", std::to_string(default_value), doc);
  try {
    std::optional<ScalarValue> value = access.Scalar(key, "an integer");
    if (!value) return default_value;
    Parsed<int64_t> parsed = ParseInt(value->text);
    if (auto* message = std::get_if<std::string>(&parsed)) {
      access.Violation(key, *message + value->origin);
      return default_value;
    }
    const int64_t number = std::get<int64_t>(parsed);
    if (number < min || number > max) {
      std::string bound;
      if (min == INT64_MIN) {
        bound = "at most " + std::to_string(max);
      } else if (max == INT64_MAX) {
        bound = "at least " + std::to_string(min);
      } else {
        bound = "between " + std::to_string(min) + " and " + std::to_string(max);
      }
      access.Violation(key, "must be " + bound + ", got " + value->text + value->origin);
      return default_value;
    }
    return number;
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return default_value;
  }
}

double ConfigSection::Double(std::string_view key, double default_value, std::string_view doc,
                             double min, double max) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, "number", FormatDouble(default_value), doc);
  try {
    std::optional<ScalarValue> value = access.Scalar(key, "a number");
    if (!value) return default_value;
    Parsed<double> parsed = ParseDouble(value->text);
    if (auto* message = std::get_if<std::string>(&parsed)) {
      access.Violation(key, *message + value->origin);
      return default_value;
    }
    const double number = std::get<double>(parsed);
    if (number < min || number > max) {
      access.Violation(key, "must be between " + FormatDouble(min) + " and " + FormatDouble(max) +
                                ", got " + value->text + value->origin);
      return default_value;
    }
    return number;
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return default_value;
  }
}

bool ConfigSection::Bool(std::string_view key, bool default_value, std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, "bool", default_value ? "true" : "false", doc);
  try {
    return access.Read<bool>(key, "true or false", default_value, &ParseBool);
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return default_value;
  }
}

std::chrono::milliseconds ConfigSection::Duration(std::string_view key,
                                                  std::chrono::milliseconds default_value,
                                                  std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, "duration", FormatDuration(default_value), doc);
  try {
    return access.Read<std::chrono::milliseconds>(key, "a duration", default_value, &ParseDuration);
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return default_value;
  }
}

std::vector<std::string> ConfigSection::StringList(std::string_view key,
                                                   std::vector<std::string> default_value,
                                                   std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, "list of strings", FormatList(default_value), doc);
  try {
    // In the environment a list is comma-separated: WOJAK_X_HOSTS="a, b".
    if (auto environment = access.EnvironmentValue(key)) return SplitCommaList(*environment);
    std::optional<YAML::Node> node = access.FileNode(key);
    if (!node) return default_value;
    if (!node->IsSequence()) {
      access.Violation(key, "expected a list, got " + NodeKind(*node) + LineOf(*node));
      return default_value;
    }
    std::vector<std::string> items;
    bool valid = true;
    for (size_t i = 0; i < node->size(); ++i) {
      const YAML::Node item = (*node)[i];
      if (!item.IsScalar()) {
        access.Violation(std::string(key) + "[" + std::to_string(i) + "]",
                         "expected a string, got " + NodeKind(item) + LineOf(item));
        valid = false;
        continue;
      }
      items.push_back(item.Scalar());
    }
    return valid ? items : default_value;
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return default_value;
  }
}

std::string ConfigSection::Enum(std::string_view key, std::string default_value,
                                const std::vector<std::string>& allowed, std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, "one of " + Join(allowed, "|"), default_value, doc);
  try {
    std::optional<ScalarValue> value = access.Scalar(key, "one of " + Join(allowed, ", "));
    if (!value) return default_value;
    if (std::find(allowed.begin(), allowed.end(), value->text) == allowed.end()) {
      access.Violation(key, "must be one of " + Join(allowed, ", ") + ", got '" + value->text +
                                "'" + value->origin);
      return default_value;
    }
    return value->text;
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return default_value;
  }
}

std::optional<std::string> ConfigSection::Secret(std::string_view key, std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  const std::string file_key = std::string(key) + "_file";
  const std::string variable = EnvironmentVariableFor(Child(key));
  access.Record(
      key, "secret", "",
      std::string(doc) + " (set " + variable + " or " + file_key + "; never in the file)");
  access.Record(file_key, "path", "", "file holding " + Child(key) + " (trailing newline trimmed)");
  try {
    // Checked first so the refusal is reported even when the environment also supplies it.
    if (access.FileNode(key)) {
      access.Violation(key, "secrets must come from the environment (" + variable +
                                ") or a file (" + file_key + "), not the configuration file");
    }
    // Registered with the logger so the value is redacted should anything ever print it.
    if (auto environment = access.EnvironmentValue(key)) {
      RegisterSecret(*environment);
      return *environment;
    }
    std::optional<ScalarValue> path = access.Scalar(file_key, "a file path");
    if (!path) return std::nullopt;
    std::ifstream file(path->text, std::ios::binary);
    if (!file) {
      access.Violation(file_key, "cannot read secret file '" + path->text + "'" + path->origin);
      return std::nullopt;
    }
    std::ostringstream content;
    content << file.rdbuf();
    std::string secret = content.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) {
      access.Violation(file_key, "secret file '" + path->text + "' is empty" + path->origin);
      return std::nullopt;
    }
    RegisterSecret(secret);
    return secret;
  } catch (const std::exception&) {
    // The exception text could quote the value; say only where.
    access.Violation(key, "cannot read secret");
    return std::nullopt;
  }
}

std::optional<std::string> ConfigSection::Raw(std::string_view key, std::string_view type,
                                              std::string_view default_value,
                                              std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  access.Record(key, type, std::string(default_value), doc);
  try {
    std::optional<ScalarValue> value = access.Scalar(key, type);
    if (!value) return std::nullopt;
    return value->text;
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    return std::nullopt;
  }
}

ConfigSection ConfigSection::Section(std::string_view key, std::string_view doc) {
  ConfigSectionAccess access(doc_, path_);
  const std::string child_path = Child(key);
  ConfigDocument::Impl& impl = access.impl();
  const bool name_keyed = impl.name_keyed_sections.count(path_) > 0;
  const std::string documented_path = access.DocumentedPath(name_keyed ? kNamePlaceholder : key);
  impl.documented_paths[child_path] = documented_path;
  access.RecordAs(key, documented_path, "section", "", doc);
  try {
    std::optional<YAML::Node> node = access.FileNode(key);
    if (node && !node->IsMap() && !node->IsNull()) {
      access.Violation(key, "expected a mapping, got " + NodeKind(*node) + LineOf(*node));
      node.reset();
    }
    impl.sections[child_path] = node && node->IsMap() ? *node : YAML::Node(YAML::NodeType::Map);
  } catch (const std::exception& error) {
    access.Violation(key, error.what());
    impl.sections[child_path] = YAML::Node(YAML::NodeType::Map);
  }
  return ConfigSection(doc_, child_path);
}

std::vector<std::string> ConfigSection::MapKeys() const {
  ConfigSectionAccess access(doc_, path_);
  ConfigDocument::Impl& impl = access.impl();
  impl.name_keyed_sections.insert(path_);
  std::vector<std::string> keys;
  try {
    auto section = impl.sections.find(path_);
    if (section == impl.sections.end() || !section->second.IsMap()) return keys;
    for (const auto& pair : section->second) {
      if (!pair.first.IsScalar()) continue;
      const std::string& key = pair.first.Scalar();
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      keys.push_back(key);
      access.MarkRead(key);
    }
  } catch (const std::exception& error) {
    access.errors().Add(path_, error.what());
  }
  return keys;
}

bool ConfigSection::Has(std::string_view key) const {
  ConfigSectionAccess access(doc_, path_);
  try {
    return access.EnvironmentValue(key).has_value() || access.FileNode(key).has_value();
  } catch (const std::exception&) {
    return false;
  }
}

void ConfigSection::Error(std::string_view key, std::string message) {
  doc_->errors_.Add(Child(key), std::move(message));
}

namespace {

std::string MarkdownCell(std::string_view text) {
  std::string cell;
  for (char c : text) {
    if (c == '|') {
      cell += "\\|";
    } else if (c == '\n') {
      cell += ' ';
    } else {
      cell += c;
    }
  }
  return cell;
}

}  // namespace

std::string RenderConfigDocs(const std::vector<ConfigKeyDoc>& docs) {
  std::vector<const ConfigKeyDoc*> keys;
  for (const ConfigKeyDoc& doc : docs) {
    if (doc.type != "section") keys.push_back(&doc);
  }
  std::sort(keys.begin(), keys.end(),
            [](const ConfigKeyDoc* a, const ConfigKeyDoc* b) { return a->path < b->path; });
  std::string table =
      "| Key | Type | Default | Environment variable | Description |\n"
      "|---|---|---|---|---|\n";
  for (const ConfigKeyDoc* doc : keys) {
    const std::string default_cell =
        doc->default_value.empty() ? "" : "`" + MarkdownCell(doc->default_value) + "`";
    table += "| `" + MarkdownCell(doc->path) + "` | " + MarkdownCell(doc->type) + " | " +
             default_cell + " | `" + EnvironmentVariableFor(doc->path) + "` | " +
             MarkdownCell(doc->doc) + " |\n";
  }
  return table;
}

std::string ConfigEnvironmentVariable(std::string_view path) {
  return EnvironmentVariableFor(path);
}

}  // namespace wojak
