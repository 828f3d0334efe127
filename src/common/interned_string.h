// Process-wide interned strings: names repeated across many records are stored once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wojak {

// A pointer-sized handle to a string kept for the life of the process. Equal texts share one
// copy, so handles compare by pointer. Interning takes a lock, so intern once when a record is
// stored, not on every lookup. Meant for low-cardinality names (accounts, strategies, symbols):
// an interned text is never freed.
class InternedString {
 public:
  InternedString();  // the empty string
  explicit InternedString(std::string_view text);

  const std::string& str() const { return *text_; }
  // Implicit so a field that was a std::string reads the same wherever it is used.
  operator const std::string&() const { return *text_; }  // NOLINT(google-explicit-constructor)
  bool empty() const { return text_->empty(); }

  friend bool operator==(InternedString a, InternedString b) { return a.text_ == b.text_; }
  friend bool operator==(InternedString a, std::string_view b) { return *a.text_ == b; }

 private:
  const std::string* text_;
};

// Distinct texts interned so far, including the empty string.
size_t InternedStringCount();

}  // namespace wojak
