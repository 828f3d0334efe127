// Structured JSON logging on top of spdlog: formatting, escaping, redaction and sink setup.
#include "common/log.h"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <vector>

namespace wojak {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";
constexpr size_t kMinimumSecretLength = 4;
constexpr size_t kAsyncQueueLines = 8192;

using Buffer = fmt::memory_buffer;

void Append(Buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not valid.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  // Overlong encodings, UTF-16 surrogates and code points above U+10FFFF.
  if (lead == 0xE0 && byte(i + 1) < 0xA0) return 0;
  if (lead == 0xED && byte(i + 1) > 0x9F) return 0;
  if (lead == 0xF0 && byte(i + 1) < 0x90) return 0;
  if (lead == 0xF4 && byte(i + 1) > 0x8F) return 0;
  return length;
}

// JSON string body: quotes, backslashes and control characters escaped; invalid UTF-8 becomes
// U+FFFD so every line stays valid JSON whatever bytes a client sent.
void AppendJsonEscaped(Buffer& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          Append(out, "\\\"");
          break;
        case '\\':
          Append(out, "\\\\");
          break;
        case '\n':
          Append(out, "\\n");
          break;
        case '\r':
          Append(out, "\\r");
          break;
        case '\t':
          Append(out, "\\t");
          break;
        case '\b':
          Append(out, "\\b");
          break;
        case '\f':
          Append(out, "\\f");
          break;
        default:
          if (c < 0x20) {
            const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
            out.append(escape, escape + sizeof(escape));
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      Append(out, "\\ufffd");
      ++i;
    } else {
      Append(out, text.substr(i, length));
      i += length;
    }
  }
}

std::string JsonEscaped(std::string_view text) {
  Buffer out;
  AppendJsonEscaped(out, text);
  return fmt::to_string(out);
}

void AppendTimestamp(Buffer& out, std::chrono::system_clock::time_point timestamp) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(timestamp.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000 - (micros % 1000000 < 0));
  const int64_t fraction = ((micros % 1000000) + 1000000) % 1000000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                 utc.tm_sec, fraction);
}

void AppendNumber(Buffer& out, double number) {
  // JSON has no NaN or infinity.
  if (!std::isfinite(number)) {
    Append(out, "null");
  } else {
    fmt::format_to(std::back_inserter(out), "{}", number);
  }
}

void AppendJsonValue(Buffer& out, const LogField::Value& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    out.push_back('"');
    AppendJsonEscaped(out, *text);
    out.push_back('"');
  } else if (const auto* signed_number = std::get_if<int64_t>(&value)) {
    fmt::format_to(std::back_inserter(out), "{}", *signed_number);
  } else if (const auto* unsigned_number = std::get_if<uint64_t>(&value)) {
    fmt::format_to(std::back_inserter(out), "{}", *unsigned_number);
  } else if (const auto* number = std::get_if<double>(&value)) {
    AppendNumber(out, *number);
  } else {
    Append(out, std::get<bool>(value) ? "true" : "false");
  }
}

bool NeedsQuotes(std::string_view text) {
  if (text.empty()) return true;
  for (char c : text) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void AppendTextValue(Buffer& out, const LogField::Value& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    if (NeedsQuotes(*text)) {
      out.push_back('"');
      AppendJsonEscaped(out, *text);
      out.push_back('"');
    } else {
      AppendJsonEscaped(out, *text);
    }
  } else {
    AppendJsonValue(out, value);
  }
}

void FormatInto(Buffer& out, LogFormat format, std::chrono::system_clock::time_point timestamp,
                LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (format == LogFormat::kText) {
    AppendTimestamp(out, timestamp);
    out.push_back(' ');
    for (char c : LogLevelName(level)) out.push_back(static_cast<char>(std::toupper(c)));
    out.push_back(' ');
    AppendJsonEscaped(out, event);
    for (const LogField& field : fields) {
      out.push_back(' ');
      AppendJsonEscaped(out, field.key);
      out.push_back('=');
      AppendTextValue(out, field.value);
    }
    return;
  }
  Append(out, "{\"ts\":\"");
  AppendTimestamp(out, timestamp);
  Append(out, "\",\"level\":\"");
  Append(out, LogLevelName(level));
  Append(out, "\",\"event\":\"");
  AppendJsonEscaped(out, event);
  out.push_back('"');
  for (const LogField& field : fields) {
    Append(out, ",\"");
    AppendJsonEscaped(out, field.key);
    Append(out, "\":");
    AppendJsonValue(out, field.value);
  }
  out.push_back('}');
}

spdlog::level::level_enum SpdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      break;
  }
  return spdlog::level::off;
}

// Process-wide logger state. The level is atomic so a disabled event costs one load.
struct LoggingState {
  std::atomic<int> level{static_cast<int>(LogLevel::kInfo)};
  std::atomic<bool> has_secrets{false};
  std::shared_mutex mutex;  // guards everything below
  LogFormat format = LogFormat::kJson;
  std::shared_ptr<spdlog::details::thread_pool> thread_pool;
  std::shared_ptr<spdlog::logger> logger;
  std::vector<std::string> secrets;  // raw values and their JSON-escaped forms
};

