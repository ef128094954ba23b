// enkisys-gateway: the stage-aware API gateway (port 8080, admin API on 9901). Wiring only: the
// service skeleton (core::run_service) runs it; the proxy is its main listener, the admin API an
// extra listener, the upstream health checker a worker, SIGHUP reloads the config file (and the
// TLS certificates). With GATEWAY_TLS_CERTS the main listener is the plain proxy plus the TLS
// listener in front of it (services/gateway/README.md, "TLS").
#include <iostream>

#include "enkisys/core/service.hpp"
#include "enkisys/gateway/admin.hpp"
#include "enkisys/gateway/health_checker.hpp"
#include "enkisys/gateway/proxy_server.hpp"
#include "enkisys/gateway/tls.hpp"

namespace {

using namespace enkisys;
namespace gw = enkisys::gateway;

struct Gateway {
  std::string config_path;
  std::unique_ptr<gw::Telemetry> telemetry;
  std::unique_ptr<gw::UpstreamRegistry> upstreams;
  std::unique_ptr<gw::Verifiers> verifiers;
  std::unique_ptr<gw::GatewayState> state;
  gw::RateLimiter limiter;
  std::unique_ptr<gw::ProxyServer> proxy;
  std::unique_ptr<gw::TlsFront> tls;  // null without GATEWAY_TLS_CERTS
  std::unique_ptr<gw::HealthChecker> health;
  std::unique_ptr<gw::AdminDeps> admin_deps;
  core::Router admin_router;

  // Re-reads the config file and applies it; an error leaves the running generation in place.
  std::optional<std::string> reload() {
    auto c = gw::load_config_file(config_path);
    if (!c.ok()) return c.error().message;
    return state->apply(std::move(c.value()));
  }
};

// The plain proxy and the TLS listener as the one main listener: the TLS side stops first (no
// new handshakes), and its relays end when the proxy closes their connections.
class EdgeListener final : public core::Listener {
 public:
  EdgeListener(gw::ProxyServer& proxy, gw::TlsFront& tls, core::Logger& log)
      : proxy_(proxy), tls_(tls), log_(log) {}
  void listen() override {
    proxy_.listen();
    tls_.listen();
    log_.info("listening", {{"listener", "tls"}, {"port", tls_.port()}});
  }
  unsigned short port() const override { return proxy_.port(); }
  void start() override {
    proxy_.start();
    tls_.start();
  }
  void stop() override {
    tls_.stop();
    proxy_.stop();
  }
  void join() override {
    proxy_.join();
    tls_.join();
  }

