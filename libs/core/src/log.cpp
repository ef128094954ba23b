#include "enkisys/core/log.hpp"

#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace enkisys::core {

bool parse_log_level(std::string_view text, LogLevel* out) {
  std::string lower;
  for (char c : text)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "debug")
    *out = LogLevel::kDebug;
  else if (lower == "info")
    *out = LogLevel::kInfo;
  else if (lower == "warn" || lower == "warning")
    *out = LogLevel::kWarn;
  else if (lower == "error")
    *out = LogLevel::kError;
  else
    return false;
  return true;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

Logger::Logger(std::string service, LogLevel level, int fd)
    : service_(std::move(service)), level_(level), fd_(fd) {}

void Logger::log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!enabled(level)) return;
  boost::json::object obj;
  for (const auto& f : fields) obj[f.key] = f.value;
  write_line(level, msg, obj);
}

void Logger::log(LogLevel level, std::string_view msg, const boost::json::object& fields) {
  if (!enabled(level)) return;
  write_line(level, msg, fields);
}

std::string utc_timestamp_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto secs = time_point_cast<seconds>(now);
  const auto ms = duration_cast<milliseconds>(now - secs).count();
  const std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void Logger::write_line(LogLevel level, std::string_view msg, const boost::json::object& fields) {
  boost::json::object line;
  line.reserve(fields.size() + 4);
  line["ts"] = utc_timestamp_now();
  line["level"] = to_string(level);
  line["service"] = service_;
  line["msg"] = msg;
  for (const auto& kv : fields) line[kv.key()] = kv.value();
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to report a failing log sink
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace enkisys::core
