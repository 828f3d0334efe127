// Tests for fixed-point money: exact decimal parsing, formatting and overflow-checked arithmetic.
#include "model/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace wojak {
namespace {

int64_t ParsedPaise(std::string_view text) {
  auto parsed = Paise::Parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
  return parsed.ok() ? parsed->value() : -1;
}

TEST(PaiseParseTest, ParsesTwoDecimals) { EXPECT_EQ(ParsedPaise("120.50"), 12050); }

TEST(PaiseParseTest, ParsesOneDecimalAsTens) { EXPECT_EQ(ParsedPaise("120.5"), 12050); }

TEST(PaiseParseTest, ParsesWholeRupees) { EXPECT_EQ(ParsedPaise("120"), 12000); }

TEST(PaiseParseTest, ParsesFivePaise) { EXPECT_EQ(ParsedPaise("0.05"), 5); }

TEST(PaiseParseTest, ParsesZero) { EXPECT_EQ(ParsedPaise("0"), 0); }

TEST(PaiseParseTest, ParsesNegative) { EXPECT_EQ(ParsedPaise("-3"), -300); }

TEST(PaiseParseTest, ParsesNegativeFraction) { EXPECT_EQ(ParsedPaise("-0.05"), -5); }

TEST(PaiseParseTest, ParsesExplicitPlusSign) { EXPECT_EQ(ParsedPaise("+7.25"), 725); }

TEST(PaiseParseTest, AcceptsTrailingZerosBeyondTwoDecimals) {
  EXPECT_EQ(ParsedPaise("120.500"), 12050);
  EXPECT_EQ(ParsedPaise("1.0000"), 100);
}

TEST(PaiseParseTest, RejectsMoreThanTwoSignificantDecimals) {
  auto parsed = Paise::Parse("120.505");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("more than 2 decimals"), std::string::npos);
}

TEST(PaiseParseTest, RejectsThreeDecimalsEvenWhenSmall) {
  EXPECT_FALSE(Paise::Parse("0.001").ok());
}

TEST(PaiseParseTest, RejectsEmpty) { EXPECT_FALSE(Paise::Parse("").ok()); }

TEST(PaiseParseTest, RejectsSignWithoutDigits) {
  EXPECT_FALSE(Paise::Parse("-").ok());
  EXPECT_FALSE(Paise::Parse("+").ok());
}

TEST(PaiseParseTest, RejectsLonePoint) { EXPECT_FALSE(Paise::Parse(".").ok()); }

TEST(PaiseParseTest, RejectsExponent) { EXPECT_FALSE(Paise::Parse("1e5").ok()); }

TEST(PaiseParseTest, RejectsWhitespace) {
  EXPECT_FALSE(Paise::Parse(" 1").ok());
  EXPECT_FALSE(Paise::Parse("1 ").ok());
}

TEST(PaiseParseTest, RejectsLetters) { EXPECT_FALSE(Paise::Parse("12a.50").ok()); }

TEST(PaiseParseTest, RejectsSecondDecimalPoint) { EXPECT_FALSE(Paise::Parse("1.2.3").ok()); }

TEST(PaiseParseTest, RejectsDoubleSign) { EXPECT_FALSE(Paise::Parse("--1").ok()); }

TEST(PaiseParseTest, ErrorNamesTheText) {
  auto parsed = Paise::Parse("abc");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("'abc'"), std::string::npos);
}

TEST(PaiseParseTest, ParsesLargestRepresentableValue) {
  // INT64_MAX paise = 92233720368547758.07 rupees.
  EXPECT_EQ(ParsedPaise("92233720368547758.07"), std::numeric_limits<int64_t>::max());
}

TEST(PaiseParseTest, RejectsOnePaiseAboveLargestValue) {
  auto parsed = Paise::Parse("92233720368547758.08");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("out of range"), std::string::npos);
}

TEST(PaiseParseTest, RejectsHugeWholePart) {
  EXPECT_FALSE(Paise::Parse("92233720368547759").ok());
  EXPECT_FALSE(Paise::Parse("99999999999999999999999").ok());
}

TEST(PaiseParseTest, ParsesMostNegativeSymmetricValue) {
  EXPECT_EQ(ParsedPaise("-92233720368547758.07"), -std::numeric_limits<int64_t>::max());
}

TEST(PaiseFormatTest, AlwaysTwoDecimals) {
  EXPECT_EQ(Paise::FromPaise(12050).ToString(), "120.50");
  EXPECT_EQ(Paise::FromPaise(5).ToString(), "0.05");
  EXPECT_EQ(Paise::FromPaise(0).ToString(), "0.00");
  EXPECT_EQ(Paise::FromRupees(3).ToString(), "3.00");
}

TEST(PaiseFormatTest, FormatsNegative) { EXPECT_EQ(Paise::FromPaise(-5).ToString(), "-0.05"); }

TEST(PaiseFormatTest, FormatsExtremes) {
  EXPECT_EQ(Paise::FromPaise(std::numeric_limits<int64_t>::max()).ToString(),
            "92233720368547758.07");
  EXPECT_EQ(Paise::FromPaise(std::numeric_limits<int64_t>::min()).ToString(),
            "-92233720368547758.08");
}

TEST(PaiseFormatTest, RoundTripsThroughParse) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{99}, int64_t{100}, int64_t{-12345},
                    int64_t{1'000'000'000'00}}) {
    EXPECT_EQ(ParsedPaise(Paise::FromPaise(v).ToString()), v);
  }
}

TEST(PaiseCompareTest, OrdersByValue) {
  EXPECT_LT(Paise::FromPaise(1), Paise::FromPaise(2));
  EXPECT_EQ(Paise::FromRupees(1), Paise::FromPaise(100));
}

TEST(PaiseArithmeticTest, AddsAndSubtracts) {
  EXPECT_EQ(CheckedAdd(Paise::FromPaise(5), Paise::FromPaise(7))->value(), 12);
  EXPECT_EQ(CheckedSub(Paise::FromPaise(5), Paise::FromPaise(7))->value(), -2);
}

TEST(PaiseArithmeticTest, AddOverflowIsNullopt) {
  EXPECT_FALSE(
      CheckedAdd(Paise::FromPaise(std::numeric_limits<int64_t>::max()), Paise::FromPaise(1))
          .has_value());
}

TEST(PaiseArithmeticTest, SubOverflowIsNullopt) {
  EXPECT_FALSE(
      CheckedSub(Paise::FromPaise(std::numeric_limits<int64_t>::min()), Paise::FromPaise(1))
          .has_value());
}

TEST(PaiseArithmeticTest, MultipliesPriceByQuantity) {
  EXPECT_EQ(CheckedMul(Paise::FromPaise(12050), 75)->value(), 903750);
}

TEST(PaiseArithmeticTest, MulOverflowIsNullopt) {
  EXPECT_FALSE(
      CheckedMul(Paise::FromPaise(std::numeric_limits<int64_t>::max() / 2), 3).has_value());
}

}  // namespace
}  // namespace wojak
