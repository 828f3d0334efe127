// Tests for structured logging: line format, escaping, levels, redaction, sinks and config.
#include "common/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace wojak {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// 2026-11-25T12:00:00.123456Z
const std::chrono::system_clock::time_point kTimestamp =
    std::chrono::system_clock::time_point(std::chrono::seconds(1795608000)) +
    std::chrono::microseconds(123456);

// Points the process logger at a fresh temporary file for one test and restores stderr after.
class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/wojak_log_test_XXXXXX";
    const int fd = mkstemp(name);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = name;
  }
  void TearDown() override {
    ASSERT_TRUE(InitLogging(LogOptions{}).ok());
    std::remove(path_.c_str());
  }
  void Init(LogLevel level, bool async = false, LogFormat format = LogFormat::kJson) {
    LogOptions options;
    options.level = level;
    options.destination = path_;
    options.async = async;
    options.format = format;
    ASSERT_TRUE(InitLogging(options).ok());
  }
  std::vector<std::string> Lines() {
    FlushLogs();
    std::ifstream file(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    return lines;
  }
  std::string path_;
};

TEST(FormatLogLineTest, JsonLineHasTimestampLevelEventThenFields) {
  const std::string id = "W-000000000123";
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, kTimestamp, LogLevel::kInfo, "order_decided",
                          {{"order_id", id},
                           {"client_order_id", "s1-42"},
                           {"decision", std::string_view("ACCEPTED")},
                           {"qty", 50},
                           {"sequence", uint64_t{18446744073709551615u}},
                           {"ratio", 0.25},
                           {"halted", false}}),
            R"({"ts":"2026-11-25T12:00:00.123456Z","level":"info","event":"order_decided",)"
            R"("order_id":"W-000000000123","client_order_id":"s1-42","decision":"ACCEPTED",)"
            R"("qty":50,"sequence":18446744073709551615,"ratio":0.25,"halted":false})");
}

TEST(FormatLogLineTest, EscapesQuotesBackslashesAndControlCharacters) {
  const std::string line = FormatLogLine(LogFormat::kJson, kTimestamp, LogLevel::kWarn, "e\"v",
                                         {{"k\\", "a\"b\\c\nd\te\x01"}});
  EXPECT_THAT(line, HasSubstr(R"("event":"e\"v","k\\":"a\"b\\c\nd\te\u0001")"));
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["k\\"], "a\"b\\c\nd\te\x01");
}

TEST(FormatLogLineTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  const std::string line = FormatLogLine(LogFormat::kJson, kTimestamp, LogLevel::kInfo, "e",
                                         {{"name", "\u20b9 caf\xc3\xa9 \xff\xc3"}});
  EXPECT_THAT(line, HasSubstr("\"name\":\"\u20b9 caf\xc3\xa9 \\ufffd\\ufffd\""));
  EXPECT_NO_THROW(nlohmann::json::parse(line));
}

TEST(FormatLogLineTest, NonFiniteNumbersBecomeNull) {
  EXPECT_THAT(FormatLogLine(LogFormat::kJson, kTimestamp, LogLevel::kInfo, "e",
                            {{"x", std::numeric_limits<double>::quiet_NaN()}}),
              HasSubstr("\"x\":null}"));
}

TEST(FormatLogLineTest, TextFormatIsKeyValue) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, kTimestamp, LogLevel::kError, "journal_failed",
                          {{"path", "/var/lib/wojak"}, {"error", "disk full"}, {"retries", 3}}),
            "2026-11-25T12:00:00.123456Z ERROR journal_failed path=/var/lib/wojak "
            "error=\"disk full\" retries=3");
}

TEST(FormatLogLineTest, TimestampBeforeEpochKeepsPositiveFraction) {
  const auto before_epoch = std::chrono::system_clock::time_point(std::chrono::microseconds(-1));
  EXPECT_THAT(FormatLogLine(LogFormat::kJson, before_epoch, LogLevel::kInfo, "e", {}),
              HasSubstr("\"ts\":\"1969-12-31T23:59:59.999999Z\""));
}

TEST_F(LogFileTest, WritesOneJsonObjectPerLine) {
  Init(LogLevel::kInfo);
  LogInfo("engine_started", {{"version", "1.0"}});
  LogWarn("slow_commit", {{"micros", 1500}});
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(2));
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["event"], "engine_started");
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["version"], "1.0");
  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["level"], "warn");
  EXPECT_EQ(second["micros"], 1500);
}

TEST_F(LogFileTest, DropsEventsBelowTheLevel) {
  Init(LogLevel::kWarn);
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  LogDebug("debug_event");
  LogInfo("info_event");
  LogWarn("warn_event");
  LogError("error_event");
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0], HasSubstr("\"event\":\"warn_event\""));
  EXPECT_THAT(lines[1], HasSubstr("\"event\":\"error_event\""));
}

TEST_F(LogFileTest, OffWritesNothing) {
  Init(LogLevel::kOff);
  LogError("error_event");
  Log(LogLevel::kOff, "off_event");
  EXPECT_THAT(Lines(), SizeIs(0));
}

