// The poller: every interval it fetches /health and /metrics of every target (concurrently,
// each bounded by `timeout`), resolves each stage's active color (the gateway admin API, else
// whichever color answers), differences the counters against the previous poll, keeps the
// history (MonitorStore), announces state changes once to the webhook, and keeps the latest
// scrape of every target for the status API and the federate endpoint.
//
// Contract:
//  * poll() blocks for one poll (≤ about 2 × timeout); call it from one thread at a time (the
//    `poll` thread worker, or a test). status(), federate(), silences and the accessors are
//    thread-safe and may run concurrently with poll().
//  * The clock decides every stored time and every uptime window (tests pass a FakeClock).
//  * Webhook: one message per change (a Slack-compatible payload, the shape of the `enkisys`
//    CLI's notices); more than `max_messages_per_poll` changes in one poll become one summary
//    message; a silenced stage sends nothing (its changes still enter the timeline).
//  * Secrets (the admin token) are never logged.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "enkisys/core/clock.hpp"
#include "enkisys/core/expected.hpp"
#include "enkisys/core/log.hpp"
#include "enkisys/monitoring/alerts.hpp"
#include "enkisys/monitoring/store.hpp"

namespace enkisys::monitoring {

struct MonitorOptions {
  std::vector<Target> targets;
  std::chrono::seconds interval{5};
  std::chrono::milliseconds timeout{2'000};
  std::vector<std::string> colors{"blue", "green"};
  std::string gateway_admin_url;    // "" = no admin API: try every color
  std::string gateway_admin_token;  // bearer of the admin API
  std::string webhook_url;          // "" = no messages
  std::string ledger_dir;           // the CLI's state dir (<dir>/<stage>/releases.jsonl); ""
  Thresholds thresholds;
  int history_minutes = 180;  // sparklines
  int max_messages_per_poll = 5;
};

// The latest poll of one target.
struct TargetState {
  Target target;
  bool polled = false;
  bool up = false;
  unsigned health_status = 0;  // 0 = no answer
  std::string color;           // the color that answered ("" = none)
  std::string error;           // why it is down
  Counters counters;
  Exposition exposition;
  Rates rates;
  std::chrono::steady_clock::time_point scraped_at{};
};

class Monitor {
 public:
  Monitor(MonitorStore& store, core::Clock& clock, core::Logger& log, MonitorOptions options);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Restores the announced alert states (no second message after a restart) and the ledger
  // positions (old releases are not announced again).
  void start();
  void poll();

  // The status of every stage and service (what GET /api/status returns and the page shows).
  boost::json::object status();
  // Prometheus text: every target's last scrape with stage, service and color labels, plus
  // up{stage,service,color} and enkisys_stage_rollbacks_total{stage} (rolled-back deploys and
  // rollbacks in the stage's ledger).
  std::string federate() const;

  core::Status silence(const std::string& stage, int minutes, const std::string& reason);
  core::Status unsilence(const std::string& stage);
  boost::json::array silences();

  // The url of target `stage`:`service` with {color} as the stage's active color (the last
  // poll's; the first of `colors` before any answered), or "" when there is no such target.
  // The login page reaches the jwt stage's auth this way, over the polls' network.
  std::string target_url(const std::string& stage, const std::string& service) const;

  std::uint64_t polls() const;
  std::uint64_t messages_sent() const;
  const MonitorOptions& options() const { return o_; }

 private:
  struct Impl;
  MonitorStore& store_;
  core::Clock& clock_;
  core::Logger& log_;
  MonitorOptions o_;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex mu_;
  std::vector<TargetState> states_;                       // guarded by mu_
  std::map<std::string, std::string> stage_color_;        // guarded by mu_
  std::map<std::string, std::string> stage_version_;      // guarded by mu_
  std::map<std::string, std::uint64_t> stage_rollbacks_;  // in the ledger; guarded by mu_
};

}  // namespace enkisys::monitoring