 private:
  gw::ProxyServer& proxy_;
  gw::TlsFront& tls_;
  core::Logger& log_;
};

// The TLS settings from the environment; nullopt when GATEWAY_TLS_CERTS is unset. Throws
// core::ConfigError naming a bad setting.
std::optional<gw::TlsOptions> tls_options(const core::EnvConfig& cfg, const std::string& address,
                                          unsigned threads) {
  const std::string certs = cfg.get("GATEWAY_TLS_CERTS");
  if (certs.empty()) return std::nullopt;
  auto list = gw::parse_certificate_list(certs);
  if (!list.ok()) throw core::ConfigError("GATEWAY_TLS_CERTS: " + list.error().message);
  auto auth = gw::parse_client_auth(cfg.get("GATEWAY_TLS_CLIENT_AUTH"));
  if (!auth.ok()) throw core::ConfigError("GATEWAY_TLS_CLIENT_AUTH: " + auth.error().message);
  gw::TlsOptions o;
  o.certificates = std::move(list.value());
  o.client_ca_file = cfg.get("GATEWAY_TLS_CLIENT_CA_FILE");
  o.client_auth = auth.value();
  o.address = address;
  o.port = static_cast<unsigned short>(cfg.get_int("GATEWAY_TLS_PORT"));
  o.threads = threads;
  o.watch_interval = std::chrono::milliseconds(cfg.get_int("GATEWAY_TLS_WATCH_MS"));
  return o;
}

std::string config_path(const core::EnvConfig& cfg, const core::CommandLine& options) {
  const auto it = options.find("--config");
  return it != options.end() ? it->second : cfg.get("GATEWAY_CONFIG");
}

// --check: validates the config file (parse and compile) and exits 0, or 2 naming the error.
int check_config(const core::EnvConfig& cfg, const core::CommandLine& options) {
  const std::string path = config_path(cfg, options);
  auto loaded = gw::load_config_file(path);
  if (!loaded.ok()) {
    std::cerr << path << ": " << loaded.error().message << "\n";
    return 2;
  }
  gw::UpstreamRegistry scratch(1);
  auto compiled = gw::compile(std::move(loaded.value()), scratch, 1);
  if (!compiled.ok()) {
    std::cerr << path << ": " << compiled.error().message << "\n";
    return 2;
  }
  std::cout << path << ": ok\n";
  return 0;
}

std::shared_ptr<void> wire(core::ServiceEnv& env) {
  auto g = std::make_shared<Gateway>();
  const auto& cfg = env.config;
  core::Logger* log = &env.log;
  g->config_path = config_path(cfg, env.options);
  auto loaded = gw::load_config_file(g->config_path);
  if (!loaded.ok()) throw core::ConfigError(loaded.error().message);
  const unsigned threads = env.server.threads;
  g->telemetry = std::make_unique<gw::Telemetry>(env.metrics, env.server.access_log);
  g->upstreams = std::make_unique<gw::UpstreamRegistry>(threads);
  // One verifier per stage JWT setting (jwks_url with ${stage}/${color} → that stage's keys).
  gw::Verifiers::Options vopt;
  vopt.clock = &env.clock;
  vopt.on_fetch_state = [log](const std::string& url, const std::string& e) {
    if (e.empty())
      log->info("jwks keys fetched", {{"url", url}});
    else
      log->warn("jwks fetch failed, retrying", {{"url", url}, {"error", e}});
  };
  g->verifiers = std::make_unique<gw::Verifiers>(vopt);
  Gateway* self = g.get();
  g->state = std::make_unique<gw::GatewayState>(
      *g->upstreams, [self](gw::Generation& gen) -> std::optional<std::string> {
        if (auto e = self->verifiers->attach(gen)) return e;
        self->telemetry->prepare(gen);
        return std::nullopt;
      });
  if (auto e = g->state->apply(std::move(loaded.value()))) throw core::ConfigError(*e);

  gw::ProxyOptions popt;
  popt.address = env.server.address;
  popt.port = env.server.port;
  popt.threads = threads;
  popt.https_redirect_port =
      static_cast<unsigned short>(cfg.get_int("GATEWAY_HTTPS_REDIRECT_PORT"));
  popt.hsts = cfg.get("GATEWAY_HSTS");
  g->proxy = std::make_unique<gw::ProxyServer>(
      popt, gw::ProxyDeps{*g->state, g->limiter, g->telemetry.get()});
  const auto topt = tls_options(cfg, env.server.address, threads);
  if (topt) {
    auto front = gw::TlsFront::create(*topt, *g->proxy,
                                      [log](const std::string& ev, const std::string& detail) {
                                        log->info(ev, {{"detail", detail}});
                                      });
    if (!front.ok()) throw core::ConfigError(front.error().message);
    g->tls = std::move(*front);
    env.hooks.set_main_listener(std::make_unique<EdgeListener>(*g->proxy, *g->tls, env.log));
    log->info("tls enabled", {{"port", topt->port},
                              {"certificates", topt->certificates.size()},
                              {"redirect_port", popt.https_redirect_port}});
  } else {
    env.hooks.set_main_listener(std::make_unique<core::ListenerOf<gw::ProxyServer>>(*g->proxy));
  }

  std::string token;
  try {
    token = cfg.secret_file("ADMIN_TOKEN_FILE", 16).value_or("");
  } catch (const std::exception& e) {
    throw core::ConfigError(e.what());
  }
  g->admin_deps = std::make_unique<gw::AdminDeps>(
      gw::AdminDeps{*g->state, env.metrics, env.log, token, [self] { return self->reload(); }});
  gw::register_admin_routes(g->admin_router, *g->admin_deps);
  core::ServerOptions aopt;
  aopt.address = cfg.get("ADMIN_ADDRESS");
  aopt.port = static_cast<unsigned short>(cfg.get_int("ADMIN_PORT"));
  aopt.threads = 1;
  aopt.blocking_threads = 1;
  env.hooks.add_listener("admin", g->admin_router, aopt);

  g->health = std::make_unique<gw::HealthChecker>(*g->state);
  env.hooks.add_thread_worker("upstream-health", [self](const std::stop_token& stop) {
    self->health->start();  // its own thread and event loop
    while (!core::wait_for_stop(stop, std::chrono::hours(1))) {
    }
    self->health->stop();
  });
  env.hooks.on_reload([self, log]() -> core::Status {
    if (self->tls) {
      if (auto st = self->tls->reload(); !st) {
        log->warn("tls reload failed, keeping the running certificates",
                  {{"error", st.error().message}});
      } else {
        log->info("tls certificates reloaded", {{"reloads", self->tls->reloads()}});
      }
    }
    if (auto e = self->reload()) {
      return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_config", *e);
    }
    log->info("configuration reloaded", {{"generation", self->state->current()->number}});
    return core::ok_status();
  });
  log->info("gateway configured", {{"config", g->config_path},
                                   {"threads", threads},
                                   {"generation", g->state->current()->number}});
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "gateway";
  spec.summary = "Stage-aware API gateway: /{stage}/... → that stage's services.";
  spec.default_port = 8080;
  spec.default_threads = 1;
  spec.options = {{"--config", "FILE", "gateway YAML config (overrides GATEWAY_CONFIG)"}};
  spec.commands = {{"--check", "validate the config and exit", check_config}};
  spec.declare = [](core::EnvConfig& c) {
    c.add({"ADMIN_PORT", "admin API port (never publish it)", "9901", false, false,
           core::integer_in(0, 65535)});
    c.add({"ADMIN_ADDRESS", "admin API bind address", "127.0.0.1"});
    c.add({"ADMIN_TOKEN_FILE",
           "file holding the admin bearer token, at least 16 characters (unset: admin API "
           "refuses all changes)",
           ""});
    c.add(
        {"GATEWAY_CONFIG", "gateway YAML config file (or --config)", "/etc/enkisys/gateway.yaml"});
    c.add({"GATEWAY_TLS_CERTS",
           "HTTPS: chain.pem:key.pem[,chain2.pem:key2.pem...] (PEM; chosen by SNI, the first by "
           "default; unset: no TLS listener)",
           ""});
    c.add({"GATEWAY_TLS_PORT", "HTTPS port (with GATEWAY_TLS_CERTS)", "8443", false, false,
           core::integer_in(0, 65535)});
    c.add({"GATEWAY_TLS_CLIENT_CA_FILE", "PEM CA bundle for client certificates (mTLS)", ""});
    c.add({"GATEWAY_TLS_CLIENT_AUTH", "client certificates: none, optional or required", "none"});
    c.add({"GATEWAY_TLS_WATCH_MS",
           "reload the certificate files this often when they change (0: only on SIGHUP)", "2000",
           false, false, core::integer_in(0, 3'600'000)});
    c.add({"GATEWAY_HTTPS_REDIRECT_PORT",
           "plain HTTP answers 308 to https://host:PORT (GET /health excepted); 0: serve HTTP", "0",
           false, false, core::integer_in(0, 65535)});
    c.add({"GATEWAY_HSTS", "Strict-Transport-Security of HTTPS answers (empty: none)",
           "max-age=31536000"});
  };
  spec.wire = wire;
  return core::run_service(spec, argc, argv);
}
