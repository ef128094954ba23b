// The service skeleton (run_service) through a real process: the tiny enkisys-skeleton-test
// binary, driven with the service test kit.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/process.hpp"

namespace enkisys::core::testing {
namespace {

using std::chrono::milliseconds;

ProcessEnv base_env(ProcessEnv extra = {}) {
  ProcessEnv env{{"PORT", "0"}, {"BIND_ADDRESS", "127.0.0.1"}, {"ACCESS_LOG", "off"}};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

ServiceProcess start(ProcessEnv extra = {}, std::vector<std::string> args = {}, bool wait = true) {
  return ServiceProcess(ENKISYS_SKELETON_SERVICE_BIN, base_env(std::move(extra)), std::move(args),
                        wait);
}

TEST(ServiceSkeleton, WorkersStopOnSigtermAfterRequestsDrained) {
  auto p = start({{"TEST_WORKERS", "1"}});
  ASSERT_TRUE(p.wait_healthy());
  ASSERT_TRUE(p.wait_for_output("\"worker\":\"poller\""));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(p.terminate(milliseconds(10'000)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  const std::string out = p.output();
  const auto drained = out.find("requests drained");
  const auto co = out.find("coroutine worker stopped");
  const auto th = out.find("thread worker stopped");
  ASSERT_NE(drained, std::string::npos) << out;
  ASSERT_NE(co, std::string::npos) << out;
  ASSERT_NE(th, std::string::npos) << out;
  EXPECT_LT(drained, co);
  EXPECT_LT(drained, th);
  EXPECT_NE(out.find("\"cancelled\":true"), std::string::npos) << out;
  EXPECT_NE(out.find("\"stopped\":true"), std::string::npos) << out;
  EXPECT_NE(out.find("stopped cleanly"), std::string::npos) << out;
}

TEST(ServiceSkeleton, WorkerThatOverstaysTheDeadlineExitsOne) {
  auto p = start({{"TEST_STUCK_WORKER", "1"}, {"TEST_WORKER_STOP_MS", "300"}});
  // "worker started" is logged before the worker's thread runs; a stop requested before it runs
  // ends the worker cleanly (exit 0), which is not what this test is about.
  ASSERT_TRUE(p.wait_for_output("stuck worker running"));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(p.terminate(milliseconds(10'000)), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(p.output().find("did not stop within the deadline"), std::string::npos);
}

// A service that called out keeps the connection pooled; SIGTERM must still end cleanly (the
// pooled socket is closed before the io_context it belongs to is destroyed).
TEST(ServiceSkeleton, StopsCleanlyWithPooledOutboundConnections) {
  auto upstream = start();
  const std::string url = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/health";
  for (int round = 0; round < 3; ++round) {
    auto p = start({{"TEST_CALL_URL", url}});
    const std::string raw = http_request(p.port(), "GET", "/call");
    ASSERT_NE(body_of(raw).find("\"upstream\":200"), std::string::npos) << raw;
    EXPECT_EQ(p.terminate(milliseconds(10'000)), 0) << p.output();
    EXPECT_NE(p.output().find("stopped cleanly"), std::string::npos) << p.output();
  }
  EXPECT_EQ(upstream.terminate(), 0);
}

TEST(ServiceSkeleton, FailingWorkerIsRestartedAndFailsHealth) {
  auto p = start({{"TEST_FAILING_WORKER", "1"}});
  ASSERT_TRUE(p.wait_for_output("\"failures\":3"));
  const std::string raw = http_request(p.port(), "GET", "/health");
  EXPECT_EQ(status_of(raw), 503) << raw;
  EXPECT_NE(body_of(raw).find("queue unreachable"), std::string::npos) << raw;
  EXPECT_NE(body_of(raw).find("\"failing\":\"workers\""), std::string::npos) << raw;
  EXPECT_EQ(p.terminate(), 0);
}

TEST(ServiceSkeleton, SighupCallsTheReloadHook) {
  TempDir dir;
  const auto file = dir.path() / "config";
  std::ofstream(file) << "ok\n";
  auto p = start({{"TEST_RELOAD_FILE", file.string()}});
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("\"msg\":\"reloaded\""));
  std::ofstream(file) << "broken\n";
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("reload refused, keeping the current configuration"));
  EXPECT_NE(p.output().find("\"code\":\"invalid_config\""), std::string::npos);
  EXPECT_EQ(status_of(http_request(p.port(), "GET", "/health")), 200);  // still serving
  EXPECT_EQ(p.terminate(), 0);
}

TEST(ServiceSkeleton, SighupWithoutHookIsLoggedNotFatal) {
  auto p = start();
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("SIGHUP ignored"));
  EXPECT_EQ(p.terminate(), 0);
}

TEST(ServiceSkeleton, ExtraListenerServesAndStopsWithTheMainOne) {
  auto p = start({{"ADMIN_PORT", "0"}});
  const unsigned short admin = p.port("admin");
  EXPECT_NE(admin, p.port());
  const std::string raw = http_request(admin, "GET", "/admin/ping");
  EXPECT_EQ(status_of(raw), 200) << raw;
  EXPECT_EQ(status_of(http_request(p.port(), "GET", "/admin/ping")), 404);  // own router
  EXPECT_EQ(p.terminate(), 0);
  EXPECT_THROW(http_request(admin, "GET", "/admin/ping"), std::runtime_error);  // closed
}

TEST(ServiceSkeleton, HealthcheckExitCodes) {
  auto p = start();
  ASSERT_TRUE(p.wait_healthy());
  const std::string port = std::to_string(p.port());
  auto up = start({{"PORT", port}}, {"--healthcheck"}, false);
  EXPECT_EQ(up.wait_exit(), 0) << up.output();
  EXPECT_EQ(p.terminate(), 0);
  auto down = start({{"PORT", port}}, {"--healthcheck"}, false);
  EXPECT_EQ(down.wait_exit(), 1) << down.output();
}

// A service bound to one specific address is not on 127.0.0.1: --healthcheck probes
// BIND_ADDRESS (and still 127.0.0.1 for a wildcard).
TEST(ServiceSkeleton, HealthcheckProbesTheBindAddress) {
  auto p = start({{"BIND_ADDRESS", "127.0.0.2"}});
  const std::string port = std::to_string(p.port());
  auto up = start({{"PORT", port}, {"BIND_ADDRESS", "127.0.0.2"}}, {"--healthcheck"}, false);
  EXPECT_EQ(up.wait_exit(), 0) << up.output();
  auto elsewhere = start({{"PORT", port}, {"BIND_ADDRESS", "0.0.0.0"}}, {"--healthcheck"}, false);
  EXPECT_EQ(elsewhere.wait_exit(), 1) << elsewhere.output();  // 127.0.0.1: nothing listens
  EXPECT_EQ(p.terminate(), 0);
}

TEST(ServiceSkeleton, InvalidLogLevelIsRefusedWithExitTwo) {
  auto p = start({{"LOG_LEVEL", "verbose"}}, {}, false);
  EXPECT_EQ(p.wait_exit(), 2);
  EXPECT_NE(p.output().find("LOG_LEVEL"), std::string::npos) << p.output();
  auto q = start({}, {"--no-such-option"}, false);
  EXPECT_EQ(q.wait_exit(), 2);
}

TEST(ServiceSkeleton, ListenAddressIsADeprecatedAliasOfBindAddress) {
  ProcessEnv env{{"PORT", "0"}, {"LISTEN_ADDRESS", "127.0.0.1"}, {"ACCESS_LOG", "off"}};
  ServiceProcess p(ENKISYS_SKELETON_SERVICE_BIN, env);
  EXPECT_NE(p.output().find("LISTEN_ADDRESS is deprecated"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("\"address\":\"127.0.0.1\""), std::string::npos) << p.output();
  EXPECT_TRUE(p.wait_healthy());
  EXPECT_EQ(p.terminate(), 0);
}

}  // namespace
}  // namespace enkisys::core::testing
