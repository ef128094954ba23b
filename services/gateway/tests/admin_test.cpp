// Reload, blue/green variables, canary and the admin HTTP API.
#include "enkisys/gateway/admin.hpp"

#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "enkisys/core/server.hpp"
#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string config_with_url(const std::string& url) {
  return "stages:\n  dev:\n    variables: {app: \"" + url +
         "\"}\n    routes:\n      - {prefix: /, upstream: \"${app}\"}\n";
}
std::string name_of(const StringResponse& r) {
  return std::string(boost::json::parse(r.body()).at("name").as_string());
}

TEST(ReloadTest, ReloadUnderLoadLosesNoRequest) {
  FakeUpstream blue("blue"), green("green");
  Gateway gw(config_with_url(blue.url()), 2);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      asio::io_context ioc;
      beast::tcp_stream s(ioc);
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw.port()));
      beast::flat_buffer b;
      for (int i = 0; i < 100000 && !stop; ++i) {  // keep-alive connection across reloads
        s.expires_after(std::chrono::seconds(5));
        boost::system::error_code ec;
        http::request<http::empty_body> req{http::verb::get, "/dev/x", 11};
        req.set(http::field::host, "gw.test");  // HTTP/1.1 requires Host
        http::write(s, req, ec);
        StringResponse res;
        if (!ec) http::read(s, b, res, ec);
        if (!ec && res.result_int() == 200)
          ok++;
        else
          failed++;
        if (ec) return;
      }
    });
  }
  // Requests must be in flight across the reloads: wait (bounded) until some were answered
  // before the first reload and after each one, however slowly a busy machine starts them.
  auto answered_after = [&](int before) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ok.load() + failed.load() <= before && std::chrono::steady_clock::now() < until) {
      std::this_thread::yield();
    }
  };
  answered_after(0);
  for (int i = 0; i < 40; ++i) {
    const auto& up = i % 2 ? green : blue;
    const int before = ok.load() + failed.load();
    ASSERT_FALSE(gw.state().apply(parse_or_die(config_with_url(up.url()))));
    // An invalid config is refused and the old one keeps serving.
    auto bad = parse_or_die(config_with_url(up.url()));
    bad.stages[0].variables["app"] = "http://127.0.0.1:99999";
    EXPECT_TRUE(gw.state().apply(std::move(bad)).has_value());
    answered_after(before);
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(blue.requests(), 0);
  EXPECT_EQ(gw.state().current()->number, 41u);
}

TEST(ReloadTest, BlueGreenSwitchByVariables) {
  FakeUpstream blue("blue"), green("green");
  Gateway gw(config_with_url(blue.url()));
  EXPECT_EQ(name_of(get(gw.port(), "/dev/x")), "blue");
  ASSERT_FALSE(gw.state().update([&](GatewayConfig& c) -> std::optional<std::string> {
    c.stages[0].variables["app"] = green.url();
    return std::nullopt;
  }));
  EXPECT_EQ(name_of(get(gw.port(), "/dev/x")), "green");
}

