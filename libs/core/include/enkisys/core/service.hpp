// The common entry point of every Enkisys service. main() only declares the service and wires
// its routes; run_service() does the rest the same way everywhere:
//  * `--help` (env variables), `--version`, `--healthcheck` (GET 127.0.0.1:$PORT/health, exit 0
//    iff 200 — what the image HEALTHCHECK runs in a scratch container);
//  * common variables PORT, LOG_LEVEL, THREADS, MAX_BODY_BYTES, validated with the service's own;
//  * a JSON logger, a metrics registry with build info, GET /health and GET /metrics;
//  * the HTTP server with graceful SIGTERM; exit code 0 after a clean stop, 2 on bad config.
#pragma once

#include <functional>
#include <string>

#include "enkisys/core/config.hpp"
#include "enkisys/core/health.hpp"
#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"

namespace enkisys::core {

struct ServiceEnv {
  EnvConfig& config;
  Logger& log;
  MetricsRegistry& metrics;
  HealthRegistry& health;
  Router& router;
  ServerOptions& server;
};

struct ServiceSpec {
  std::string name;     // "tools"
  std::string summary;  // one line for --help
  unsigned short default_port = 0;
  std::function<void(EnvConfig&)> declare;  // add service-specific variables
  // Builds the service's objects and routes. May throw std::exception to refuse to start
  // (logged, exit 1). The returned object is kept alive while the server runs.
  std::function<std::shared_ptr<void>(ServiceEnv&)> wire;
};

int run_service(const ServiceSpec& spec, int argc, char** argv);

}  // namespace enkisys::core
