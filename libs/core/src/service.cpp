#include "enkisys/core/service.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdlib>
#include <iostream>

namespace enkisys::core {

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;

// GET http://127.0.0.1:port/health with a short deadline; 0 iff the answer is 200.
int healthcheck(unsigned short port) {
  try {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(3));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> req{http::verb::get, "/health", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::user_agent, "enkisys-healthcheck");
    req.keep_alive(false);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    std::cout << res.body() << "\n";
    return res.result() == http::status::ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "healthcheck failed: " << e.what() << "\n";
    return 1;
  }
}

void declare_common(EnvConfig& cfg, const ServiceSpec& spec) {
  cfg.add({"PORT", "TCP port to listen on (0: chosen by the OS, logged at start)",
           std::to_string(spec.default_port), false, false, integer_in(0, 65535)});
  cfg.add({"BIND_ADDRESS", "address to listen on", "0.0.0.0"});
  cfg.add({"LOG_LEVEL", "debug | info | warn | error", "info", false, false,
           one_of({"debug", "info", "warn", "warning", "error"})});
  cfg.add({"THREADS", "I/O threads", "2", false, false, integer_in(1, 256)});
  cfg.add({"BLOCKING_THREADS", "threads for database and file work", "4", false, false,
           integer_in(1, 256)});
  cfg.add({"MAX_BODY_BYTES", "largest accepted request body", "1048576", false, false,
           integer_in(1024, 64LL * 1024 * 1024)});
  cfg.add({"ACCESS_LOG", "one JSON log line per request: on | off", "on", false, false,
           one_of({"on", "off"})});
}
}  // namespace

int run_service(const ServiceSpec& spec, int argc, char** argv) {
  EnvConfig cfg("enkisys-" + spec.name, spec.summary);
  declare_common(cfg, spec);
  if (spec.declare) spec.declare(cfg);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << cfg.help_text();
      return 0;
    }
    if (arg == "--version") {
      std::cout << "enkisys-" << spec.name << " " << ENKISYS_VERSION << "\n";
      return 0;
    }
    if (arg != "--healthcheck") {
      std::cerr << "unknown argument: " << arg << " (see --help)\n";
      return 2;
    }
  }
  std::string error;
  if (!cfg.load([](const char* n) { return std::getenv(n); }, &error)) {
    std::cerr << "enkisys-" << spec.name << ": invalid configuration:\n" << error << "\n";
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--healthcheck") {
      return healthcheck(static_cast<unsigned short>(cfg.get_int("PORT")));
    }
  }
  LogLevel level = LogLevel::kInfo;
  parse_log_level(cfg.get("LOG_LEVEL"), &level);
  Logger log(spec.name, level);
  MetricsRegistry metrics;
  metrics.gauge("enkisys_build_info", "Build information.", {"service", "version"})
      .with({spec.name, ENKISYS_VERSION})
      .set(1);
  HealthRegistry health(spec.name, ENKISYS_VERSION);
  Router router;
  ServerOptions opts;
  opts.address = cfg.get("BIND_ADDRESS");
  opts.port = static_cast<unsigned short>(cfg.get_int("PORT"));
  opts.threads = static_cast<unsigned>(cfg.get_int("THREADS"));
  opts.blocking_threads = static_cast<unsigned>(cfg.get_int("BLOCKING_THREADS"));
  opts.max_body_bytes = static_cast<std::size_t>(cfg.get_int("MAX_BODY_BYTES"));
  opts.access_log = cfg.get("ACCESS_LOG") == "on";

  ServiceEnv env{cfg, log, metrics, health, router, opts};
  std::shared_ptr<void> keep;
  try {
    keep = spec.wire(env);
  } catch (const std::exception& e) {
    log.error("cannot start", {{"error", e.what()}});
    return 1;
  }
  router.add(http::verb::get, "/metrics",
             [&metrics](Request&, RequestContext&) -> boost::asio::awaitable<Response> {
               Response res{http::status::ok, 11};
               res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
               res.body() = metrics.render();
               res.prepare_payload();
               co_return res;
             });
  router.add(http::verb::get, "/health",
             [&health](Request&, RequestContext& ctx) -> boost::asio::awaitable<Response> {
               auto [body, ok] = co_await ctx.blocking([&health] {
                 bool healthy = false;
                 auto b = health.evaluate(&healthy);
                 return std::make_pair(std::move(b), healthy);
               });
               co_return json_response(ok ? http::status::ok : http::status::service_unavailable,
                                       body);
             });
  try {
    HttpServer server(opts, router, log, metrics);
    server.listen();
    log.info("listening",
             {{"address", opts.address}, {"port", server.port()}, {"version", ENKISYS_VERSION}});
    server.run();
    log.info("stopped cleanly");
  } catch (const std::exception& e) {
    log.error("server failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}

}  // namespace enkisys::core