TEST(CanaryTest, SplitIsWithinToleranceAndSticky) {
  FakeUpstream blue("blue"), green("green");
  Gateway gw(config_with_url(blue.url()));
  ASSERT_FALSE(gw.state().update([&](GatewayConfig& c) -> std::optional<std::string> {
    c.stages[0].canary_percent = 20;
    c.stages[0].canary_variables["app"] = green.url();
    return std::nullopt;
  }));
  int canary = 0;
  const int kClients = 2000;
  std::string canary_cookie;
  for (int i = 0; i < kClients; ++i) {  // each a new client: no cookie yet
    auto r = get(gw.port(), "/dev/x");
    ASSERT_EQ(r.result_int(), 200);
    const bool is_canary = name_of(r) == "green";
    canary += is_canary;
    const std::string cookie(r[http::field::set_cookie]);
    ASSERT_EQ(cookie.rfind(is_canary ? "enk_canary_dev=1" : "enk_canary_dev=0", 0), 0u) << cookie;
    if (is_canary) canary_cookie = cookie.substr(0, cookie.find(';'));
  }
  const double share = static_cast<double>(canary) / kClients;
  EXPECT_NEAR(share, 0.20, 0.04);  // 4.5 sigma for n=2000
  ASSERT_FALSE(canary_cookie.empty());
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(name_of(get(gw.port(), "/dev/x", {{"Cookie", "a=b; " + canary_cookie}})), "green");
    EXPECT_EQ(name_of(get(gw.port(), "/dev/x", {{"Cookie", "enk_canary_dev=0"}})), "blue");
  }
}

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest()
      : gw_("health_checks: {interval_ms: 20, timeout_ms: 300, healthy_threshold: 1, "
            "unhealthy_threshold: 1}\n" +
            config_with_url(blue_.url())),
        log_("gateway-test", enkisys::core::LogLevel::kError),
        deps_{gw_.state(), gw_.metrics(), log_, "secret-admin-token-123",
              [] { return std::optional<std::string>("no file"); }} {
    register_admin_routes(router_, deps_);
    enkisys::core::ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.threads = 1;
    o.handle_signals = false;
    o.access_log = false;
    server_ = std::make_unique<enkisys::core::HttpServer>(o, router_, log_, gw_.metrics());
    server_->listen();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~AdminApiTest() override {
    server_->stop();
    thread_.join();
  }
  StringResponse admin(http::verb m, const std::string& target, const std::string& body = {},
                       bool token = true) {
    std::map<std::string, std::string> h;
    if (token) h["Authorization"] = "Bearer secret-admin-token-123";
    if (!body.empty()) h["Content-Type"] = "application/json";
    return request(server_->port(), m, target, h, body);
  }
  FakeUpstream blue_{"blue"}, green_{"green"};
  Gateway gw_;
  enkisys::core::Logger log_;
  AdminDeps deps_;
  enkisys::core::Router router_;
  std::unique_ptr<enkisys::core::HttpServer> server_;
  std::thread thread_;
};

