#include "enkisys/gateway/telemetry.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "enkisys/gateway/headers.hpp"

namespace enkisys::gateway {

Telemetry::Telemetry(enkisys::core::MetricsRegistry& registry, bool access_log, int fd)
    : registry_(registry),
      requests_(registry.counter("gateway_requests_total", "Requests answered by the gateway",
                                 {"stage", "route", "code"})),
      latency_(registry.histogram("gateway_request_duration_seconds",
                                  "Time from request headers to the end of the response",
                                  {"stage", "route"})),
      access_log_(access_log),
      fd_(fd) {}

RouteMetrics* Telemetry::get(const std::string& stage, const std::string& route) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = by_route_.try_emplace({stage, route});
  if (inserted) {
    static const char* kClass[6] = {"aborted", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 0; i < 6; ++i) it->second.by_class[i] = &requests_.with({stage, route, kClass[i]});
    it->second.latency = &latency_.with({stage, route});
  }
  return &it->second;
}

void Telemetry::prepare(Generation& gen) {
  std::size_t n = 0;
  for (const auto& s : gen.stages) n += s.routes.size();
  gen.route_metrics.assign(n, nullptr);
  for (const auto& s : gen.stages) {
    for (const auto& r : s.routes)
      gen.route_metrics[static_cast<std::size_t>(r.id)] = get(s.name, r.name);
  }
}

RouteMetrics* Telemetry::fallback(std::string_view stage) {
  return get(std::string(stage.empty() ? "-" : stage), "-");
}

void Telemetry::record(const RequestRecord& r, RouteMetrics* m) {
  if (m) {
    const unsigned cls = r.status / 100;
    m->by_class[cls < 6 ? cls : 0]->inc();
    m->latency->observe(r.latency_s);
  }
  if (!access_log_) return;
  thread_local std::string line;
  line.clear();
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  line += "{\"ts\":\"";
  line += ts;
  line += "\",\"level\":\"info\",\"service\":\"gateway\",\"msg\":\"access\",\"method\":";
  append_json_string(line, r.method);
  line += ",\"stage\":";
  append_json_string(line, r.stage);
  line += ",\"route\":";
  append_json_string(line, r.route);
  line += ",\"status\":";
  line += std::to_string(r.status);
  char lat[32];
  std::snprintf(lat, sizeof lat, "%.3f", r.latency_s * 1000.0);
  line += ",\"latency_ms\":";
  line += lat;
  line += ",\"upstream\":";
  append_json_string(line, r.upstream);
  line += ",\"bytes\":";
  line += std::to_string(r.bytes_out);
  line += ",\"client_ip\":";
  append_json_string(line, r.client_ip);
  line += ",\"request_id\":";
  append_json_string(line, r.request_id);
  if (!r.error.empty()) {
    line += ",\"error\":";
    append_json_string(line, r.error);
  }
  line += "}\n";
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t w = ::write(fd_, p, left);
    if (w <= 0) break;  // logging must never fail a request
    p += w;
    left -= static_cast<std::size_t>(w);
  }
}

}  // namespace enkisys::gateway
