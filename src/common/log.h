// Structured logging: one JSON event per line (ts, level, event, then fields), written through
// spdlog; registered secret values are replaced by "[REDACTED]" before a line leaves the process.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "common/config.h"
#include "common/status.h"

namespace wojak {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class LogFormat {
  kJson,  // {"ts":"...","level":"info","event":"...","key":value,...}
  kText,  // 2026-11-25T12:00:00.123456Z INFO event key=value ... (for humans at a terminal)
};

std::string_view LogLevelName(LogLevel level);  // "debug", "info", "warn", "error", "off"

// One key/value of an event. Values are borrowed: they only need to live for the Log() call.
struct LogField {
  using Value = std::variant<std::string_view, int64_t, uint64_t, double, bool>;

  LogField(std::string_view field_key, std::string_view text) : key(field_key), value(text) {}
  LogField(std::string_view field_key, const char* text)
      : key(field_key), value(std::string_view(text == nullptr ? "" : text)) {}
  LogField(std::string_view field_key, const std::string& text)
      : key(field_key), value(std::string_view(text)) {}
  LogField(std::string_view field_key, bool flag) : key(field_key), value(flag) {}
  LogField(std::string_view field_key, double number) : key(field_key), value(number) {}
  template <std::signed_integral T>
  LogField(std::string_view field_key, T number)
      : key(field_key), value(static_cast<int64_t>(number)) {}
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool>) LogField(std::string_view field_key, T number)
      : key(field_key), value(static_cast<uint64_t>(number)) {}

  std::string_view key;
  Value value;
};

struct LogOptions {
  // Events below this level are dropped before any formatting.
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kJson;
  // "stderr", "stdout", or a file path (appended to; the file and its directories are created).
  std::string destination = "stderr";
  // Hands lines to a background thread; when its queue (8192 lines) is full the oldest line is
  // dropped rather than blocking the caller, so a slow disk never stalls the engine.
  bool async = false;
};

// Replaces the process-wide logger. Until the first call, events go to stderr as JSON at info.
// Fails (and keeps the previous logger) when the destination file cannot be opened. Lines queued
// by a previous async logger are written out before it returns, so calling it again at shutdown
// (e.g. with default options) drains the queue.
Status InitLogging(const LogOptions& options);
// Flushes the sink (for an async logger: asks the background thread to flush, without waiting).
void FlushLogs();

// Any later line containing `value` has it replaced by "[REDACTED]". Values shorter than 4
// characters are ignored: redacting them would mangle ordinary text without protecting anything.
void RegisterSecret(std::string value);

// True when an event at `level` would be written; lets callers skip building costly fields.
bool LogEnabled(LogLevel level);

// Never throws; a failing sink reports on stderr and the event is lost.
void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
inline void LogDebug(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kDebug, event, fields);
}
inline void LogInfo(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, event, fields);
}
inline void LogWarn(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarn, event, fields);
}
inline void LogError(std::string_view event, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, event, fields);
}

// The line (without newline) an event produces, before redaction; exposed for tests and tools.
std::string FormatLogLine(LogFormat format, std::chrono::system_clock::time_point timestamp,
                          LogLevel level, std::string_view event,
                          std::initializer_list<LogField> fields);

// Reads the `log:` section: level (debug|info|warn|error|off), format (json|text),
// destination (stderr|stdout|file path), async (bool). Violations go to the document's errors.
LogOptions ParseLogOptions(ConfigSection section);

}  // namespace wojak
