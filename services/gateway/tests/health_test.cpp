// Active upstream health checks against real upstreams that fail, go down and come back.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kHealthFast =
    "health_checks: {interval_ms: 20, timeout_ms: 300, healthy_threshold: 2, "
    "unhealthy_threshold: 2}\n";

// Polls `pred` until it holds or `limit` passes (bounded; returns the last answer).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = SteadyClock::now() + limit;
  while (SteadyClock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

std::shared_ptr<Upstream> upstream_of(Gateway& gw, const std::string& route) {
  for (const auto& r : gw.state().current()->stages.at(0).routes) {
    if (r.name == route) return r.primary.upstream;
  }
  ADD_FAILURE() << "no route " << route;
  return nullptr;
}

std::string error_code(const StringResponse& r) {
  return std::string(boost::json::parse(r.body()).at("error").at("code").as_string());
}

TEST(HealthCheckTest, FailingHealthEndpointTurnsRouteTo503AtOnceAndBack) {
  FakeUpstream up("svc");
  Gateway gw(std::string(kHealthFast) + replace_all(R"(
stages:
  dev:
    routes:
      - {prefix: /api/svc, name: svc, upstream: "{UP}"}
)",
                                                    "{UP}", up.url()));
  const auto u = upstream_of(gw, "svc");
  ASSERT_TRUE(eventually([&] { return u->active() == Upstream::Active::kHealthy; }));
  ASSERT_EQ(get(gw.port(), "/dev/api/svc/a").result_int(), 200);
  const int served = up.requests();

  up.set_health_status(500);
  ASSERT_TRUE(eventually([&] { return u->active() == Upstream::Active::kUnhealthy; }));
  EXPECT_EQ(u->last_probe_status(), 500);
  const auto t0 = SteadyClock::now();
  auto r = get(gw.port(), "/dev/api/svc/a");
  EXPECT_LT(SteadyClock::now() - t0, 1s);
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(error_code(r), "upstream_unavailable");
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_EQ(up.requests(), served);  // never forwarded while unhealthy

  up.set_health_status(200);
  ASSERT_TRUE(eventually([&] { return u->active() == Upstream::Active::kHealthy; }));
  EXPECT_EQ(get(gw.port(), "/dev/api/svc/a").result_int(), 200);
}

TEST(HealthCheckTest, UpstreamsThatGoDownAndComeBack) {
  auto a = std::make_unique<FakeUpstream>("a");
  auto b = std::make_unique<FakeUpstream>("b");
  const unsigned short port_a = a->port(), port_b = b->port();
  Gateway gw(std::string(kHealthFast) + replace_all(replace_all(R"(
stages:
  dev:
    routes:
      - {prefix: /api/a, name: a, upstream: "{A}"}
      - {prefix: /api/b, name: b, upstream: "{B}"}
)",
                                                                "{A}", a->url()),
                                                    "{B}", b->url()));
  const auto ua = upstream_of(gw, "a"), ub = upstream_of(gw, "b");
  ASSERT_EQ(get(gw.port(), "/dev/api/a").result_int(), 200);
  ASSERT_EQ(get(gw.port(), "/dev/api/b").result_int(), 200);

  a.reset();  // both upstreams stop: connections refused
  b.reset();
  ASSERT_TRUE(eventually([&] {
    return ua->active() == Upstream::Active::kUnhealthy &&
           ub->active() == Upstream::Active::kUnhealthy;
  }));
  EXPECT_EQ(ua->last_probe_status(), 0);  // no answer
  for (const char* path : {"/dev/api/a/x", "/dev/api/b/y"}) {
    const auto t0 = SteadyClock::now();
    auto r = get(gw.port(), path);
    EXPECT_LT(SteadyClock::now() - t0, 1s) << path;
    EXPECT_EQ(r.result_int(), 503) << path;
    EXPECT_EQ(error_code(r), "upstream_unavailable");
  }
  EXPECT_EQ(get(gw.port(), "/dev/health").result_int(), 503);

  FakeUpstream a2("a-again", port_a);  // back on the same address
  ASSERT_TRUE(eventually([&] { return ua->active() == Upstream::Active::kHealthy; }));
  auto r = get(gw.port(), "/dev/api/a/x");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(boost::json::parse(r.body()).at("name"), "a-again");
  EXPECT_EQ(get(gw.port(), "/dev/api/b/y").result_int(), 503);  // b is still down
  FakeUpstream b2("b-again", port_b);
  ASSERT_TRUE(eventually([&] { return ub->active() == Upstream::Active::kHealthy; }));
  EXPECT_EQ(get(gw.port(), "/dev/api/b/y").result_int(), 200);
}

