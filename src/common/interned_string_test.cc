// Tests for InternedString.
#include "common/interned_string.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace wojak {
namespace {

TEST(InternedStringTest, EqualTextsShareOneCopy) {
  std::string first = "ACC-interned-shared";
  InternedString a(first);
  InternedString b(std::string("ACC-interned-") + "shared");
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_TRUE(a == b);
}

TEST(InternedStringTest, DifferentTextsDiffer) {
  InternedString a("NIFTY26JAN24000CE");
  InternedString b("NIFTY26JAN24000PE");
  EXPECT_FALSE(a == b);
  EXPECT_EQ(a.str(), "NIFTY26JAN24000CE");
  EXPECT_EQ(b.str(), "NIFTY26JAN24000PE");
}

TEST(InternedStringTest, TextOutlivesTheSourceString) {
  InternedString handle;
  {
    std::string source = "strategy-that-goes-out-of-scope";
    handle = InternedString(source);
    source.assign(source.size(), 'x');
  }
  EXPECT_EQ(handle.str(), "strategy-that-goes-out-of-scope");
}

TEST(InternedStringTest, DefaultIsTheInternedEmptyString) {
  InternedString empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(empty == InternedString(""));
  EXPECT_TRUE(empty == std::string_view());
}

TEST(InternedStringTest, ComparesWithPlainStrings) {
  InternedString account("ACC7");
  EXPECT_TRUE(account == std::string("ACC7"));
  EXPECT_FALSE(account == std::string("ACC70"));
  const std::string& as_string = account;
  EXPECT_EQ(as_string, "ACC7");
}

TEST(InternedStringTest, RepeatedInterningAddsNothing) {
  InternedString first("repeat-me-once");
  const size_t count = InternedStringCount();
  for (int i = 0; i < 100; ++i) InternedString again("repeat-me-once");
  EXPECT_EQ(InternedStringCount(), count);
}

TEST(InternedStringTest, ThreadsInterningTheSameTextGetOneCopy) {
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&seen, i] { seen[i] = &InternedString("raced-name").str(); });
  }
  for (auto& thread : threads) thread.join();
  for (const std::string* text : seen) EXPECT_EQ(text, seen.front());
}

}  // namespace
}  // namespace wojak
