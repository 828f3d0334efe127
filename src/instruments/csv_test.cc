// Tests for CSV line splitting.
#include "instruments/csv.h"

#include <gtest/gtest.h>

namespace wojak {
namespace {

std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> fields;
  Status status = SplitCsvLine(line, fields);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return fields;
}

TEST(SplitCsvLineTest, SplitsPlainFields) {
  EXPECT_EQ(Split("a,b,c"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SplitCsvLineTest, UnquotesQuotedFields) {
  EXPECT_EQ(Split(R"(1,"NIFTY",x)"), (std::vector<std::string>{"1", "NIFTY", "x"}));
}

TEST(SplitCsvLineTest, KeepsCommasInsideQuotes) {
  EXPECT_EQ(Split(R"("a,b",c)"), (std::vector<std::string>{"a,b", "c"}));
}

TEST(SplitCsvLineTest, DoubledQuoteIsOneQuote) {
  EXPECT_EQ(Split(R"("say ""hi""",x)"), (std::vector<std::string>{R"(say "hi")", "x"}));
}

TEST(SplitCsvLineTest, KeepsEmptyFields) {
  EXPECT_EQ(Split("a,,c,"), (std::vector<std::string>{"a", "", "c", ""}));
  EXPECT_EQ(Split(""), (std::vector<std::string>{""}));
}

TEST(SplitCsvLineTest, TrimsPaddingOfUnquotedFields) {
  EXPECT_EQ(Split(" NIFTY , 1800 "), (std::vector<std::string>{"NIFTY", "1800"}));
}

TEST(SplitCsvLineTest, KeepsSpacesInsideQuotes) {
  EXPECT_EQ(Split(R"( " NIFTY 50 " ,x)"), (std::vector<std::string>{" NIFTY 50 ", "x"}));
}

TEST(SplitCsvLineTest, RejectsUnterminatedQuote) {
  std::vector<std::string> fields;
  Status status = SplitCsvLine(R"(1,"NIFTY,2)", fields);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("unterminated quote in field 2"), std::string::npos);
}

TEST(SplitCsvLineTest, RejectsTextAfterClosingQuote) {
  std::vector<std::string> fields;
  EXPECT_FALSE(SplitCsvLine(R"("a"b,c)", fields).ok());
}

TEST(SplitCsvLineTest, RejectsStrayQuoteInUnquotedField) {
  std::vector<std::string> fields;
  EXPECT_FALSE(SplitCsvLine(R"(ab"c,d)", fields).ok());
}

TEST(SplitLinesTest, DropsCarriageReturns) {
  EXPECT_EQ(SplitLines("a\r\nb\r\n"), (std::vector<std::string_view>{"a", "b"}));
}

TEST(SplitLinesTest, KeepsLastLineWithoutNewline) {
  EXPECT_EQ(SplitLines("a\nb"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_TRUE(SplitLines("").empty());
}

}  // namespace
}  // namespace wojak
