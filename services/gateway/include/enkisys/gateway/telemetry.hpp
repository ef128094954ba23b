// Per-request observability: one JSON access-log line and Prometheus metrics per stage/route.
//
// Contract:
//  * record() is thread-safe and cheap: metrics are pre-resolved pointers (RouteMetrics) and the
//    access-log line is formatted into a thread-local buffer and written with one write(2).
//  * With access_log=false nothing is formatted or written; metrics still count.
//  * RouteMetrics pointers stay valid for the Telemetry's lifetime (across reloads).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "enkisys/core/metrics.hpp"
#include "enkisys/gateway/route_table.hpp"

namespace enkisys::gateway {

struct RouteMetrics {
  enkisys::core::Counter* by_class[6] = {};  // index status/100 (0 = aborted)
  enkisys::core::Histogram* latency = nullptr;
};

struct RequestRecord {
  std::string_view method, stage, route, upstream, request_id, client_ip, error;
  unsigned status = 0;
  double latency_s = 0;
  std::uint64_t bytes_out = 0;
};

class Telemetry {
 public:
  Telemetry(enkisys::core::MetricsRegistry& registry, bool access_log, int fd = 1);

  // Fills gen.route_metrics (GatewayState::Prepare hook).
  void prepare(Generation& gen);
  // Metrics for responses not tied to a route (404, /health, preflight): stage or "-".
  RouteMetrics* fallback(std::string_view stage);

  void record(const RequestRecord& r, RouteMetrics* m);
  bool access_log() const { return access_log_; }

 private:
  RouteMetrics* get(const std::string& stage, const std::string& route);
  [[maybe_unused]] enkisys::core::MetricsRegistry& registry_;
  enkisys::core::Family<enkisys::core::Counter>& requests_;
  enkisys::core::Family<enkisys::core::Histogram>& latency_;
  bool access_log_;
  int fd_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, RouteMetrics> by_route_;
};

}  // namespace enkisys::gateway
