// The admin API (admin port only, never published): stage listing, blue/green variable switch,
// pause/resume, canary, reload, metrics.
//
// Contract:
//  * Every /admin/* route requires "Authorization: Bearer <token>" (constant-time compare);
//    GET /health and GET /metrics are open (the port is bound to a private address).
//  * Every change is a read-modify-write of the whole configuration through
//    GatewayState::update(): atomic, validated, and refused (409/400) without effect if invalid.
//  * Changes made here live until the next reload from file (reload re-reads the file).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/gateway/state.hpp"

namespace enkisys::gateway {

struct AdminDeps {
  GatewayState& state;
  enkisys::core::MetricsRegistry& metrics;
  enkisys::core::Logger& log;
  std::string token;  // empty: every /admin/* request is refused
  // Re-reads the config file and applies it; returns an error message on failure.
  std::function<std::optional<std::string>()> reload;
};

void register_admin_routes(enkisys::core::Router& router, AdminDeps& deps);

}  // namespace enkisys::gateway
