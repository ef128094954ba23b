#include "enkisys/cli/report.hpp"

#include <boost/json/serialize.hpp>
#include <iomanip>
#include <optional>
#include <sstream>

#include "enkisys/cli/lock.hpp"

namespace enkisys::cli {
namespace {

std::string gateway_color(StageOps& ops) {
  if (!ops.load_admin_token().ok) return "unknown";
  std::string error;
  auto vars = ops.variables(&error);
  if (!vars) return "unknown (" + error + ")";
  auto* c = vars->if_contains("color");
  return c && c->is_string() ? std::string(c->get_string()) : "(no color)";
}

void write_color(std::ostream& out, StageOps& ops, const char* color) {
  std::string error;
  auto cs = ops.containers(color, &error);
  out << "  " << std::left << std::setw(7) << color << std::right;
  if (!cs) {
    out << error << "\n";
    return;
  }
  std::size_t ready = 0;
  for (const auto& c : *cs) ready += c.ready() ? 1 : 0;
  out << ready << "/" << cs->size() << " containers ready";
  for (const auto& c : *cs) out << "  " << c.name << "=" << c.status << "/" << c.health;
  out << "\n";
}

}  // namespace

void write_releases(std::ostream& out, const std::vector<Release>& releases, bool as_json) {
  for (const auto& r : releases) {
    if (as_json) {
      out << boost::json::serialize(r.to_json()) << "\n";
      continue;
    }
    out << std::left << std::setw(22) << r.started_at << std::setw(9) << r.action << std::setw(14)
        << r.version << std::setw(12) << r.result << std::setw(7) << r.color << std::right
        << std::setw(8) << r.duration_ms << " ms  " << r.actor
        << (r.rolled_back_to.empty() ? "" : "  → " + r.rolled_back_to)
        << (r.message.empty() ? "" : "  " + r.message) << "\n";
  }
}

void write_stage_status(std::ostream& out, StageOps& ops, StateStore& state) {
  const std::string& stage = ops.settings().stage;
  ReleaseLedger ledger(state);
  std::optional<Active> active;
  ledger.read_active(&active);
  out << stage << ":\n  active:  "
      << (active ? active->color + " " + active->version + " (since " + active->since + ")"
                 : "none recorded")
      << "\n";
  const std::string gw = gateway_color(ops);
  auto health = ops.stage_health();
  out << "  gateway: color " << gw << ", /" << stage << "/health "
      << (health.status ? std::to_string(health.status) : health.error) << "\n";
  for (const char* color : {"blue", "green"}) write_color(out, ops, color);
  std::optional<std::string> lock;
  state.read(StageLock::kFile, &lock);
  auto lease = lock ? Lease::parse(*lock) : std::nullopt;
  out << "  lock:    " << (lease ? lease->describe() : lock ? "unreadable" : "free") << "\n";
}

void write_swarm_status(std::ostream& out, const std::string& stage, Target& target,
                        StateStore& state) {
  ReleaseLedger ledger(state);
  std::optional<Active> active;
  ledger.read_active(&active);
  const std::string stack = "enkisys-" + stage;
  out << stage << " (stack " << stack << "):\n  active:  "
      << (active ? active->version + " (since " + active->since + ")" : "none recorded") << "\n";
  auto ls = target.run(
      {"docker", "service", "ls", "--filter", "label=com.docker.stack.namespace=" + stack,
       "--format", "{{.Name}} {{.Replicas}} {{.Image}}"},
      {}, std::chrono::seconds(30));
  if (!ls.ok()) {
    auto err = ls.err.substr(0, ls.err.find('\n'));
    out << "  services: docker service ls failed: " << err.substr(0, 200) << "\n";
  } else if (ls.out.empty()) {
    out << "  services: none\n";
  } else {
    std::istringstream lines(ls.out);
    for (std::string line; std::getline(lines, line);) out << "  service: " << line << "\n";
  }
  std::optional<std::string> lock;
  state.read(StageLock::kFile, &lock);
  auto lease = lock ? Lease::parse(*lock) : std::nullopt;
  out << "  lock:    " << (lease ? lease->describe() : lock ? "unreadable" : "free") << "\n";
}

Status write_lock_show(std::ostream& out, const std::string& stage, StateStore& state,
                       std::chrono::system_clock::time_point now) {
  std::optional<std::string> text;
  if (auto s = state.read(StageLock::kFile, &text); !s.ok) return s;
  if (!text) {
    out << stage << ": free\n";
    return {};
  }
  auto lease = Lease::parse(*text);
  const bool expired = lease && lease->expires <= now;
  out << stage << ": " << (lease ? lease->describe() : "unreadable lease")
      << (expired ? " — EXPIRED (the next deploy takes it over)" : "") << "\n";
  return {};
}

Status lock_release(std::ostream& out, const std::string& stage, StateStore& state) {
  std::optional<std::string> text;
  if (auto s = state.read(StageLock::kFile, &text); !s.ok) return s;
  if (!text) {
    out << stage << ": already free\n";
    return {};
  }
  if (auto s = StageLock::force_release(state); !s.ok) return s;
  auto lease = Lease::parse(*text);
  out << stage << ": released lock held by " << (lease ? lease->describe() : "unknown") << "\n";
  return {};
}

}  // namespace enkisys::cli
