// Prometheus text format (exposition 0.0.4): what the monitoring service reads from every
// service's /metrics, reduces to counters, differences between polls and re-exposes with the
// stage, service and color labels (federate).
//
// Contract: pure functions, thread-safe, never throw on untrusted input (a malformed line is
// skipped).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace enkisys::monitoring {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string family;  // the `# TYPE` family the sample belongs to ("" when none was declared)
  std::string name;
  Labels labels;
  double value = 0;
};

struct Family {
  std::string help, type;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, Family> families;
};

Exposition parse_text(std::string_view text);

// What one scrape says about the traffic of a service (libs/core's server metrics:
// http_requests_total{route,method,status} and http_request_duration_seconds{route}), summed
// over routes; the probes of /health and /metrics are left out.
struct Counters {
  bool present = false;                            // the service exports the server metrics
  double requests = 0;                             // all requests
  double errors = 0;                               // status 5xx
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count), le ascending
  std::string version;                             // enkisys_build_info{version}
};

Counters summarize(const Exposition& e);

struct Rates {
  double req_per_s = 0;
  double error_ratio = 0;  // 5xx / all, 0 without traffic
  double p50_s = -1;       // -1: no request in the window
  double p99_s = -1;
};

// Differences two scrapes `seconds` apart. A counter that went down (a restart) counts from 0.
Rates rates_between(const Counters& before, const Counters& after, double seconds);

// histogram_quantile over (le, cumulative count) pairs; -1 when the count is 0.
double quantile(double q, const std::vector<std::pair<double, double>>& buckets);

// Renders a sample line with `extra` labels first (an existing label of the same name is
// replaced), values formatted as Prometheus does.
void render_sample(const Sample& s, const Labels& extra, std::string& out);
std::string escape_label(std::string_view v);

}  // namespace enkisys::monitoring
