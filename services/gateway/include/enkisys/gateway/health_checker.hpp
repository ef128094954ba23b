// Active upstream health checks.
//
// Contract:
//  * One background thread with its own event loop. Every `health_checks.interval` (read from
//    the current generation, so reloads apply) it probes each upstream that a route of the
//    current generation sends traffic to and that has a `health` path: GET <base><health> with
//    `Host: <authority>` and `Connection: close`, bounded by `health_checks.timeout`
//    (resolve + connect + answer). A 2xx answer is a success; anything else, including no
//    answer, a failure. Results go to Upstream::record_probe().
//  * At most one probe per upstream is in flight; a slow upstream never delays the others.
//  * start()/stop() are idempotent; stop() joins the thread (the destructor calls it). The
//    GatewayState must outlive the checker.
#pragma once

#include <memory>
#include <thread>

#include "enkisys/gateway/state.hpp"

namespace enkisys::gateway {

class HealthChecker {
 public:
  explicit HealthChecker(GatewayState& state);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace enkisys::gateway