// One route to `url` that two 5xx eject passively for 10 minutes, actively probed every
// `interval_ms`.
std::string ejecting_config(int interval_ms, const std::string& url) {
  return "health_checks: {interval_ms: " + std::to_string(interval_ms) +
         ", timeout_ms: 300, healthy_threshold: 2, unhealthy_threshold: 2}\n" +
         replace_all(R"(limits: {eject_after_failures: 2, eject_for_ms: 600000}
stages:
  dev:
    routes:
      - {prefix: /api/svc, name: svc, upstream: "{UP}", strip_prefix: true}
)",
                     "{UP}", url);
}

TEST(HealthCheckTest, ActiveSuccessLiftsAPassiveEjection) {
  FakeUpstream up("svc");
  Gateway gw(ejecting_config(200, up.url()));
  const auto u = upstream_of(gw, "svc");
  // Two 5xx from real traffic eject the upstream passively (for 10 minutes)...
  EXPECT_EQ(get(gw.port(), "/dev/api/svc/status/500").result_int(), 500);
  EXPECT_EQ(get(gw.port(), "/dev/api/svc/status/500").result_int(), 500);
  EXPECT_EQ(get(gw.port(), "/dev/api/svc/ok").result_int(), 503);
  // ... while its health endpoint answers 200: two fresh probes lift the ejection.
  ASSERT_TRUE(eventually([&] { return u->healthy(Upstream::Clock::now()); }));
  EXPECT_EQ(get(gw.port(), "/dev/api/svc/ok").result_int(), 200);
}

// /{stage}/health agrees with the routes: a service that answers its health path but that the
// gateway holds back (here passively ejected, the active checks too slow to lift it) makes the
// stage fail, so that a deploy's health gate or an operator never sees 200 while the routes
// answer 503.
TEST(HealthCheckTest, StageHealthFailsWhileTheGatewayHoldsAnUpstreamBack) {
  FakeUpstream up("svc");
  Gateway gw(ejecting_config(600000, up.url()));
  ASSERT_EQ(get(gw.port(), "/dev/health").result_int(), 200);
  EXPECT_EQ(get(gw.port(), "/dev/api/svc/status/500").result_int(), 500);
  EXPECT_EQ(get(gw.port(), "/dev/api/svc/status/500").result_int(), 500);
  ASSERT_EQ(get(gw.port(), "/dev/api/svc/ok").result_int(), 503);
  const auto r = get(gw.port(), "/dev/health");
  EXPECT_EQ(r.result_int(), 503) << r.body();
  const auto svc = boost::json::parse(r.body()).at("services").at("svc");
  EXPECT_EQ(svc.at("status"), "failing") << r.body();
  EXPECT_EQ(svc.at("http_status"), 200) << r.body();  // it answers: the gateway holds it back
  EXPECT_EQ(svc.at("routed"), false) << r.body();
}

TEST(HealthCheckTest, RoutesWithoutHealthPathAreNotProbedAndChecksCanBeDisabled) {
  FakeUpstream probed("p"), unprobed("u"), off("off");
  Gateway gw(std::string(kHealthFast) + replace_all(replace_all(R"(
stages:
  dev:
    routes:
      - {prefix: /api/p, name: p, upstream: "{P}"}
      - {prefix: /api/u, name: u, upstream: "{U}", health: null}
)",
                                                                "{P}", probed.url()),
                                                    "{U}", unprobed.url()));
  Gateway disabled(
      "health_checks: {enabled: false, interval_ms: 10}\n" +
      replace_all("stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: \"{UP}\"}\n", "{UP}",
                  off.url()));
  // While the first gateway probes three times, the second would have probed as often.
  ASSERT_TRUE(eventually([&] { return probed.health_probes() >= 3; }));
  EXPECT_EQ(unprobed.health_probes(), 0);
  EXPECT_EQ(upstream_of(gw, "u")->active(), Upstream::Active::kUnknown);
  EXPECT_EQ(off.health_probes(), 0);
  EXPECT_EQ(get(disabled.port(), "/dev/x").result_int(), 200);
}

}  // namespace
}  // namespace enkisys::gateway
