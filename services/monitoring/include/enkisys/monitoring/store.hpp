// The monitoring history on disk (libs/db: SQLite in /data, or PostgreSQL): raw polls of the
// last hours, per-minute rollups of the last 7 days, the announced alert states, silences per
// stage and the timeline of incidents. Survives restarts.
//
// Contract:
//  * Thread-safe (Database is); every call blocks: run it off the I/O threads.
//  * Times are unix seconds. Errors: db::DbError.
//  * Bounded: prune(now) drops raw polls older than `raw_keep_s` and rollups older than
//    `rollup_keep_s`; the poller calls it once a minute.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "enkisys/db/database.hpp"
#include "enkisys/monitoring/alerts.hpp"

namespace enkisys::monitoring {

struct Point {
  std::string stage, service;
  std::int64_t ts = 0;  // raw: poll time; rollup: start of the minute
  bool up = false;
  double req_per_s = 0, error_ratio = 0, p50_s = -1, p99_s = -1;
};

struct Uptime {
  std::string stage, service;
  double ratio = -1;  // -1: no poll in the window
};

struct Silence {
  std::string stage, reason;
  std::int64_t until = 0;
};

struct Event {
  std::int64_t ts = 0;
  std::string stage, service, kind, text;
};

class MonitorStore {
 public:
  explicit MonitorStore(db::Database& db, std::int64_t raw_keep_s = 6 * 3600,
                        std::int64_t rollup_keep_s = 7 * 86400)
      : db_(db), raw_keep_s_(raw_keep_s), rollup_keep_s_(rollup_keep_s) {}
  void migrate();

  // One poll of every target, in one transaction (raw rows + the minute's rollups).
  void record(const std::vector<Point>& poll);
  // Per-minute rollups since `since` (ascending by time): up = every poll of the minute up,
  // rates the minute's mean, latencies its maximum.
  std::vector<Point> rollups(std::int64_t since);
  // Share of polls that found each target up since `since`.
  std::vector<Uptime> uptime(std::int64_t since);
  std::int64_t raw_count();
  void prune(std::int64_t now);

  void save_alert(const std::string& stage, const std::string& service, Condition c, bool firing);
  // (stage, service, condition) of every announced condition.
  std::vector<std::tuple<std::string, std::string, Condition>> firing_alerts();

  void set_silence(const Silence& s);
  void clear_silence(const std::string& stage);
  std::vector<Silence> silences(std::int64_t now);  // those still in force

  void add_event(const Event& e);
  std::vector<Event> events(std::int64_t since, int limit);

 private:
  db::Database& db_;
  std::int64_t raw_keep_s_, rollup_keep_s_;
};

}  // namespace enkisys::monitoring
