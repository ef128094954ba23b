// JSON-lines logger: one JSON object per line on a file descriptor (stdout by default).
//
// Contract:
//  * Thread-safe. Each line is written with a single write(2), so lines from different
//    threads never interleave.
//  * Every line has "ts" (RFC 3339 UTC, ms), "level", "service", "msg"; callers add fields.
//  * Never pass secrets as fields: the logger does not redact.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/value_from.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace enkisys::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "warning" | "error" (case-insensitive).
bool parse_log_level(std::string_view text, LogLevel* out);
std::string_view to_string(LogLevel level);

// Now as RFC 3339 UTC with milliseconds ("2026-11-27T21:40:00.123Z"): log lines and records.
std::string utc_timestamp_now();

// One key/value of a log line; the value is anything boost::json::value_from accepts.
struct LogField {
  template <typename T>
  LogField(std::string_view k, T&& v)
      : key(k), value(boost::json::value_from(std::forward<T>(v))) {}
  std::string_view key;
  boost::json::value value;
};

class Logger {
 public:
  explicit Logger(std::string service, LogLevel level = LogLevel::kInfo, int fd = 1);

  bool enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }
  void set_level(LogLevel level) { level_.store(level, std::memory_order_relaxed); }

  void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  // For callers that build fields dynamically (e.g. the access log).
  void log(LogLevel level, std::string_view msg, const boost::json::object& fields);

  void debug(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kDebug, msg, f);
  }
  void info(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kInfo, msg, f);
  }
  void warn(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kWarn, msg, f);
  }
  void error(std::string_view msg, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kError, msg, f);
  }

  const std::string& service() const { return service_; }

 private:
  void write_line(LogLevel level, std::string_view msg, const boost::json::object& fields);

  std::string service_;
  std::atomic<LogLevel> level_;
  int fd_;
};

}  // namespace enkisys::core
