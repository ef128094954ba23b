#include "enkisys/gateway/health_checker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <set>

namespace enkisys::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kTok = asio::as_tuple(asio::use_awaitable);
}

struct HealthChecker::Impl {
  explicit Impl(GatewayState& s) : state(s), timer(ioc) {}
  GatewayState& state;
  asio::io_context ioc{1};
  asio::steady_timer timer;
  std::set<const Upstream*> in_flight;  // touched on the checker thread only
  std::thread thread;
  bool started = false;

  // The upstream's addresses from DNS now; empty when it does not resolve within `timeout`.
  asio::awaitable<std::vector<tcp::endpoint>> resolve(const Upstream& up,
                                                      std::chrono::milliseconds timeout) {
    tcp::resolver resolver(ioc);
    asio::steady_timer guard(ioc);  // resolves are not covered by the stream's deadline
    guard.expires_after(timeout);
    guard.async_wait([&resolver](const boost::system::error_code& ec) {
      if (!ec) resolver.cancel();
    });
    auto [rec, results] = co_await resolver.async_resolve(up.host(), up.port(), kTok);
    guard.cancel();
    std::vector<tcp::endpoint> eps;
    if (!rec) {
      for (const auto& e : results) eps.push_back(e.endpoint());
    }
    co_return eps;
  }

  // Returns the probe's HTTP status, or 0 when there was no (complete) answer in time.
  // The addresses the proxy cached are tried first; when none of them connects, the name is
  // resolved again (the service moved: a task or a color replaced) and the fresh addresses,
  // when they answer, are handed to the proxy. Without that, an upstream marked unhealthy
  // would stay so: the proxy answers 503 at once for it, so nothing else refreshes the cache.
  asio::awaitable<int> probe_once(std::shared_ptr<Upstream> up, std::string path,
                                  std::chrono::milliseconds timeout) {
    beast::tcp_stream stream(ioc);
    auto eps = up->endpoints();
    const bool cached = !eps.empty();
    if (!cached) eps = co_await resolve(*up, timeout);
    if (eps.empty()) co_return 0;
    stream.expires_after(timeout);
    auto [cec, ep] = co_await stream.async_connect(eps, kTok);
    if (cec && cached) {
      eps = co_await resolve(*up, timeout);
      if (eps.empty()) co_return 0;
      stream.expires_after(timeout);
      std::tie(cec, ep) = co_await stream.async_connect(eps, kTok);
      if (!cec) up->set_endpoints(eps);
    }
    if (cec) co_return 0;
    http::request<http::empty_body> req{http::verb::get, path, 11};
    req.set(http::field::host, up->authority());
    req.set(http::field::user_agent, "enkisys-gateway-health");
    req.keep_alive(false);
    auto [wec, wn] = co_await http::async_write(stream, req, kTok);
    if (wec) co_return 0;
    beast::flat_buffer buf;
    http::response_parser<http::string_body> p;
    p.body_limit(64 * 1024);
    auto [rec, rn] = co_await http::async_read(stream, buf, p, kTok);
    if (rec) co_return 0;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return static_cast<int>(p.get().result_int());
  }

  asio::awaitable<void> probe(std::shared_ptr<Upstream> up, std::string path,
                              HealthCheckConfig cfg) {
    const int status = co_await probe_once(up, std::move(path), cfg.timeout);
    up->record_probe(status >= 200 && status < 300, status, cfg.healthy_threshold,
                     cfg.unhealthy_threshold);
    in_flight.erase(up.get());
  }

  asio::awaitable<void> loop() {
    for (;;) {
      const auto gen = state.current();
      HealthCheckConfig cfg;
      if (gen) cfg = gen->config.health_checks;
      if (gen && cfg.enabled) {
        // Each upstream once, with the health path of the first route that names it.
        std::map<const Upstream*, std::pair<std::shared_ptr<Upstream>, std::string>> targets;
        for (const auto& st : gen->stages) {
          for (const auto& r : st.routes) {
            if (r.health_path.empty()) continue;
            for (const Target* t : {&r.primary, &r.canary}) {
              if (t->upstream)
                targets.try_emplace(t->upstream.get(), t->upstream, t->base_path + r.health_path);
            }
          }
        }
        for (auto& [raw, target] : targets) {
          if (!in_flight.insert(raw).second) continue;  // previous probe still running
          asio::co_spawn(ioc, probe(target.first, std::move(target.second), cfg), asio::detached);
        }
      }
      timer.expires_after(cfg.interval);
      auto [ec] = co_await timer.async_wait(kTok);
      if (ec) co_return;
    }
  }
};

HealthChecker::HealthChecker(GatewayState& state) : impl_(std::make_unique<Impl>(state)) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::start() {
  if (impl_->started) return;
  impl_->started = true;
  asio::co_spawn(impl_->ioc, impl_->loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

void HealthChecker::stop() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace enkisys::gateway
