// The real enkisys-gateway binary on the service skeleton: proxy /health, admin listener with
// enkisys_build_info on /metrics, SIGHUP reload (refused without effect when the file is
// broken), --check, --healthcheck, refused configuration (exit 2), clean SIGTERM.
#include "enkisys/core/testing/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "enkisys/core/testing.hpp"

namespace enkisys::gateway::testing {
namespace {

using core::testing::body_of;
using core::testing::http_request;
using core::testing::ProcessEnv;
using core::testing::ServiceProcess;
using core::testing::status_of;
using core::testing::TempDir;

const char* const kConfig =
    "stages:\n  dev:\n    routes:\n      - {prefix: /api/tools, upstream: "
    "\"http://127.0.0.1:9\"}\n";

class GatewayProcess : public ::testing::Test {
 protected:
  GatewayProcess() {
    std::ofstream(config_) << kConfig;
    std::ofstream(token_) << "admin-token-0123456789\n";
  }
  ProcessEnv env(ProcessEnv extra = {}) const {
    ProcessEnv e{{"PORT", "0"},
                 {"BIND_ADDRESS", "127.0.0.1"},
                 {"ADMIN_PORT", "0"},
                 {"ACCESS_LOG", "off"},
                 {"GATEWAY_CONFIG", config_.string()},
                 {"ADMIN_TOKEN_FILE", token_.string()}};
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
  }
  TempDir dir_;
  std::filesystem::path config_ = dir_.path() / "gateway.yaml";
  std::filesystem::path token_ = dir_.path() / "admin-token";
};

TEST_F(GatewayProcess, ServesHealthAdminMetricsAndReloadsOnSighup) {
  ServiceProcess p(ENKISYS_GATEWAY_BIN, env());
  ASSERT_TRUE(p.wait_healthy());
  const std::string health = body_of(http_request(p.port(), "GET", "/health"));
  EXPECT_NE(health.find("\"service\":\"gateway\""), std::string::npos) << health;
  EXPECT_NE(health.find("\"checks\":{\"config\":{\"ok\":true}}"), std::string::npos) << health;
  const auto metrics = http_request(p.port("admin"), "GET", "/metrics");
  EXPECT_EQ(status_of(metrics), 200);
  EXPECT_NE(body_of(metrics).find("enkisys_build_info{service=\"gateway\""), std::string::npos)
      << body_of(metrics);

  std::ofstream(config_) << "stages: [\n";  // broken: refused, the old generation keeps serving
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("reload refused, keeping the current configuration"));
  EXPECT_EQ(status_of(http_request(p.port(), "GET", "/dev/api/tools/x")), 502);
  std::ofstream(config_) << kConfig;
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for_output("\"msg\":\"reloaded\""));
  EXPECT_NE(p.output().find("\"generation\":2"), std::string::npos) << p.output();

  auto hc = ServiceProcess(ENKISYS_GATEWAY_BIN, env({{"PORT", std::to_string(p.port())}}),
                           {"--healthcheck"}, false);
  EXPECT_EQ(hc.wait_exit(), 0);
  EXPECT_EQ(p.terminate(), 0);
}

TEST_F(GatewayProcess, CheckAndRefusedConfigurationExitTwo) {
  ServiceProcess ok(ENKISYS_GATEWAY_BIN, env(), {"--check", "--config", config_.string()}, false);
  EXPECT_EQ(ok.wait_exit(), 0) << ok.output();
  const auto broken = dir_.path() / "broken.yaml";
  std::ofstream(broken) << "stages: [\n";
  ServiceProcess bad(ENKISYS_GATEWAY_BIN, env(), {"--check", "--config", broken.string()}, false);
  EXPECT_EQ(bad.wait_exit(), 2);
  ServiceProcess start_bad(ENKISYS_GATEWAY_BIN, env({{"GATEWAY_CONFIG", broken.string()}}), {},
                           false);
  EXPECT_EQ(start_bad.wait_exit(), 2);
  std::ofstream(token_) << "short\n";
  ServiceProcess short_token(ENKISYS_GATEWAY_BIN, env(), {}, false);
  EXPECT_EQ(short_token.wait_exit(), 2);
  EXPECT_NE(short_token.output().find("ADMIN_TOKEN_FILE"), std::string::npos);
  ServiceProcess level(ENKISYS_GATEWAY_BIN, env({{"LOG_LEVEL", "loud"}}), {}, false);
  EXPECT_EQ(level.wait_exit(), 2);
}

}  // namespace
}  // namespace enkisys::gateway::testing
