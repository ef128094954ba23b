// The common entry point of every Enkisys service. main() only declares the service and wires
// its objects; run_service() does the rest the same way everywhere (libs/core/README.md,
// "Service skeleton", walks through it):
//  * `--help` (env variables and options), `--version`, `--healthcheck` (GET
//    $BIND_ADDRESS:$PORT/health, 127.0.0.1 when BIND_ADDRESS is a wildcard; exit 0 iff 200 —
//    what the image HEALTHCHECK runs), the service's own options and commands
//    (ServiceSpec::options / commands);
//  * common variables PORT, BIND_ADDRESS (LISTEN_ADDRESS: deprecated alias, warned about once),
//    LOG_LEVEL, THREADS, BLOCKING_THREADS, MAX_BODY_BYTES, ACCESS_LOG, validated with the
//    service's own; a bad value exits 2 before anything starts;
//  * a JSON logger, a metrics registry with enkisys_build_info, a HealthRegistry, one Clock and
//    one HttpClient (ServiceEnv), GET /health and GET /metrics on the main router;
//  * hooks (ServiceHooks): background workers, extra HTTP listeners, a replacement main
//    listener, a SIGHUP reload callback;
//  * signals: SIGTERM/SIGINT → graceful stop, SIGHUP → reload. Exit codes: 0 after a clean stop,
//    2 on bad configuration (variables, options, or ConfigError from wire), 1 when the service
//    cannot start (wire throws, a port cannot be bound) or a worker overstays its stop deadline.
//
// Startup order: configuration → logger/metrics/health/clock/HTTP client → wire() → /health and
// /metrics routes → every listener binds (main first) and logs "listening" with its port →
// workers start → listeners start serving.
// Shutdown order (SIGTERM): every listener stops accepting → in-flight requests drain → workers
// are told to stop (stop token + cancellation) and joined within worker_stop_timeout → the
// listeners are destroyed → the wired service object is destroyed → exit 0.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "enkisys/core/client.hpp"
#include "enkisys/core/clock.hpp"
#include "enkisys/core/config.hpp"
#include "enkisys/core/expected.hpp"
#include "enkisys/core/health.hpp"
#include "enkisys/core/listener.hpp"
#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/core/worker.hpp"

namespace enkisys::core {

// Thrown by ServiceSpec::wire when the service refuses its configuration (a config file, a
// secret file): logged as "invalid configuration", exit code 2. Any other std::exception from
// wire is a start failure: "cannot start", exit code 1.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Command-line options given to the service: name ("--config") → value ("" for a flag).
using CommandLine = std::map<std::string, std::string, std::less<>>;

struct CommandLineOption {
  std::string name;        // "--config"
  std::string value_name;  // "FILE"; empty: a flag without a value
  std::string help;
};

// A command runs instead of the service (e.g. the gateway's `--check`), after the variables
// loaded; its result is the exit code.
struct ServiceCommand {
  std::string name;  // "--check"
  std::string help;
  std::function<int(const EnvConfig&, const CommandLine&)> run;
};

struct ServiceRuntime;  // run_service's state (service.cpp)

// What a service registers at wiring time besides its routes and health checks.
// Thread safety: call only from ServiceSpec::wire (one thread, before anything runs).
class ServiceHooks {
 public:
  explicit ServiceHooks(ServiceRuntime& runtime) : rt_(runtime) {}

  // Background workers (worker.hpp: stop token, cancellation, restart with backoff, health
  // check "workers"). Started after every listener is bound; stopped after requests drained.
  void add_worker(std::string name, CoroutineWorker fn, WorkerPolicy policy = {});
  void add_thread_worker(std::string name, ThreadWorker fn, WorkerPolicy policy = {});

  // One more HTTP listener with its own router and options (the service reads its own
  // address/port variables into `options`), started and stopped with the main one, logged as
  // "listening" with "listener": name. `router` must outlive the service object's use (keep it
  // in the wired object). Its handlers see the same logger and metrics.
  void add_listener(std::string name, Router& router, ServerOptions options);

  // Replaces the main core::HttpServer (e.g. the gateway's proxy). ServiceEnv::router is then
  // served by nobody unless the service serves it itself; the service answers /health itself.
  // BLOCKING_THREADS, MAX_BODY_BYTES and ACCESS_LOG apply only to core::HttpServer listeners.
  void set_main_listener(std::unique_ptr<Listener> listener);

  // Called on SIGHUP, on the service's io_context thread (may block briefly). ok → logged
  // "reloaded"; an error → logged "reload refused, keeping the current configuration" with its
  // code and message: the callback must then leave the running configuration untouched.
  void on_reload(std::function<Status()> reload);

  // The service's io_context: one thread that runs the coroutine workers, signals and reload.
  boost::asio::io_context& io_context();

 private:
  ServiceRuntime& rt_;
};

struct ServiceEnv {
  EnvConfig& config;
  Logger& log;
  MetricsRegistry& metrics;
  HealthRegistry& health;
  Router& router;         // the main listener's routes (with /health and /metrics added)
  ServerOptions& server;  // main listener: BIND_ADDRESS, PORT, THREADS, ... from the variables
  Clock& clock;           // ServiceSpec::clock or SystemClock
  HttpClient& http;       // one per service; depend on it as HttpSender& where possible
  ServiceHooks& hooks;
  const CommandLine& options;  // the ServiceSpec::options given on the command line
};

struct ServiceSpec {
  std::string name;     // "tools"
  std::string summary;  // one line for --help
  unsigned short default_port = 0;
  unsigned default_threads = 2;            // THREADS default
  std::vector<CommandLineOption> options;  // extra options (values in ServiceEnv::options)
  std::vector<ServiceCommand> commands;    // run instead of the service
  std::chrono::milliseconds worker_stop_timeout{10'000};
  Clock* clock = nullptr;                   // nullptr: SystemClock::instance()
  std::function<void(EnvConfig&)> declare;  // add service-specific variables
  // Builds the service's objects, routes and hooks. May throw ConfigError (exit 2) or another
  // std::exception (exit 1) to refuse to start. The returned object is destroyed last, after
  // every listener and worker has stopped.
  std::function<std::shared_ptr<void>(ServiceEnv&)> wire;
};

int run_service(const ServiceSpec& spec, int argc, char** argv);

}  // namespace enkisys::core
