// Time zones from the operating system's tz database (TZif files, RFC 8536) and the
// `current_time` builtin.
//
// Contract
// * TimeZone::parse_tzif() reads version 1-4 TZif data, including the POSIX TZ footer that
//   governs instants after the last listed transition. Malformed data is an error, never UB.
// * TimeZoneDb reads `<dir>/<IANA name>`; the directory comes from the constructor (default:
//   $TZDIR, else /usr/share/zoneinfo). Names are checked before touching the file system
//   (segments of [A-Za-z0-9_+-], no dots), so "../../etc/passwd" is simply an unknown zone.
//   "UTC" and "Etc/UTC" work even when the directory is missing. Loaded zones are cached;
//   find() is thread-safe.
// * The clock is injected, so results are deterministic in tests.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/tools/errors.hpp"

namespace enkisys::tools {

struct LocalTimeInfo {
  std::int32_t utc_offset_seconds = 0;  // east of UTC positive
  bool is_dst = false;
  std::string abbreviation;
};

class TimeZone {
 public:
  // Errors: errc::tool_error with a description of what is malformed.
  static core::Expected<TimeZone> parse_tzif(std::string name, std::string_view bytes);
  static TimeZone utc();

  const std::string& name() const { return name_; }
  LocalTimeInfo at(std::chrono::sys_seconds instant) const;

  struct Type {
    std::int32_t offset = 0;
    bool is_dst = false;
    std::string abbreviation;
  };
  struct Rule {       // one POSIX TZ transition rule
    char kind = 'M';  // 'M' month.week.day, 'J' 1-based day w/o Feb 29, 'N' 0-based day
    int month = 0, week = 0, day = 0;
    std::int32_t time = 7200;  // seconds after local midnight
  };
  struct Posix {
    Type standard, daylight;
    bool has_dst = false;
    Rule start, end;
  };

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;
  std::vector<std::uint8_t> transition_types_;
  std::vector<Type> types_;
  std::optional<Posix> footer_;
};

class TimeZoneDb {
 public:
  explicit TimeZoneDb(std::string zoneinfo_dir = default_dir());

  // $TZDIR when set and non-empty, else "/usr/share/zoneinfo".
  static std::string default_dir();

  // Errors: errc::invalid_arguments "unknown time zone '<name>'".
  core::Expected<std::shared_ptr<const TimeZone>> find(std::string_view name) const;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>>
      cache_;  // guarded by mu_
};

using Clock = std::function<std::chrono::system_clock::time_point()>;

// "2024-03-31T03:00:00+02:00" for `instant` shown at `offset_seconds` east of UTC.
std::string format_iso8601(std::chrono::sys_seconds instant, std::int32_t offset_seconds);

// Builtin entry point: {"timezone"?: IANA name, default "UTC"} ->
// {"timezone","iso8601","unix","utc_offset_seconds","abbreviation"}.
core::Expected<boost::json::value> run_current_time(const boost::json::value& arguments,
                                                    const TimeZoneDb& db, const Clock& clock);

boost::json::object current_time_parameters();

}  // namespace enkisys::tools
