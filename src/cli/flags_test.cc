// Flag parsing: values, booleans, unknown flags and missing values.
#include "cli/flags.h"

#include <gtest/gtest.h>

namespace wojak::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {{"data", true, ""}, {"json", false, ""}, {"n", true, ""}};

TEST(FlagsTest, ParsesSpacedAndInlineValuesAndBooleans) {
  auto flags = Flags::Parse({"--data", "d1", "--n=5", "--json", "extra"}, kSpecs);
  ASSERT_TRUE(flags.ok()) << flags.status().ToString();
  EXPECT_EQ(flags->GetOr("data", ""), "d1");
  EXPECT_EQ(*flags->GetInt("n", 0), 5);
  EXPECT_TRUE(flags->Has("json"));
  EXPECT_EQ(flags->positional(), std::vector<std::string>{"extra"});
}

TEST(FlagsTest, RejectsUnknownFlagNamingIt) {
  auto flags = Flags::Parse({"--dta", "x"}, kSpecs);
  ASSERT_FALSE(flags.ok());
  EXPECT_NE(flags.status().message().find("--dta"), std::string::npos);
}

TEST(FlagsTest, RejectsMissingValueAndValueOnBoolean) {
  EXPECT_FALSE(Flags::Parse({"--data"}, kSpecs).ok());
  EXPECT_FALSE(Flags::Parse({"--json=yes"}, kSpecs).ok());
}

TEST(FlagsTest, RejectsNonIntegerForIntegerFlag) {
  auto flags = Flags::Parse({"--n", "5x"}, kSpecs);
  ASSERT_TRUE(flags.ok());
  EXPECT_FALSE(flags->GetInt("n", 0).ok());
  EXPECT_EQ(*flags->GetInt("missing", 7), 7);
}

}  // namespace
}  // namespace wojak::cli