std::shared_ptr<spdlog::logger> MakeSyncLogger(spdlog::sink_ptr sink) {
  auto logger = std::make_shared<spdlog::logger>("wojak", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  // Flush every line: after a crash the last events are the ones that explain it.
  logger->flush_on(spdlog::level::trace);
  return logger;
}

LoggingState& State() {
  static LoggingState* state = [] {
    auto* created = new LoggingState();
    created->logger = MakeSyncLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    return created;
  }();
  return *state;
}

// Replaces every registered secret in `line`; returns true when something was replaced.
bool Redact(const std::vector<std::string>& secrets, std::string& line) {
  bool replaced = false;
  for (const std::string& secret : secrets) {
    for (size_t at = line.find(secret); at != std::string::npos;
         at = line.find(secret, at + kRedacted.size())) {
      line.replace(at, secret.size(), kRedacted);
      replaced = true;
    }
  }
  return replaced;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      break;
  }
  return "off";
}

std::string FormatLogLine(LogFormat format, std::chrono::system_clock::time_point timestamp,
                          LogLevel level, std::string_view event,
                          std::initializer_list<LogField> fields) {
  Buffer out;
  FormatInto(out, format, timestamp, level, event, fields);
  return fmt::to_string(out);
}

Status InitLogging(const LogOptions& options) {
  spdlog::sink_ptr sink;
  try {
    if (options.destination == "stderr") {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else if (options.destination == "stdout") {
      sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.destination);
    }
  } catch (const std::exception& error) {
    return IoError("cannot open log destination '" + options.destination + "': " + error.what());
  }
  std::shared_ptr<spdlog::details::thread_pool> thread_pool;
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (options.async) {
      thread_pool = std::make_shared<spdlog::details::thread_pool>(kAsyncQueueLines, 1);
      logger = std::make_shared<spdlog::async_logger>(
          "wojak", std::move(sink), thread_pool, spdlog::async_overflow_policy::overrun_oldest);
      logger->set_pattern("%v");
      logger->set_level(spdlog::level::trace);
      logger->flush_on(spdlog::level::trace);
    } else {
      logger = MakeSyncLogger(std::move(sink));
    }
  } catch (const std::exception& error) {
    return Internal(std::string("cannot start logging: ") + error.what());
  }
  LoggingState& state = State();
  std::shared_ptr<spdlog::details::thread_pool> previous_pool;
  std::shared_ptr<spdlog::logger> previous_logger;
  {
    std::unique_lock lock(state.mutex);
    previous_pool = std::exchange(state.thread_pool, std::move(thread_pool));
    previous_logger = std::exchange(state.logger, std::move(logger));
    state.format = options.format;
    state.level.store(static_cast<int>(options.level), std::memory_order_relaxed);
  }
  try {
    previous_logger->flush();
  } catch (...) {
    // The previous sink is being discarded; nothing more can be done for its lines.
  }
  return OkStatus();
}

void FlushLogs() {
  LoggingState& state = State();
  std::shared_lock lock(state.mutex);
  try {
    state.logger->flush();
  } catch (...) {
    // Flushing is best effort; spdlog already reported the sink failure.
  }
}

void RegisterSecret(std::string value) {
  if (value.size() < kMinimumSecretLength) return;
  LoggingState& state = State();
  std::string escaped = JsonEscaped(value);
  std::unique_lock lock(state.mutex);
  for (std::string* form : {&value, &escaped}) {
    if (std::find(state.secrets.begin(), state.secrets.end(), *form) == state.secrets.end()) {
      state.secrets.push_back(*form);
    }
  }
  // Longest first so a secret containing another is replaced whole.
  std::sort(state.secrets.begin(), state.secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  state.has_secrets.store(true, std::memory_order_release);
}

bool LogEnabled(LogLevel level) {
  return level != LogLevel::kOff &&
         static_cast<int>(level) >= State().level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  try {
    const auto now = std::chrono::system_clock::now();
    LoggingState& state = State();
    Buffer out;
    std::shared_lock lock(state.mutex);
    FormatInto(out, state.format, now, level, event, fields);
    if (state.has_secrets.load(std::memory_order_acquire)) {
      std::string line = fmt::to_string(out);
      if (Redact(state.secrets, line)) {
        state.logger->log(SpdlogLevel(level), spdlog::string_view_t(line));
        return;
      }
    }
    state.logger->log(SpdlogLevel(level), spdlog::string_view_t(out.data(), out.size()));
  } catch (...) {
    // Logging must never take the caller down; the event is lost.
  }
}

LogOptions ParseLogOptions(ConfigSection section) {
  LogOptions options;
  const std::string level = section.Enum("level", "info", {"debug", "info", "warn", "error", "off"},
                                         "lowest level written (the order path logs per order "
                                         "only at debug)");
  for (LogLevel candidate :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (LogLevelName(candidate) == level) options.level = candidate;
  }
  const std::string format = section.Enum("format", "json", {"json", "text"},
                                          "json: one JSON object per line; text: for terminals");
  options.format = format == "text" ? LogFormat::kText : LogFormat::kJson;
  options.destination =
      section.String("destination", "stderr", "stderr, stdout, or a file path (appended to)");
  if (options.destination.empty()) {
    section.Error("destination", "must be stderr, stdout or a file path, got ''");
    options.destination = "stderr";
  }
  options.async = section.Bool("async", false,
                               "write from a background thread; drops the oldest lines rather "
                               "than block when 8192 are queued");
  return options;
}

}  // namespace wojak
