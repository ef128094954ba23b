#include "fake_service.hpp"

#include "enkisys/core/http.hpp"
#include "enkisys/core/testing.hpp"

namespace enkisys::monitoring::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;

FakeService::FakeService() {
  router_.add(http::verb::get, "/health",
              [this](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
                core::Response res{static_cast<http::status>(health.load()), req.version()};
                res.body() = "{}";
                res.prepare_payload();
                co_return res;
              });
  router_.add(http::verb::get, "/metrics",
              [this](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
                ++metrics_scrapes;
                const long total = ok + errors;
                std::string m =
                    "# HELP http_requests_total HTTP requests by route, method and status.\n"
                    "# TYPE http_requests_total counter\n"
                    "http_requests_total{route=\"/api/x\",method=\"GET\",status=\"200\"} " +
                    std::to_string(ok.load()) +
                    "\nhttp_requests_total{route=\"/api/x\",method=\"GET\",status=\"503\"} " +
                    std::to_string(errors.load()) +
                    "\n# TYPE http_request_duration_seconds histogram\n"
                    "http_request_duration_seconds_bucket{route=\"/api/x\",le=\"0.005\"} " +
                    std::to_string(fast.load()) +
                    "\nhttp_request_duration_seconds_bucket{route=\"/api/x\",le=\"2.5\"} " +
                    std::to_string(total) +
                    "\nhttp_request_duration_seconds_bucket{route=\"/api/x\",le=\"+Inf\"} " +
                    std::to_string(total) +
                    "\n# TYPE enkisys_build_info gauge\n"
                    "enkisys_build_info{service=\"fake\",version=\"v1.2.3\"} 1\n";
                core::Response res{http::status::ok, req.version()};
                res.set(http::field::content_type, "text/plain; version=0.0.4");
                res.body() = std::move(m);
                res.prepare_payload();
                co_return res;
              });
  start();
}

FakeService::~FakeService() {
  stop();
}

void FakeService::start() {
  core::ServerOptions o;
  o.address = "127.0.0.1";
  o.port = port_;
  o.handle_signals = false;
  o.access_log = false;
  server_ = std::make_unique<core::HttpServer>(o, router_, log_, metrics_);
  server_->listen();
  port_ = server_->port();
  thread_ = std::thread([s = server_.get()] { s->run(); });
}

void FakeService::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
  server_.reset();
}

struct FakeWebhook::Impl {
  mutable std::mutex mu;
  std::vector<std::string> bodies;
  std::unique_ptr<core::testing::TestServer> server;
};

FakeWebhook::FakeWebhook() : impl_(std::make_unique<Impl>()) {
  Impl* im = impl_.get();
  impl_->server = std::make_unique<core::testing::TestServer>([im](core::Router& r) {
    r.add(http::verb::post, "/hook",
          [im](core::Request& req, core::RequestContext&) -> asio::awaitable<core::Response> {
            {
              std::lock_guard lock(im->mu);
              im->bodies.push_back(req.body());
            }
            core::Response res{http::status::ok, req.version()};
            res.body() = "ok";
            res.prepare_payload();
            co_return res;
          });
  });
}

FakeWebhook::~FakeWebhook() = default;

std::string FakeWebhook::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->server->port()) + "/hook";
}

int FakeWebhook::count() const {
  std::lock_guard lock(impl_->mu);
  return static_cast<int>(impl_->bodies.size());
}

std::vector<std::string> FakeWebhook::bodies() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bodies;
}

}  // namespace enkisys::monitoring::testing
