// The real binary: starts on port 0, polls a fake service, refuses bad targets.
#include "enkisys/core/testing/process.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "enkisys/core/testing.hpp"
#include "fake_service.hpp"

namespace enkisys::monitoring {
namespace {

namespace json = boost::json;
using core::testing::ServiceProcess;

TEST(ProcessTest, PollsTargetsAndKeepsHistoryAcrossARestart) {
  core::testing::TempDir dir;
  testing::FakeService tools;
  const core::testing::ProcessEnv env{
      {"PORT", "0"},
      {"BIND_ADDRESS", "127.0.0.1"},
      {"DATABASE_URL", "sqlite://" + (dir.path() / "m.db").string()},
      {"MONITOR_INTERVAL_S", "1"},
      {"MONITOR_TARGETS", "dev:tools=" + tools.url()}};
  auto status = [](unsigned short port) {
    return json::parse(
        core::testing::body_of(core::testing::http_request(port, "GET", "/api/status")));
  };
  for (int run = 0; run < 2; ++run) {
    ServiceProcess p(ENKISYS_MONITORING_BIN, env);
    ASSERT_TRUE(p.wait_healthy());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
      const auto s = status(p.port());
      const auto& svc = s.at("stages").as_array()[0].at("services").as_array()[0];
      seen = svc.at("state") == "up" && svc.at("uptime").as_object().contains("1h");
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(seen) << "run " << run;
    EXPECT_EQ(p.terminate(), 0);
  }
  EXPECT_GE(tools.metrics_scrapes.load(), 2);
}

TEST(ProcessConfig, StartsHealthyWithoutTargets) {
  core::testing::TempDir dir;
  ServiceProcess p(ENKISYS_MONITORING_BIN,
                   {{"PORT", "0"},
                    {"BIND_ADDRESS", "127.0.0.1"},
                    {"DATABASE_URL", "sqlite://" + (dir.path() / "m.db").string()}});
  ASSERT_TRUE(p.wait_healthy());
  EXPECT_EQ(core::testing::status_of(core::testing::http_request(p.port(), "GET", "/api/status")),
            200);
  EXPECT_EQ(p.terminate(), 0);
}

TEST(ProcessConfig, BadTargetsAreRefusedAtStart) {
  ServiceProcess p(ENKISYS_MONITORING_BIN, {{"PORT", "0"}, {"MONITOR_TARGETS", "nonsense"}}, {},
                   false);
  EXPECT_EQ(p.wait_exit(), 2);
}

}  // namespace
}  // namespace enkisys::monitoring