TEST_F(LogFileTest, RedactsRegisteredSecretsWherverTheyAppear) {
  Init(LogLevel::kInfo);
  RegisterSecret("tok-Abc123-secret");
  RegisterSecret("quote\"secret");
  LogInfo("auth", {{"header", "Bearer tok-Abc123-secret"}, {"tok-Abc123-secret", 1}});
  LogInfo("tok-Abc123-secret tok-Abc123-secret");
  LogInfo("escaped", {{"value", "x quote\"secret y"}});
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(3));
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(HasSubstr("tok-Abc123")));
    EXPECT_THAT(line, Not(HasSubstr("secret")));
  }
  EXPECT_THAT(lines[0], HasSubstr(R"("header":"Bearer [REDACTED]","[REDACTED]":1)"));
  EXPECT_THAT(lines[1], HasSubstr(R"("event":"[REDACTED] [REDACTED]")"));
  EXPECT_THAT(lines[2], HasSubstr(R"("value":"x [REDACTED] y")"));
}

TEST_F(LogFileTest, RedactsSecretsReadThroughConfig) {
  Init(LogLevel::kInfo);
  const std::map<std::string, std::string> env = {{"WOJAK_BROKER_API_KEY", "kite-key-0042"}};
  auto document = ConfigDocument::Parse("broker: {}", &env);
  ASSERT_TRUE(document.ok());
  ASSERT_EQ((*document)->Root().Section("broker", "").Secret("api_key", "broker key"),
            "kite-key-0042");
  LogInfo("login", {{"url", "https://example.invalid/?api_key=kite-key-0042"}});
  EXPECT_THAT(Lines(), ElementsAre(HasSubstr("api_key=[REDACTED]\"")));
}

TEST_F(LogFileTest, IgnoresTooShortSecrets) {
  Init(LogLevel::kInfo);
  RegisterSecret("abc");
  LogInfo("abcdef");
  ASSERT_THAT(Lines(), ElementsAre(HasSubstr("\"event\":\"abcdef\"")));
}

TEST_F(LogFileTest, AsyncLinesAreWrittenByReinitialisation) {
  Init(LogLevel::kInfo, /*async=*/true);
  for (int i = 0; i < 100; ++i) LogInfo("tick", {{"i", i}});
  ASSERT_TRUE(InitLogging(LogOptions{}).ok());
  const std::vector<std::string> lines = Lines();
  ASSERT_THAT(lines, SizeIs(100));
  EXPECT_THAT(lines[99], HasSubstr("\"i\":99}"));
}

TEST_F(LogFileTest, TextFormatGoesToTheSink) {
  Init(LogLevel::kInfo, false, LogFormat::kText);
  LogInfo("hello", {{"who", "world"}});
  ASSERT_THAT(Lines(), ElementsAre(HasSubstr(" INFO hello who=world")));
}

TEST_F(LogFileTest, UnopenableDestinationIsAnErrorAndKeepsThePreviousLogger) {
  Init(LogLevel::kInfo);
  LogOptions options;
  // A regular file cannot be a directory, so the log file under it cannot be created.
  options.destination = path_ + "/log.jsonl";
  const Status status = InitLogging(options);
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_THAT(status.message(), HasSubstr(options.destination));
  LogInfo("still_here");
  EXPECT_THAT(Lines(), ElementsAre(HasSubstr("\"event\":\"still_here\"")));
}

TEST(ParseLogOptionsTest, ReadsTheLogSection) {
  const std::map<std::string, std::string> env = {{"WOJAK_LOG_LEVEL", "debug"}};
  auto document = ConfigDocument::Parse(
      "log: {format: text, destination: /var/log/w.jsonl, async: true}", &env);
  ASSERT_TRUE(document.ok());
  const LogOptions options = ParseLogOptions((*document)->Root().Section("log", "logging"));
  EXPECT_EQ(options.level, LogLevel::kDebug);
  EXPECT_EQ(options.format, LogFormat::kText);
  EXPECT_EQ(options.destination, "/var/log/w.jsonl");
  EXPECT_TRUE(options.async);
  EXPECT_TRUE((*document)->errors().empty());
}

TEST(ParseLogOptionsTest, DefaultsAndViolations) {
  const std::map<std::string, std::string> env;
  auto document = ConfigDocument::Parse("log: {level: loud}", &env);
  ASSERT_TRUE(document.ok());
  const LogOptions options = ParseLogOptions((*document)->Root().Section("log", "logging"));
  EXPECT_EQ(options.level, LogLevel::kInfo);
  EXPECT_EQ(options.format, LogFormat::kJson);
  EXPECT_EQ(options.destination, "stderr");
  EXPECT_FALSE(options.async);
  EXPECT_THAT((*document)->errors().all(),
              ElementsAre("log.level: must be one of debug, info, warn, error, off, got 'loud'"));
}

}  // namespace
}  // namespace wojak
