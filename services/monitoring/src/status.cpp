// The views of the Monitor: status (page and JSON), federate, silences.
#include <algorithm>
#include <boost/json.hpp>

#include "monitor_impl.hpp"
#include "page.hpp"

namespace enkisys::monitoring {

namespace json = boost::json;

std::string Monitor::federate() const {
  std::map<std::string, std::pair<Family, std::string>> families;  // name → (meta, lines)
  std::string up = "# HELP up Whether the target answered its /health with 200.\n# TYPE up gauge\n";
  std::lock_guard lock(mu_);
  for (const auto& s : states_) {
    const Labels extra{
        {"stage", s.target.stage}, {"service", s.target.service}, {"color", s.color}};
    render_sample(Sample{"up", "up", {}, s.up ? 1.0 : 0.0}, extra, up);
    for (const auto& smp : s.exposition.samples) {
      auto& f = families[smp.family];
      if (f.second.empty()) {
        if (const auto it = s.exposition.families.find(smp.family);
            it != s.exposition.families.end())
          f.first = it->second;
      }
      render_sample(smp, extra, f.second);
    }
  }
  std::string out;
  for (const auto& [name, f] : families) {
    if (name == "up") continue;
    if (!f.first.help.empty()) out += "# HELP " + name + " " + f.first.help + "\n";
    if (!f.first.type.empty()) out += "# TYPE " + name + " " + f.first.type + "\n";
    out += f.second;
  }
  out +=
      "# HELP enkisys_stage_rollbacks_total Rolled-back deploys and rollbacks in the ledger.\n"
      "# TYPE enkisys_stage_rollbacks_total counter\n";
  for (const auto& [stage, n] : stage_rollbacks_) {
    render_sample(Sample{"", "enkisys_stage_rollbacks_total", {}, static_cast<double>(n)},
                  {{"stage", stage}}, out);
  }
  return out + up;
}

core::Status Monitor::silence(const std::string& stage, int minutes, const std::string& reason) {
  const auto stages = stages_of(o_.targets);
  if (std::find(stages.begin(), stages.end(), stage) == stages.end())
    return core::make_error(core::ErrorKind::kNotFound, "unknown_stage",
                            "no target of stage '" + stage + "'");
  if (minutes < 1 || minutes > 7 * 24 * 60)
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_minutes",
                            "minutes must be in [1, 10080]", "minutes");
  if (reason.size() > 500)
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_reason",
                            "reason: at most 500 bytes", "reason");
  const auto now = unix_s(clock_.now());
  store_.set_silence({stage, reason, now + std::int64_t{minutes} * 60});
  store_.add_event({now, stage, "", "silenced",
                    "alerts of " + stage + " silenced for " + std::to_string(minutes) + " min" +
                        (reason.empty() ? "" : ": " + reason)});
  return core::ok_status();
}

core::Status Monitor::unsilence(const std::string& stage) {
  store_.clear_silence(stage);
  return core::ok_status();
}

json::array Monitor::silences() {
  json::array out;
  for (const auto& s : store_.silences(unix_s(clock_.now())))
    out.push_back(
        json::object{{"stage", s.stage}, {"until", iso_time(s.until)}, {"reason", s.reason}});
  return out;
}

