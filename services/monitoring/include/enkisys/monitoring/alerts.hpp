// Targets and alert states: the pure part of the monitoring service (no I/O, no clock).
//
// Contract:
//  * parse_targets() returns kInvalidArgument (code invalid_targets) naming the bad entry.
//  * AlertBook is not thread-safe (the poller owns it). A condition changes state only after it
//    was observed `hold_polls` polls in a row (flap suppression); observe() returns each change
//    once, so a state that flaps faster than that produces no message at all.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/monitoring/prom.hpp"

namespace enkisys::monitoring {

// One polled service of one stage. `url` may hold `{color}` (the stage's active color).
struct Target {
  std::string stage, service, url;
};

// "prod:auth=http://auth.prod-{color}:5002,prod:tools=http://..." — entries separated by
// commas or new lines; blank lines and lines starting with '#' are skipped. An empty spec is
// no target (valid: the service then watches nothing).
core::Expected<std::vector<Target>> parse_targets(std::string_view spec);

enum class Condition { kDown, kErrors, kLatency };
const char* condition_name(Condition c);  // "down", "error_rate", "latency"

struct Thresholds {
  double error_ratio = 0.05;  // 5xx share above this → alert
  double p99_s = 2.0;         // p99 latency above this → alert
  int hold_polls = 2;         // polls a state must hold before it is announced
};

struct Observation {
  bool up = false;
  Rates rates;
};

struct Change {
  std::string stage, service;
  Condition condition = Condition::kDown;
  bool firing = false;  // true: the condition started; false: it ended (recovered)
  std::string text;     // one line for the webhook and the timeline
};

class AlertBook {
 public:
  explicit AlertBook(Thresholds t) : t_(t) {}
  // Feeds one poll of a target; returns the changes that now held hold_polls polls.
  std::vector<Change> observe(const std::string& stage, const std::string& service,
                              const Observation& o);
  // Announced state (restored from the store after a restart).
  void set_firing(const std::string& stage, const std::string& service, Condition c, bool on);
  bool firing(const std::string& stage, const std::string& service, Condition c) const;
  const Thresholds& thresholds() const { return t_; }

 private:
  struct State {
    bool firing = false;
    int pending = 0;  // consecutive polls observed in the other state
  };
  Thresholds t_;
  std::map<std::tuple<std::string, std::string, Condition>, State> states_;
};

}  // namespace enkisys::monitoring
