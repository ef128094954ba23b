#include "enkisys/monitoring/store.hpp"

#include "enkisys/db/migrate.hpp"

namespace enkisys::monitoring {
namespace {

const db::Migration kMigrations[] = {
    {1, "monitoring polls, minute rollups, alerts, silences, events",
     R"(CREATE TABLE mon_polls (
  stage TEXT NOT NULL, service TEXT NOT NULL, ts BIGINT NOT NULL, up BIGINT NOT NULL,
  req_per_s DOUBLE PRECISION NOT NULL, error_ratio DOUBLE PRECISION NOT NULL,
  p50_s DOUBLE PRECISION NOT NULL, p99_s DOUBLE PRECISION NOT NULL);
CREATE INDEX mon_polls_ts ON mon_polls (ts);
CREATE TABLE mon_minutes (
  stage TEXT NOT NULL, service TEXT NOT NULL, minute BIGINT NOT NULL, polls BIGINT NOT NULL,
  up_polls BIGINT NOT NULL, req_sum DOUBLE PRECISION NOT NULL, err_sum DOUBLE PRECISION NOT NULL,
  p50_max DOUBLE PRECISION NOT NULL, p99_max DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (stage, service, minute));
CREATE INDEX mon_minutes_minute ON mon_minutes (minute);
CREATE TABLE mon_alerts (
  stage TEXT NOT NULL, service TEXT NOT NULL, cond TEXT NOT NULL,
  PRIMARY KEY (stage, service, cond));
CREATE TABLE mon_silences (stage TEXT PRIMARY KEY, until_ts BIGINT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE mon_events (
  ts BIGINT NOT NULL, stage TEXT NOT NULL, service TEXT NOT NULL, kind TEXT NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX mon_events_ts ON mon_events (ts);)"},
};

Condition condition_of(const std::string& s) {
  if (s == "error_rate") return Condition::kErrors;
  if (s == "latency") return Condition::kLatency;
  return Condition::kDown;
}

}  // namespace

void MonitorStore::migrate() {
  db::migrate(db_, kMigrations);
}

void MonitorStore::record(const std::vector<Point>& poll) {
  db_.transaction([&](db::Tx& tx) {
    for (const auto& p : poll) {
      tx.exec(
          "INSERT INTO mon_polls (stage, service, ts, up, req_per_s, error_ratio, p50_s, p99_s) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          {p.stage, p.service, p.ts, std::int64_t{p.up}, p.req_per_s, p.error_ratio, p.p50_s,
           p.p99_s});
      tx.exec(
          "INSERT INTO mon_minutes (stage, service, minute, polls, up_polls, req_sum, err_sum, "
          "p50_max, p99_max) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8) "
          "ON CONFLICT (stage, service, minute) DO UPDATE SET "
          "polls = mon_minutes.polls + 1, up_polls = mon_minutes.up_polls + excluded.up_polls, "
          "req_sum = mon_minutes.req_sum + excluded.req_sum, "
          "err_sum = mon_minutes.err_sum + excluded.err_sum, "
          "p50_max = CASE WHEN excluded.p50_max > mon_minutes.p50_max THEN excluded.p50_max "
          "ELSE mon_minutes.p50_max END, "
          "p99_max = CASE WHEN excluded.p99_max > mon_minutes.p99_max THEN excluded.p99_max "
          "ELSE mon_minutes.p99_max END",
          {p.stage, p.service, p.ts - p.ts % 60, std::int64_t{p.up}, p.req_per_s, p.error_ratio,
           p.p50_s, p.p99_s});
    }
  });
}

std::vector<Point> MonitorStore::rollups(std::int64_t since) {
  std::vector<Point> out;
  db_.read([&](db::Tx& tx) {
    out.clear();
    const auto r = tx.exec(
        "SELECT stage, service, minute, polls, up_polls, req_sum, err_sum, p50_max, p99_max "
        "FROM mon_minutes WHERE minute >= $1 ORDER BY minute, stage, service",
        {since});
    for (const auto& row : r.rows) {
      const double polls = static_cast<double>(row.i64(3));
      out.push_back({row.text(0), row.text(1), row.i64(2), row.i64(4) == row.i64(3),
                     row.f64(5) / polls, row.f64(6) / polls, row.f64(7), row.f64(8)});
    }
  });
  return out;
}

std::vector<Uptime> MonitorStore::uptime(std::int64_t since) {
  std::vector<Uptime> out;
  db_.read([&](db::Tx& tx) {
    out.clear();
    const auto r = tx.exec(
        "SELECT stage, service, SUM(up_polls), SUM(polls) FROM mon_minutes WHERE minute >= $1 "
        "GROUP BY stage, service",
        {since - since % 60});
    for (const auto& row : r.rows) {
      const auto polls = row.i64(3);
      out.push_back(
          {row.text(0), row.text(1),
           polls > 0 ? static_cast<double>(row.i64(2)) / static_cast<double>(polls) : -1.0});
    }
  });
  return out;
}

std::int64_t MonitorStore::raw_count() {
  return db_.query("SELECT COUNT(*) FROM mon_polls").one().i64(0);
}

void MonitorStore::prune(std::int64_t now) {
  db_.transaction([&](db::Tx& tx) {
    tx.exec("DELETE FROM mon_polls WHERE ts < $1", {now - raw_keep_s_});
    tx.exec("DELETE FROM mon_minutes WHERE minute < $1", {now - rollup_keep_s_});
    tx.exec("DELETE FROM mon_events WHERE ts < $1", {now - rollup_keep_s_});
    tx.exec("DELETE FROM mon_silences WHERE until_ts < $1", {now});
  });
}

void MonitorStore::save_alert(const std::string& stage, const std::string& service, Condition c,
                              bool firing) {
  db_.transaction([&](db::Tx& tx) {
    tx.exec("DELETE FROM mon_alerts WHERE stage = $1 AND service = $2 AND cond = $3",
            {stage, service, std::string(condition_name(c))});
    if (firing) {
      tx.exec("INSERT INTO mon_alerts (stage, service, cond) VALUES ($1, $2, $3)",
              {stage, service, std::string(condition_name(c))});
    }
  });
}

std::vector<std::tuple<std::string, std::string, Condition>> MonitorStore::firing_alerts() {
  std::vector<std::tuple<std::string, std::string, Condition>> out;
  for (const auto& row : db_.query("SELECT stage, service, cond FROM mon_alerts").rows)
    out.emplace_back(row.text(0), row.text(1), condition_of(row.text(2)));
  return out;
}

void MonitorStore::set_silence(const Silence& s) {
  db_.query(
      "INSERT INTO mon_silences (stage, until_ts, reason) VALUES ($1, $2, $3) "
      "ON CONFLICT (stage) DO UPDATE SET until_ts = excluded.until_ts, reason = excluded.reason",
      {s.stage, s.until, s.reason});
}

void MonitorStore::clear_silence(const std::string& stage) {
  db_.query("DELETE FROM mon_silences WHERE stage = $1", {stage});
}

std::vector<Silence> MonitorStore::silences(std::int64_t now) {
  std::vector<Silence> out;
  const auto r = db_.query(
      "SELECT stage, reason, until_ts FROM mon_silences WHERE until_ts >= $1 ORDER BY stage",
      {now});
  for (const auto& row : r.rows) out.push_back({row.text(0), row.text(1), row.i64(2)});
  return out;
}

void MonitorStore::add_event(const Event& e) {
  db_.query(
      "INSERT INTO mon_events (ts, stage, service, kind, message) VALUES ($1, $2, $3, $4, $5)",
      {e.ts, e.stage, e.service, e.kind, e.text});
}

std::vector<Event> MonitorStore::events(std::int64_t since, int limit) {
  std::vector<Event> out;
  const auto r = db_.query(
      "SELECT ts, stage, service, kind, message FROM mon_events WHERE ts >= $1 "
      "ORDER BY ts DESC LIMIT $2",
      {since, std::int64_t{limit}});
  for (const auto& row : r.rows)
    out.push_back({row.i64(0), row.text(1), row.text(2), row.text(3), row.text(4)});
  return out;
}

}  // namespace enkisys::monitoring
