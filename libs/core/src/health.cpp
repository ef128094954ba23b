#include "enkisys/core/health.hpp"

namespace enkisys::core {

void HealthRegistry::add(std::string name, std::function<CheckResult()> check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

boost::json::object HealthRegistry::evaluate(bool* healthy) const {
  boost::json::object checks;
  *healthy = true;
  std::string failing;
  for (const auto& [name, fn] : checks_) {
    CheckResult r;
    try {
      r = fn();
    } catch (const std::exception& e) {
      r = {false, e.what()};
    }
    boost::json::object c{{"ok", r.ok}};
    if (!r.message.empty()) c["message"] = r.message;
    checks[name] = std::move(c);
    if (!r.ok) {
      *healthy = false;
      if (!failing.empty()) failing += ", ";
      failing += name;
    }
  }
  boost::json::object body{{"status", *healthy ? "ok" : "fail"},
                           {"service", service_},
                           {"version", version_},
                           {"checks", std::move(checks)}};
  if (!*healthy) body["failing"] = failing;
  return body;
}

}  // namespace enkisys::core
