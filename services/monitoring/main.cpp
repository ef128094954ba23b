// enkisys-monitoring: polls every stage's /health and /metrics (port 5006): history, uptime,
// rates and latency, alerts to a webhook, a status page, a federate endpoint. Wiring only.
#include <fstream>
#include <memory>
#include <sstream>

#include "enkisys/core/service.hpp"
#include "enkisys/core/worker.hpp"
#include "enkisys/db/database.hpp"
#include "enkisys/monitoring/api.hpp"
#include "enkisys/monitoring/login.hpp"
#include "enkisys/monitoring/monitor.hpp"
#include "service_database.hpp"

namespace {

using namespace enkisys;

struct MonitoringService {
  std::unique_ptr<db::Database> database;
  std::unique_ptr<monitoring::MonitorStore> store;
  std::unique_ptr<monitoring::Monitor> monitor;
};

std::optional<std::string> http_url(std::string_view v) {
  if (v.empty() || v.starts_with("http://") || v.starts_with("https://")) return std::nullopt;
  return "must be an http:// or https:// URL";
}

std::optional<std::string> ratio(std::string_view v) {
  try {
    const double d = std::stod(std::string(v));
    if (d >= 0 && d <= 1) return std::nullopt;
  } catch (const std::exception&) {
  }
  return "must be a number in [0, 1]";
}

std::string targets_spec(core::ServiceEnv& env) {
  if (env.config.is_set("MONITOR_TARGETS_FILE")) {
    std::ifstream in(env.config.get("MONITOR_TARGETS_FILE"));
    if (!in) throw core::ConfigError("MONITOR_TARGETS_FILE cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  return env.config.get("MONITOR_TARGETS");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "monitoring";
  spec.summary = "polls every stage's health and metrics; status page, alerts, federate";
  spec.default_port = 5006;
  spec.declare = [](core::EnvConfig& c) {
    db::declare_database(c, "sqlite:///data/monitoring.db");
    c.add({"MONITOR_TARGETS",
           "targets: stage:service=url, comma-separated; {color} in a url is the stage's active "
           "color (e.g. prod:auth=http://auth.prod-{color}:5002)",
           ""});
    c.add(
        {"MONITOR_TARGETS_FILE", "file of targets, one per line (wins over MONITOR_TARGETS)", ""});
    c.add({"MONITOR_INTERVAL_S", "seconds between polls", "5", false, false,
           core::integer_in(1, 3600)});
    c.add({"MONITOR_TIMEOUT_MS", "deadline of one /health or /metrics request", "2000", false,
           false, core::integer_in(100, 60'000)});
    c.add({"MONITOR_COLORS", "colors tried when the gateway does not tell the active one",
           "blue,green"});
    c.add({"MONITOR_GATEWAY_ADMIN_URL",
           "gateway admin API (GET /admin/stages gives each stage's color); unset: try every "
           "color",
           "", false, false, http_url});
    c.add({"MONITOR_GATEWAY_ADMIN_TOKEN_FILE", "file holding the gateway admin token", ""});
    c.add({"NOTIFY_WEBHOOK_URL", "Slack-compatible webhook for alerts (unset: none)", "", false,
           false, http_url});
    c.add({"MONITOR_LEDGER_DIR",
           "the deploy CLI's state dir, read-only (<dir>/<stage>/releases.jsonl); unset: no "
           "deploy timeline",
           ""});
    c.add({"MONITOR_ERROR_RATIO", "5xx share above which a service alerts", "0.05", false, false,
           ratio});
    c.add({"MONITOR_P99_MS", "p99 latency (ms) above which a service alerts", "2000", false, false,
           core::integer_in(1, 600'000)});
    c.add({"MONITOR_LOGIN_STAGE",
           "stage whose auth signs admins in to the page (the gateway's jwt_stage); its auth "
           "is the target <stage>:auth",
           "prod"});
    c.add({"MONITOR_HOLD_POLLS", "polls a state must hold before it is announced", "2", false,
           false, core::integer_in(1, 100)});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto s = std::make_shared<MonitoringService>();
    auto targets = monitoring::parse_targets(targets_spec(env));
    if (!targets.ok()) throw core::ConfigError(targets.error().message);
    if (targets.value().empty())
      env.log.warn("no targets (MONITOR_TARGETS or MONITOR_TARGETS_FILE): watching nothing");
    monitoring::MonitorOptions o;
    o.targets = std::move(targets.value());
    o.interval = std::chrono::seconds(env.config.get_int("MONITOR_INTERVAL_S"));
    o.timeout = std::chrono::milliseconds(env.config.get_int("MONITOR_TIMEOUT_MS"));
    o.colors = split(env.config.get("MONITOR_COLORS"));
    if (o.colors.empty()) throw core::ConfigError("MONITOR_COLORS names no color");
    o.gateway_admin_url = env.config.get("MONITOR_GATEWAY_ADMIN_URL");
    if (!o.gateway_admin_url.empty()) {
      auto token = env.config.secret_file("MONITOR_GATEWAY_ADMIN_TOKEN_FILE", 16);
      if (!token)
        throw core::ConfigError(
            "MONITOR_GATEWAY_ADMIN_URL needs MONITOR_GATEWAY_ADMIN_TOKEN_FILE (>= 16 bytes)");
      o.gateway_admin_token = *token;
    }
    o.webhook_url = env.config.get("NOTIFY_WEBHOOK_URL");
    o.ledger_dir = env.config.get("MONITOR_LEDGER_DIR");
    o.thresholds.error_ratio = std::stod(env.config.get("MONITOR_ERROR_RATIO"));
    o.thresholds.p99_s = static_cast<double>(env.config.get_int("MONITOR_P99_MS")) / 1000.0;
    o.thresholds.hold_polls = static_cast<int>(env.config.get_int("MONITOR_HOLD_POLLS"));

    s->database = db::open_service_database(env);
    s->store = std::make_unique<monitoring::MonitorStore>(*s->database);
    s->store->migrate();
    s->monitor = std::make_unique<monitoring::Monitor>(*s->store, env.clock, env.log, o);
    s->monitor->start();
    monitoring::add_routes(env.router, *s->monitor);
    monitoring::LoginOptions login;
    login.auth_url = [m = s->monitor.get(), stage = env.config.get("MONITOR_LOGIN_STAGE")] {
      return m->target_url(stage, "auth");
    };
    monitoring::add_login_routes(env.router, env.http, std::move(login));
    env.hooks.add_thread_worker("poll", [p = s->monitor.get()](const std::stop_token& t) {
      const auto interval =
          std::chrono::duration_cast<std::chrono::milliseconds>(p->options().interval);
      while (!t.stop_requested()) {
        const auto start = std::chrono::steady_clock::now();
        p->poll();
        const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        if (core::wait_for_stop(t, std::max(std::chrono::milliseconds(100), interval - spent)))
          break;
      }
    });
    return s;
  };
  return core::run_service(spec, argc, argv);
}
