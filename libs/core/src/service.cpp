#include "enkisys/core/service.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/value_from.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "service_cli.hpp"

namespace enkisys::core {

namespace asio = boost::asio;

struct ServiceRuntime {
  explicit ServiceRuntime(Logger& l) : log(l), workers(ioc, l) {}

  struct Extra {
    std::string name;
    Router* router;
    ServerOptions options;
  };
  Logger& log;
  asio::io_context ioc;
  WorkerSet workers;  // after ioc: destroyed first
  std::vector<Extra> extras;
  std::unique_ptr<Listener> main;
  std::function<Status()> reload;
};

void ServiceHooks::add_worker(std::string name, CoroutineWorker fn, WorkerPolicy policy) {
  rt_.workers.add(std::move(name), std::move(fn), policy);
}
void ServiceHooks::add_thread_worker(std::string name, ThreadWorker fn, WorkerPolicy policy) {
  rt_.workers.add_thread(std::move(name), std::move(fn), policy);
}
void ServiceHooks::add_listener(std::string name, Router& router, ServerOptions options) {
  rt_.extras.push_back({std::move(name), &router, std::move(options)});
}
void ServiceHooks::set_main_listener(std::unique_ptr<Listener> listener) {
  rt_.main = std::move(listener);
}
void ServiceHooks::on_reload(std::function<Status()> reload) {
  rt_.reload = std::move(reload);
}
asio::io_context& ServiceHooks::io_context() {
  return rt_.ioc;
}

namespace {

void reload_now(ServiceRuntime& rt) {
  if (!rt.reload) {
    rt.log.warn("SIGHUP ignored: this service has no reload hook");
    return;
  }
  Status s = ok_status();
  try {
    s = rt.reload();
  } catch (const std::exception& e) {
    s = make_error(ErrorKind::kInternal, "reload_failed", e.what());
  }
  if (s) {
    rt.log.info("reloaded");
  } else {
    rt.log.error(
        "reload refused, keeping the current configuration",
        {{"code", std::string(s.error().code_or_default())}, {"error", s.error().message}});
  }
}

void add_core_routes(Router& router, MetricsRegistry& metrics, HealthRegistry& health) {
  router.add(http::verb::get, "/metrics",
             [&metrics](Request&, RequestContext&) -> asio::awaitable<Response> {
               Response res{http::status::ok, 11};
               res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
               res.body() = metrics.render();
               res.prepare_payload();
               co_return res;
             });
  router.add(http::verb::get, "/health",
             [&health](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
               auto [body, ok] = co_await ctx.blocking([&health] {
                 bool healthy = false;
                 auto b = health.evaluate(&healthy);
                 return std::make_pair(std::move(b), healthy);
               });
               co_return json_response(ok ? http::status::ok : http::status::service_unavailable,
                                       body);
             });
}

// BIND_ADDRESS, or its deprecated alias LISTEN_ADDRESS when only that one is set.
std::string bind_address(const EnvConfig& cfg) {
  if (!cfg.is_set("BIND_ADDRESS") && !cfg.get("LISTEN_ADDRESS").empty())
    return cfg.get("LISTEN_ADDRESS");
  return cfg.get("BIND_ADDRESS");
}

ServerOptions server_options(const EnvConfig& cfg, Logger& log) {
  ServerOptions o;
  o.address = bind_address(cfg);
  if (!cfg.is_set("BIND_ADDRESS") && !cfg.get("LISTEN_ADDRESS").empty()) {
    log.warn("LISTEN_ADDRESS is deprecated: use BIND_ADDRESS", {{"address", o.address}});
  } else if (!cfg.get("LISTEN_ADDRESS").empty()) {
    log.warn("LISTEN_ADDRESS is deprecated and ignored: BIND_ADDRESS is set");
  }
  o.port = static_cast<unsigned short>(cfg.get_int("PORT"));
  o.threads = static_cast<unsigned>(cfg.get_int("THREADS"));
  o.blocking_threads = static_cast<unsigned>(cfg.get_int("BLOCKING_THREADS"));
  o.max_body_bytes = static_cast<std::size_t>(cfg.get_int("MAX_BODY_BYTES"));
  o.access_log = cfg.get("ACCESS_LOG") == "on";
  o.handle_signals = false;  // run_service owns the signals
  return o;
}

}  // namespace

int run_service(const ServiceSpec& spec, int argc, char** argv) {
  using Action = detail::ParsedArgs::Action;
  EnvConfig cfg("enkisys-" + spec.name, spec.summary);
  detail::declare_common(cfg, spec);
  if (spec.declare) spec.declare(cfg);
  const detail::ParsedArgs args = detail::parse_args(spec, argc, argv);
  switch (args.action) {
    case Action::kHelp:
      std::cout << cfg.help_text() << detail::options_help(spec);
      return 0;
    case Action::kVersion:
      std::cout << "enkisys-" << spec.name << " " << ENKISYS_VERSION << "\n";
      return 0;
    case Action::kError:
      std::cerr << "enkisys-" << spec.name << ": " << args.error << " (see --help)\n";
      return 2;
    default:
      break;
  }
  std::string error;
  if (!cfg.load([](const char* n) { return std::getenv(n); }, &error)) {
    std::cerr << "enkisys-" << spec.name << ": invalid configuration:\n" << error << "\n";
    return 2;
  }
  if (args.action == Action::kHealthcheck) {
    // The listener's own address (a service bound to one address is not on 127.0.0.1).
    return detail::healthcheck(detail::healthcheck_address(bind_address(cfg)),
                               static_cast<unsigned short>(cfg.get_int("PORT")));
  }
  if (args.action == Action::kCommand) return args.command->run(cfg, args.options);

  LogLevel level = LogLevel::kInfo;
  parse_log_level(cfg.get("LOG_LEVEL"), &level);
  Logger log(spec.name, level);
  MetricsRegistry metrics;
  metrics.gauge("enkisys_build_info", "Build information.", {"service", "version"})
      .with({spec.name, ENKISYS_VERSION})
      .set(1);
  HealthRegistry health(spec.name, ENKISYS_VERSION);
  Router router;
  ServerOptions opts = server_options(cfg, log);
  Clock& clock = spec.clock ? *spec.clock : SystemClock::instance();
  // Idle connections kept per upstream host: a service with many requests in flight (the agent
  // with 64 turns calls rag, tools and the model) would otherwise reconnect past 16.
  HttpClient http(64);
  ServiceRuntime rt(log);
  ServiceHooks hooks(rt);
  // Installed before wiring: a signal that arrives while the service starts is queued.
  asio::signal_set signals(rt.ioc, SIGTERM, SIGINT, SIGHUP);

  ServiceEnv env{cfg, log, metrics, health, router, opts, clock, http, hooks, args.options};
  std::shared_ptr<void> keep;  // declared before the listeners: destroyed after them
  try {
    keep = spec.wire(env);
  } catch (const ConfigError& e) {
    log.error("invalid configuration", {{"error", e.what()}});
    return 2;
  } catch (const std::exception& e) {
    log.error("cannot start", {{"error", e.what()}});
    return 1;
  }
  add_core_routes(router, metrics, health);
  if (rt.workers.size() > 0) health.add("workers", [&rt] { return rt.workers.health(); });

  struct Running {
    std::string name, address;
    std::unique_ptr<Listener> listener;
  };
  std::vector<Running> listeners;
  listeners.push_back(
      {"main", opts.address,
       rt.main ? std::move(rt.main) : std::make_unique<HttpListener>(opts, router, log, metrics)});
  for (auto& x : rt.extras) {
    listeners.push_back({x.name, x.options.address,
                         std::make_unique<HttpListener>(x.options, *x.router, log, metrics)});
  }
  try {
    for (auto& l : listeners) {
      l.listener->listen();
      log.info("listening", {{"listener", l.name},
                             {"address", l.address},
                             {"port", l.listener->port()},
                             {"version", ENKISYS_VERSION}});
    }
  } catch (const std::exception& e) {
    log.error("cannot listen", {{"error", e.what()}});
    return 1;
  }

  auto stop_listeners = [&listeners] {
    for (auto& l : listeners) l.listener->stop();
  };
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          reload_now(rt);
        } else {
          log.info("signal received, draining", {{"signal", sig}});
          stop_listeners();
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  auto guard = asio::make_work_guard(rt.ioc);
  std::thread control([&rt] { rt.ioc.run(); });

  rt.workers.start();
  for (auto& l : listeners) l.listener->start();

  // Runs until a signal (or a failing listener) stops the listeners; each drains its requests.
  int code = 0;
  for (auto& l : listeners) {
    try {
      l.listener->join();
    } catch (const std::exception& e) {
      log.error("listener failed", {{"listener", l.name}, {"error", e.what()}});
      code = 1;
    }
    stop_listeners();  // the main listener ending (for any reason) ends the others
  }
  log.info("requests drained, stopping workers");
  rt.workers.request_stop();
  const auto stuck = rt.workers.wait(spec.worker_stop_timeout);
  if (!stuck.empty()) {
    log.error("workers did not stop within the deadline, exiting",
              {{"workers", boost::json::value_from(stuck)},
               {"timeout_ms", spec.worker_stop_timeout.count()}});
    std::_Exit(1);  // a running worker may still use the service object: nothing can be freed
  }
  guard.reset();
  rt.ioc.stop();
  control.join();
  // Pooled outbound connections belong to the listeners' io_contexts: close them while those
  // still exist (a socket destroyed after its reactor corrupts memory).
  http.close_idle();
  listeners.clear();
  keep.reset();
  log.info(code == 0 ? "stopped cleanly" : "stopped after a failure");
  return code;
}

}  // namespace enkisys::core
