#include "enkisys/monitoring/alerts.hpp"

#include <cstdio>

namespace enkisys::monitoring {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool plain_name(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

core::Expected<std::vector<Target>> parse_targets(std::string_view spec) {
  std::vector<Target> out;
  while (!spec.empty()) {
    const auto sep = spec.find_first_of(",\n");
    const auto entry = trim(spec.substr(0, sep));
    spec.remove_prefix(sep == std::string_view::npos ? spec.size() : sep + 1);
    if (entry.empty() || entry.front() == '#') continue;
    const auto colon = entry.find(':');
    const auto eq = entry.find('=');
    auto bad = [&](const char* why) {
      return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_targets",
                              "target '" + std::string(entry) + "': " + why);
    };
    if (colon == std::string_view::npos || eq == std::string_view::npos || eq < colon)
      return bad("expected stage:service=url");
    Target t{std::string(entry.substr(0, colon)),
             std::string(entry.substr(colon + 1, eq - colon - 1)),
             std::string(trim(entry.substr(eq + 1)))};
    if (!plain_name(t.stage) || !plain_name(t.service))
      return bad("stage and service are lower-case names");
    if (!t.url.starts_with("http://") && !t.url.starts_with("https://"))
      return bad("the url must be http:// or https://");
    while (t.url.ends_with("/")) t.url.pop_back();
    for (const auto& o : out) {
      if (o.stage == t.stage && o.service == t.service) return bad("listed twice");
    }
    out.push_back(std::move(t));
  }
  return out;
}

const char* condition_name(Condition c) {
  switch (c) {
    case Condition::kDown:
      return "down";
    case Condition::kErrors:
      return "error_rate";
    case Condition::kLatency:
      return "latency";
  }
  return "down";
}

std::vector<Change> AlertBook::observe(const std::string& stage, const std::string& service,
                                       const Observation& o) {
  std::vector<Change> out;
  auto step = [&](Condition c, bool now, std::string fire_text, std::string clear_text) {
    auto& st = states_[{stage, service, c}];
    if (now == st.firing) {
      st.pending = 0;
      return;
    }
    if (++st.pending < t_.hold_polls) return;
    st.firing = now;
    st.pending = 0;
    out.push_back({stage, service, c, now, now ? std::move(fire_text) : std::move(clear_text)});
  };
  const std::string who = service + " of " + stage;
  step(Condition::kDown, !o.up, ":red_circle: " + who + " is down",
       ":large_green_circle: " + who + " recovered");
  if (!o.up) return out;  // traffic figures of a service that does not answer mean nothing
  if (o.rates.req_per_s > 0) {
    step(Condition::kErrors, o.rates.error_ratio > t_.error_ratio,
         ":warning: " + who + ": error rate " + fmt("%.1f %%", o.rates.error_ratio * 100) +
             " (above " + fmt("%.1f %%", t_.error_ratio * 100) + ")",
         ":white_check_mark: " + who + ": error rate back to " +
             fmt("%.1f %%", o.rates.error_ratio * 100));
  }
  if (o.rates.p99_s >= 0) {
    step(Condition::kLatency, o.rates.p99_s > t_.p99_s,
         ":warning: " + who + ": p99 latency " + fmt("%.3f s", o.rates.p99_s) + " (above " +
             fmt("%.3f s", t_.p99_s) + ")",
         ":white_check_mark: " + who + ": p99 latency back to " + fmt("%.3f s", o.rates.p99_s));
  }
  return out;
}

void AlertBook::set_firing(const std::string& stage, const std::string& service, Condition c,
                           bool on) {
  states_[{stage, service, c}] = State{on, 0};
}

bool AlertBook::firing(const std::string& stage, const std::string& service, Condition c) const {
  const auto it = states_.find({stage, service, c});
  return it != states_.end() && it->second.firing;
}

}  // namespace enkisys::monitoring
