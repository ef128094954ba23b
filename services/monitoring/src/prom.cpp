#include "enkisys/monitoring/prom.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace enkisys::monitoring {
namespace {

bool name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

bool parse_double(std::string_view s, double& out) {
  if (s == "+Inf" || s == "Inf") {
    out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Inf") {
    out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// name{a="x",b="y"} value [timestamp]
bool parse_sample(std::string_view line, Sample& s) {
  std::size_t i = 0;
  while (i < line.size() && name_char(line[i], i == 0)) ++i;
  if (i == 0) return false;
  s.name.assign(line.substr(0, i));
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
      if (i >= line.size()) return false;
      if (line[i] == '}') {
        ++i;
        break;
      }
      const std::size_t n0 = i;
      while (i < line.size() && name_char(line[i], i == n0)) ++i;
      if (i == n0 || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return false;
      std::string key(line.substr(n0, i - n0));
      i += 2;
      std::string val;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '\\' && i + 1 < line.size()) {
          const char e = line[++i];
          val.push_back(e == 'n' ? '\n' : e);
        } else {
          val.push_back(line[i]);
        }
        ++i;
      }
      if (i >= line.size()) return false;
      ++i;
      s.labels.emplace_back(std::move(key), std::move(val));
    }
  }
  while (i < line.size() && line[i] == ' ') ++i;
  const auto end = line.find(' ', i);
  return parse_double(line.substr(i, end == std::string_view::npos ? line.size() - i : end - i),
                      s.value);
}

const std::string* label(const Sample& s, std::string_view name) {
  for (const auto& [k, v] : s.labels) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool probe_route(const Sample& s) {
  const auto* r = label(s, "route");
  return r && (*r == "/health" || *r == "/metrics");
}

void format_double(double v, std::string& out) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

Exposition parse_text(std::string_view text) {
  Exposition e;
  std::string family;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line[0] == '#') {
      const bool type = line.starts_with("# TYPE ");
      const bool help = line.starts_with("# HELP ");
      if (!type && !help) continue;
      auto rest = line.substr(7);
      const auto sp = rest.find(' ');
      const std::string name(rest.substr(0, sp));
      const std::string value(sp == std::string_view::npos ? "" : rest.substr(sp + 1));
      if (type) {
        family = name;
        e.families[name].type = value;
      } else {
        e.families[name].help = value;
      }
      continue;
    }
    Sample s;
    if (!parse_sample(line, s)) continue;
    s.family = !family.empty() && s.name.starts_with(family) ? family : s.name;
    e.samples.push_back(std::move(s));
  }
  return e;
}

Counters summarize(const Exposition& e) {
  Counters c;
  std::map<double, double> buckets;
  for (const auto& s : e.samples) {
    if (s.name == "http_requests_total") {
      c.present = true;
      if (probe_route(s)) continue;
      c.requests += s.value;
      if (const auto* st = label(s, "status"); st && !st->empty() && (*st)[0] == '5')
        c.errors += s.value;
    } else if (s.name == "http_request_duration_seconds_bucket") {
      if (probe_route(s)) continue;
      const auto* le = label(s, "le");
      double bound = 0;
      if (le && parse_double(*le, bound)) buckets[bound] += s.value;
    } else if (s.name == "enkisys_build_info") {
      if (const auto* v = label(s, "version")) c.version = *v;
    }
  }
  c.buckets.assign(buckets.begin(), buckets.end());
  return c;
}

double quantile(double q, const std::vector<std::pair<double, double>>& buckets) {
  if (buckets.empty()) return -1;
  const double total = buckets.back().second;
  if (!(total > 0)) return -1;
  const double rank = q * total;
  double prev_le = 0, prev_count = 0;
  for (const auto& [le, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(le)) return prev_le;  // above the last finite bound: report that bound
      if (count == prev_count) return le;
      return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count);
    }
    prev_le = le;
    prev_count = count;
  }
  return prev_le;
}

Rates rates_between(const Counters& before, const Counters& after, double seconds) {
  Rates r;
  if (!after.present || !(seconds > 0)) return r;
  const bool reset = after.requests < before.requests;
  const double req = reset ? after.requests : after.requests - before.requests;
  const double err = reset ? after.errors : std::max(0.0, after.errors - before.errors);
  r.req_per_s = req / seconds;
  r.error_ratio = req > 0 ? err / req : 0;
  std::vector<std::pair<double, double>> delta = after.buckets;
  if (!reset && before.buckets.size() == after.buckets.size()) {
    for (std::size_t i = 0; i < delta.size(); ++i)
      delta[i].second = std::max(0.0, delta[i].second - before.buckets[i].second);
  }
  r.p50_s = quantile(0.5, delta);
  r.p99_s = quantile(0.99, delta);
  return r;
}

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void render_sample(const Sample& s, const Labels& extra, std::string& out) {
  out += s.name;
  out.push_back('{');
  bool first = true;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) out.push_back(',');
    first = false;
    out += k;
    out += "=\"";
    out += escape_label(v);
    out.push_back('"');
  };
  for (const auto& [k, v] : extra) add(k, v);
  for (const auto& label : s.labels) {
    const bool shadowed = std::any_of(extra.begin(), extra.end(),
                                      [&](const auto& x) { return x.first == label.first; });
    if (!shadowed) add(label.first, label.second);
  }
  out += "} ";
  format_double(s.value, out);
  out.push_back('\n');
}

}  // namespace enkisys::monitoring
