// HTTP API of the monitoring service (the gateway strips its `/monitoring` prefix):
//   GET /                 status page (HTML, refreshed in place by app.js)
//   GET /app.js, /app.css its script and stylesheet
//   GET /api/status       the same data as JSON
//   GET /federate         every target's metrics with stage/service/color labels, plus `up`
//   GET /api/silences     silences in force
//   PUT /api/silences/{stage}    {"minutes": 1..10080, "reason": "..."} → 200 (admin)
//   DELETE /api/silences/{stage} → 204 (admin)
// Changes need the `admin` role in X-User-Roles (set by the gateway; 403 otherwise).
#pragma once

#include "enkisys/core/router.hpp"
#include "enkisys/monitoring/monitor.hpp"

namespace enkisys::monitoring {

// REQUIRES: `monitor` outlives the router's use.
void add_routes(core::Router& router, Monitor& monitor);

}  // namespace enkisys::monitoring
