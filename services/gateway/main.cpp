// enkisys-gateway: wiring only (configuration, objects, signals). Logic lives in the library.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "enkisys/core/config.hpp"
#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/gateway/admin.hpp"
#include "enkisys/gateway/health_checker.hpp"
#include "enkisys/gateway/proxy_server.hpp"

namespace core = enkisys::core;
namespace gw = enkisys::gateway;

namespace {

int healthcheck(const std::string& port) {
  namespace beast = boost::beast;
  try {
    boost::asio::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(3));
    boost::asio::ip::tcp::resolver r(ioc);
    s.connect(r.resolve("127.0.0.1", port));
    beast::http::request<beast::http::empty_body> req{beast::http::verb::get, "/health", 11};
    req.set(beast::http::field::host, "127.0.0.1");
    beast::http::write(s, req);
    beast::flat_buffer b;
    beast::http::response<beast::http::string_body> res;
    beast::http::read(s, b, res);
    return res.result() == beast::http::status::ok ? 0 : 1;
  } catch (const std::exception&) {
    return 1;
  }
}

std::optional<std::string> read_token(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read ADMIN_TOKEN_FILE";
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.size() < 16) {
    *error = "ADMIN_TOKEN_FILE must hold at least 16 characters";
    return std::nullopt;
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  core::EnvConfig env("enkisys-gateway",
                      "Stage-aware API gateway: /{stage}/... → that stage's services.");
  env.add({"PORT", "public listen port", "8080", false, false, core::integer_in(0, 65535)})
      .add({"LISTEN_ADDRESS", "public listen address", "0.0.0.0"})
      .add({"ADMIN_PORT", "admin API port (never publish it)", "9901", false, false,
            core::integer_in(0, 65535)})
      .add({"ADMIN_ADDRESS", "admin API bind address", "127.0.0.1"})
      .add({"ADMIN_TOKEN_FILE",
            "file holding the admin bearer token (unset: admin API refuses all changes)", ""})
      .add(
          {"GATEWAY_CONFIG", "gateway YAML config file (or --config)", "/etc/enkisys/gateway.yaml"})
      .add({"THREADS", "proxy worker threads", "1", false, false, core::integer_in(1, 256)})
      .add({"ACCESS_LOG", "one JSON line per request: on|off", "on", false, false,
            core::one_of({"on", "off"})})
      .add({"LOG_LEVEL", "debug|info|warn|error", "info"});
  std::string config_path;
  bool check_health = false;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << env.help_text()
                << "\nOptions:\n  --config FILE   gateway YAML config (overrides GATEWAY_CONFIG)\n"
                   "  --check         validate the config and exit\n  --healthcheck   GET "
                   "127.0.0.1:$PORT/health, exit 0 iff 200\n"
                   "  --version\n";
      return 0;
    }
    if (a == "--version") {
      std::cout << "enkisys-gateway " << ENKISYS_VERSION << "\n";
      return 0;
    }
    if (a == "--healthcheck")
      check_health = true;
    else if (a == "--config" && i + 1 < argc)
      config_path = argv[++i];
    else if (a == "--check")
      check_only = true;
    else {
      std::cerr << "unknown argument: " << a << " (see --help)\n";
      return 2;
    }
  }
  std::string err;
  if (!env.load([](const char* n) { return std::getenv(n); }, &err)) {
    std::cerr << err << "\n";
    return 2;
  }
  if (check_health) return healthcheck(env.get("PORT"));
  if (config_path.empty()) config_path = env.get("GATEWAY_CONFIG");

  core::LogLevel level = core::LogLevel::kInfo;
  core::parse_log_level(env.get("LOG_LEVEL"), &level);
  core::Logger log("gateway", level);
  auto loaded = gw::load_config_file(config_path);
  if (!loaded.ok()) {
    log.error("invalid configuration", {{"error", loaded.error().message}});
    return 2;
  }
  if (check_only) {
    gw::UpstreamRegistry scratch(1);
    auto compiled = gw::compile(std::move(loaded.value()), scratch, 1);
    if (!compiled.ok()) {
      std::cerr << config_path << ": " << compiled.error().message << "\n";
      return 2;
    }
    std::cout << config_path << ": ok\n";
    return 0;
  }
  const unsigned threads = static_cast<unsigned>(env.get_int("THREADS"));
  core::MetricsRegistry metrics;
  gw::Telemetry telemetry(metrics, env.get("ACCESS_LOG") == "on");
  gw::UpstreamRegistry upstreams(threads);
  // One verifier per stage JWT setting (jwks_url with ${stage}/${color} → that stage's keys).
  gw::Verifiers::Options vopt;
  vopt.on_fetch_state = [&log](const std::string& url, const std::string& e) {
    if (e.empty())
      log.info("jwks keys fetched", {{"url", url}});
    else
      log.warn("jwks fetch failed, retrying", {{"url", url}, {"error", e}});
  };
  gw::Verifiers verifiers(vopt);
  gw::GatewayState state(upstreams, [&](gw::Generation& g) -> std::optional<std::string> {
    if (auto e = verifiers.attach(g)) return e;
    telemetry.prepare(g);
    return std::nullopt;
  });
  if (auto e = state.apply(std::move(loaded.value()))) {
    log.error("invalid configuration", {{"error", *e}});
    return 2;
  }
  gw::RateLimiter limiter;
  gw::ProxyOptions popt;
  popt.address = env.get("LISTEN_ADDRESS");
  popt.port = static_cast<unsigned short>(env.get_int("PORT"));
  popt.threads = threads;
  gw::ProxyServer proxy(popt, gw::ProxyDeps{state, limiter, &telemetry});

  std::string token;
  if (env.is_set("ADMIN_TOKEN_FILE") && !env.get("ADMIN_TOKEN_FILE").empty()) {
    auto t = read_token(env.get("ADMIN_TOKEN_FILE"), &err);
    if (!t) {
      log.error("invalid admin token", {{"error", err}});
      return 2;
    }
    token = *t;
  }
  auto reload = [&]() -> std::optional<std::string> {
    auto c = gw::load_config_file(config_path);
    if (!c.ok()) return c.error().message;
    return state.apply(std::move(c.value()));
  };
  gw::AdminDeps admin_deps{state, metrics, log, token, reload};
  core::Router admin_router;
  gw::register_admin_routes(admin_router, admin_deps);
  core::ServerOptions aopt;
  aopt.address = env.get("ADMIN_ADDRESS");
  aopt.port = static_cast<unsigned short>(env.get_int("ADMIN_PORT"));
  aopt.threads = 1;
  aopt.blocking_threads = 1;
  aopt.handle_signals = false;
  core::HttpServer admin(aopt, admin_router, log, metrics);
  try {
    proxy.listen();
    admin.listen();
  } catch (const std::exception& e) {
    log.error("cannot listen", {{"error", e.what()}});
    return 1;
  }
  proxy.start();
  gw::HealthChecker health(state);
  health.start();
  std::thread admin_thread([&] { admin.run(); });
  log.info("gateway started", {{"port", proxy.port()},
                               {"admin_port", aopt.port},
                               {"threads", threads},
                               {"config", config_path},
                               {"generation", state.current()->number}});

  boost::asio::io_context control;
  boost::asio::signal_set signals(control, SIGTERM, SIGINT, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          if (auto e = reload())
            log.error("reload refused, keeping the current configuration", {{"error", *e}});
          else
            log.info("configuration reloaded", {{"generation", state.current()->number}});
          signals.async_wait(on_signal);
          return;
        }
        log.info("signal received, draining", {{"signal", sig}});
        proxy.stop();
        admin.stop();
      };
  signals.async_wait(on_signal);
  std::thread control_thread([&] { control.run(); });
  proxy.join();
  health.stop();
  admin.stop();
  admin_thread.join();
  control.stop();
  control_thread.join();
  log.info("gateway stopped");
  return 0;
}