json::object Monitor::status() {
  const auto now = unix_s(clock_.now());
  std::map<std::pair<std::string, std::string>, json::object> uptime;
  for (const auto& [key, since] : {std::pair<const char*, std::int64_t>{"1h", now - 3600},
                                   {"24h", now - 86400},
                                   {"7d", now - 7 * 86400}}) {
    for (const auto& u : store_.uptime(since)) {
      auto& o = uptime[{u.stage, u.service}];
      if (u.ratio >= 0) o[key] = u.ratio;
    }
  }
  std::map<std::pair<std::string, std::string>, json::object> history;
  for (const auto& p : store_.rollups(now - std::int64_t{o_.history_minutes} * 60)) {
    auto& h = history[{p.stage, p.service}];
    if (h.empty())
      h = {{"t", json::array()},
           {"up", json::array()},
           {"error_ratio", json::array()},
           {"p99_ms", json::array()}};
    h["t"].as_array().push_back(p.ts);
    h["up"].as_array().push_back(p.up);
    h["error_ratio"].as_array().push_back(p.error_ratio);
    h["p99_ms"].as_array().push_back(p.p99_s < 0 ? 0.0 : p.p99_s * 1000);
  }
  const auto silenced = store_.silences(now);
  json::array stages;
  {
    std::lock_guard lock(mu_);  // the latest poll; no file or database work under it
    for (const auto& stage : stages_of(o_.targets)) {
      json::array services;
      std::string build_version;
      for (const auto& s : states_) {
        if (s.target.stage != stage) continue;
        const auto& svc = s.target.service;
        json::array alerts;
        for (auto c : {Condition::kDown, Condition::kErrors, Condition::kLatency}) {
          if (impl_->book.firing(stage, svc, c)) alerts.push_back(json::string(condition_name(c)));
        }
        const char* state = !s.polled        ? "unknown"
                            : !s.up          ? "down"
                            : alerts.empty() ? "up"
                                             : "degraded";
        if (build_version.empty()) build_version = s.counters.version;
        auto u = uptime[{stage, svc}];
        auto h = history[{stage, svc}];
        services.push_back(json::object{
            {"service", svc},
            {"state", state},
            {"up", s.up},
            {"color", s.color},
            {"version", s.counters.version},
            {"health_status", s.health_status},
            {"error", s.error},
            {"req_per_s", s.rates.req_per_s},
            {"error_ratio", s.rates.error_ratio},
            {"p50_ms",
             s.rates.p50_s < 0 ? json::value(nullptr) : json::value(s.rates.p50_s * 1000)},
            {"p99_ms",
             s.rates.p99_s < 0 ? json::value(nullptr) : json::value(s.rates.p99_s * 1000)},
            {"uptime", std::move(u)},
            {"alerts", std::move(alerts)},
            {"history", std::move(h)}});
      }
      json::object so{{"stage", stage}, {"services", std::move(services)}};
      const auto c = stage_color_.find(stage);
      so["color"] = c == stage_color_.end() ? "" : c->second;
      const auto v = stage_version_.find(stage);
      so["version"] = v != stage_version_.end() && !v->second.empty() ? v->second : build_version;
      so["silenced_until"] = nullptr;
      for (const auto& s : silenced) {
        if (s.stage == stage) so["silenced_until"] = iso_time(s.until);
      }
      stages.push_back(std::move(so));
    }
  }
  // Timeline: the incidents of the last 7 days and every stage's deploys and rollbacks.
  std::vector<json::object> timeline;
  for (const auto& e : store_.events(now - 7 * 86400, 100)) {
    timeline.push_back({{"at", iso_time(e.ts)},
                        {"stage", e.stage},
                        {"service", e.service},
                        {"kind", e.kind},
                        {"text", e.text}});
  }
  for (const auto& stage : stages_of(o_.targets)) {
    const auto entries = read_ledger(o_.ledger_dir, stage);
    for (std::size_t i = entries.size() > 20 ? entries.size() - 20 : 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      timeline.push_back({{"at", e.finished_at},
                          {"stage", stage},
                          {"service", ""},
                          {"kind", e.action.empty() ? "deploy" : e.action},
                          {"text", e.action + " " + e.version + " " + e.result +
                                       (e.color.empty() ? "" : " (" + e.color + ")")}});
    }
  }
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const json::object& a, const json::object& b) {
                     return a.at("at").as_string() > b.at("at").as_string();
                   });
  if (timeline.size() > 100) timeline.resize(100);
  json::array tl(timeline.begin(), timeline.end());
  return json::object{{"generated_at", iso_time(now)},
                      {"interval_s", o_.interval.count()},
                      {"thresholds", json::object{{"error_ratio", o_.thresholds.error_ratio},
                                                  {"p99_ms", o_.thresholds.p99_s * 1000},
                                                  {"hold_polls", o_.thresholds.hold_polls}}},
                      {"stages", std::move(stages)},
                      {"timeline", std::move(tl)}};
}

}  // namespace enkisys::monitoring
