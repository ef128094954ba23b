// /health built from named checks: 200
// {"status":"ok","service","version","checks":{name:{"ok":true,...}}} or 503 with status "fail" and
// the failing check's message.
//
// Contract: checks are registered at wiring time; evaluate() runs every check (they may block,
// so the service runs it on the blocking pool) and is thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <vector>

namespace enkisys::core {

struct CheckResult {
  bool ok = true;
  std::string message;  // why it failed, or a short detail
};

class HealthRegistry {
 public:
  HealthRegistry(std::string service, std::string version)
      : service_(std::move(service)), version_(std::move(version)) {}
  void add(std::string name, std::function<CheckResult()> check);
  // Returns the body and sets *healthy.
  boost::json::object evaluate(bool* healthy) const;

 private:
  std::string service_, version_;
  std::vector<std::pair<std::string, std::function<CheckResult()>>> checks_;
};

}  // namespace enkisys::core
