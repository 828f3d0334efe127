// The process-wide intern table behind InternedString.
#include "common/interned_string.h"

#include <functional>
#include <mutex>
#include <unordered_set>

namespace wojak {
namespace {

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>()(text); }
};

struct InternTable {
  std::mutex mutex;
  // Node-based, so the address of an element never changes once inserted.
  std::unordered_set<std::string, TransparentHash, std::equal_to<>> texts{std::string()};
};

// Never destroyed: handles in other statics may be read during static destruction.
InternTable& Table() {
  static InternTable* table = new InternTable;
  return *table;
}

const std::string* Intern(std::string_view text) {
  InternTable& table = Table();
  std::lock_guard lock(table.mutex);
  auto it = table.texts.find(text);
  if (it == table.texts.end()) it = table.texts.emplace(text).first;
  return &*it;
}

}  // namespace

InternedString::InternedString() : text_(Intern({})) {}

InternedString::InternedString(std::string_view text) : text_(Intern(text)) {}

size_t InternedStringCount() {
  InternTable& table = Table();
  std::lock_guard lock(table.mutex);
  return table.texts.size();
}

}  // namespace wojak