TEST_F(AdminApiTest, RequiresTheBearerToken) {
  EXPECT_EQ(admin(http::verb::get, "/admin/stages", {}, false).result_int(), 401);
  auto r = request(server_->port(), http::verb::get, "/admin/stages",
                   {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r.result_int(), 401);
  auto ok = admin(http::verb::get, "/admin/stages");
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_NE(ok.body().find("\"name\":\"dev\""), std::string::npos);
  EXPECT_EQ(admin(http::verb::get, "/metrics", {}, false).result_int(), 200);
}

TEST_F(AdminApiTest, StagesShowActiveUpstreamHealth) {
  auto health_of = [&] {
    auto r = admin(http::verb::get, "/admin/stages");
    const auto route = boost::json::parse(r.body()).at("stages").at(0).at("routes").at(0);
    return std::make_pair(route.at("healthy").as_bool(),
                          std::string(route.at("health").at("active").as_string()));
  };
  auto wait_for = [&](bool healthy, const char* active) {
    for (int i = 0; i < 500; ++i) {  // bounded: 500 polls of the admin API
      if (health_of() == std::make_pair(healthy, std::string(active))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_TRUE(wait_for(true, "healthy"));
  blue_.set_health_status(503);
  EXPECT_TRUE(wait_for(false, "unhealthy"));
  auto body = boost::json::parse(admin(http::verb::get, "/admin/stages").body());
  EXPECT_EQ(body.at("stages").at(0).at("routes").at(0).at("health").at("last_probe_status"), 503);
  EXPECT_EQ(get(gw_.port(), "/dev/x").result_int(), 503);
  blue_.set_health_status(200);
  EXPECT_TRUE(wait_for(true, "healthy"));
  EXPECT_EQ(get(gw_.port(), "/dev/x").result_int(), 200);
}

// An upstream marked unhealthy whose cached addresses went stale (the service moved: a swarm
// task or a color replaced) recovers once it answers at its name again: the probe resolves
// afresh when the cached addresses do not connect, and hands the fresh ones to the proxy
// (which answers 503 at once for an unhealthy upstream, so it would never refresh them).
TEST_F(AdminApiTest, AnUnhealthyUpstreamThatMovedRecoversAtItsNewAddress) {
  auto route_healthy = [&] {
    auto r = admin(http::verb::get, "/admin/stages");
    return boost::json::parse(r.body())
        .at("stages")
        .at(0)
        .at("routes")
        .at(0)
        .at("healthy")
        .as_bool();
  };
  auto wait_for = [&](bool healthy) {
    for (int i = 0; i < 500; ++i) {  // bounded: 500 polls of the admin API
      if (route_healthy() == healthy) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(wait_for(true));
  blue_.set_health_status(503);
  ASSERT_TRUE(wait_for(false));
  // The address the proxy had cached is gone: nothing listens there any more.
  tcp::endpoint gone;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    gone = a.local_endpoint();
  }
  const auto up = gw_.state().current()->stages.at(0).routes.at(0).primary.upstream;
  ASSERT_TRUE(up);
  up->set_endpoints({gone});
  blue_.set_health_status(200);
  EXPECT_TRUE(wait_for(true));
  EXPECT_EQ(get(gw_.port(), "/dev/x").result_int(), 200);
  const auto eps = up->endpoints();
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_NE(eps.front().port(), gone.port());
}

TEST_F(AdminApiTest, PutVariablesSwitchesTrafficAtomically) {
  EXPECT_EQ(name_of(get(gw_.port(), "/dev/x")), "blue");
  auto r = admin(http::verb::put, "/admin/stages/dev/variables",
                 "{\"variables\":{\"app\":\"" + green_.url() + "\"}}");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(name_of(get(gw_.port(), "/dev/x")), "green");
  auto bad =
      admin(http::verb::put, "/admin/stages/dev/variables", "{\"variables\":{\"other\":\"x\"}}");
  EXPECT_EQ(bad.result_int(), 400);  // ${app} no longer defined: refused, old config serves
  EXPECT_EQ(name_of(get(gw_.port(), "/dev/x")), "green");
  EXPECT_EQ(
      admin(http::verb::put, "/admin/stages/nope/variables", "{\"variables\":{}}").result_int(),
      404);
}

TEST_F(AdminApiTest, PauseResumeAndCanaryLifecycle) {
  ASSERT_EQ(admin(http::verb::post, "/admin/stages/dev/pause").result_int(), 200);
  EXPECT_EQ(get(gw_.port(), "/dev/x").result_int(), 503);
  ASSERT_EQ(admin(http::verb::post, "/admin/stages/dev/resume").result_int(), 200);
  EXPECT_EQ(get(gw_.port(), "/dev/x").result_int(), 200);
  ASSERT_EQ(admin(http::verb::put, "/admin/stages/dev/canary",
                  "{\"percent\":100,\"variables\":{\"app\":\"" + green_.url() + "\"}}")
                .result_int(),
            200);
  EXPECT_EQ(name_of(get(gw_.port(), "/dev/x")), "green");
  ASSERT_EQ(admin(http::verb::delete_, "/admin/stages/dev/canary").result_int(), 200);
  EXPECT_EQ(name_of(get(gw_.port(), "/dev/x", {{"Cookie", "enk_canary_dev=1"}})), "blue");
  ASSERT_EQ(admin(http::verb::put, "/admin/stages/dev/canary",
                  "{\"percent\":10,\"variables\":{\"app\":\"" + green_.url() + "\"}}")
                .result_int(),
            200);
  ASSERT_EQ(admin(http::verb::post, "/admin/stages/dev/canary/promote").result_int(), 200);
  EXPECT_EQ(name_of(get(gw_.port(), "/dev/x")), "green");
  EXPECT_EQ(admin(http::verb::post, "/admin/reload").result_int(),
            400);  // reload hook reports its error
}

}  // namespace
}  // namespace enkisys::gateway
