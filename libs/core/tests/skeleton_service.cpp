// enkisys-skeleton-test: a tiny service built only for the tests of the service skeleton
// (skeleton_test.cpp). Every hook of run_service is switched on by a variable.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "enkisys/core/service.hpp"

namespace {

using namespace enkisys;
namespace asio = boost::asio;

struct TestService {
  core::Router admin;
  core::Logger* log = nullptr;
};

// Waits for an hour or until stopped; logs how it ended.
asio::awaitable<void> coroutine_worker(core::Logger* log, std::stop_token) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  log->info("coroutine worker stopped", {{"cancelled", ec == asio::error::operation_aborted}});
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "skeleton-test";
  spec.summary = "test service of the service skeleton";
  spec.default_port = 0;
  if (const char* ms = std::getenv("TEST_WORKER_STOP_MS")) {
    spec.worker_stop_timeout = std::chrono::milliseconds(std::atoi(ms));
  }
  spec.declare = [](core::EnvConfig& c) {
    c.add({"TEST_WORKERS", "1: a coroutine and a thread worker", "0"});
    c.add({"TEST_FAILING_WORKER", "1: a thread worker that always throws", "0"});
    c.add({"TEST_STUCK_WORKER", "1: a thread worker that ignores its stop token", "0"});
    c.add({"TEST_RELOAD_FILE", "reload hook: the file must hold 'ok'", ""});
    c.add({"TEST_CALL_URL", "GET /call fetches this URL with the service's HTTP client", ""});
    c.add({"ADMIN_PORT", "extra listener port (unset: none)", ""});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto s = std::make_shared<TestService>();
    s->log = &env.log;
    core::Logger* log = &env.log;
    if (env.config.get("TEST_WORKERS") == "1") {
      env.hooks.add_worker(
          "ticker", [log](std::stop_token t) { return coroutine_worker(log, std::move(t)); });
      env.hooks.add_thread_worker("poller", [log](const std::stop_token& t) {
        const bool stopped = core::wait_for_stop(t, std::chrono::hours(1));
        log->info("thread worker stopped", {{"stopped", stopped}});
      });
    }
    if (env.config.get("TEST_FAILING_WORKER") == "1") {
      core::WorkerPolicy p;
      p.initial_backoff = std::chrono::milliseconds(10);
      p.max_backoff = std::chrono::milliseconds(40);
      env.hooks.add_thread_worker(
          "broken", [](const std::stop_token&) { throw std::runtime_error("queue unreachable"); },
          p);
    }
    if (env.config.get("TEST_STUCK_WORKER") == "1") {
      env.hooks.add_thread_worker("stuck", [log](const std::stop_token&) {
        log->info("stuck worker running");  // the test waits for this, not for "worker started"
        core::wait_for_stop(std::stop_token{}, std::chrono::seconds(60));  // ignores its token
      });
    }
    if (!env.config.get("TEST_RELOAD_FILE").empty()) {
      env.hooks.on_reload([path = env.config.get("TEST_RELOAD_FILE")]() -> core::Status {
        if (read_file(path).rfind("ok", 0) == 0) return core::ok_status();
        return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_config",
                                path + " does not hold ok");
      });
    }
    if (!env.config.get("TEST_CALL_URL").empty()) {
      // GET /call: one outbound request through the service's HttpClient, whose connection is
      // then pooled (a pooled socket must not outlive its io_context at shutdown).
      core::HttpSender* http = &env.http;
      std::string url = env.config.get("TEST_CALL_URL");
      env.router.add(
          core::http::verb::get, "/call",
          [http, url](core::Request&, core::RequestContext&) -> asio::awaitable<core::Response> {
            core::ClientRequest req;
            req.url = url;
            auto res = co_await http->send(std::move(req));
            const unsigned status = res ? res->status : 0;
            co_return core::json_response(core::http::status::ok,
                                          boost::json::object{{"upstream", status}});
          });
    }
    if (!env.config.get("ADMIN_PORT").empty()) {
      s->admin.add(core::http::verb::get, "/admin/ping",
                   [](core::Request&, core::RequestContext&) -> asio::awaitable<core::Response> {
                     co_return core::json_response(core::http::status::ok,
                                                   boost::json::object{{"pong", true}});
                   });
      core::ServerOptions o;
      o.address = "127.0.0.1";
      o.port = static_cast<unsigned short>(env.config.get_int("ADMIN_PORT"));
      o.threads = 1;
      o.blocking_threads = 1;
      env.hooks.add_listener("admin", s->admin, o);
    }
    return s;
  };
  return core::run_service(spec, argc, argv);
}
