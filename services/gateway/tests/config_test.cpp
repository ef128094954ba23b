#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "enkisys/gateway/auth.hpp"
#include "enkisys/gateway/route_table.hpp"
#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

const char* kMinimal = R"(
stages:
  dev:
    variables: {color: blue}
    routes:
      - {prefix: /api/tools, upstream: "http://tools-${color}.${stage}:5001"}
      - {prefix: /, upstream: "http://frontend.${stage}:5000"}
)";

TEST(ConfigTest, ParsesStagesRoutesAndVariables) {
  auto c = load_config_text(kMinimal);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->stages.size(), 1u);
  EXPECT_EQ(c->stages[0].name, "dev");
  EXPECT_EQ(c->stages[0].variables.at("color"), "blue");
  UpstreamRegistry reg(1);
  auto gen = compile(std::move(c.value()), reg, 1);
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  EXPECT_EQ((gen.value())->stages[0].routes[0].primary.url, "http://tools-blue.dev:5001");
  EXPECT_EQ((gen.value())->stages[0].routes[0].primary.upstream->authority(),
            "tools-blue.dev:5001");
}

TEST(ConfigTest, HealthChecksHaveDefaultsAndAreValidated) {
  auto d = load_config_text(kMinimal);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(d->health_checks.enabled);
  EXPECT_EQ(d->health_checks.interval, std::chrono::milliseconds(5000));
  EXPECT_EQ(d->health_checks.timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(d->health_checks.healthy_threshold, 2);
  EXPECT_EQ(d->health_checks.unhealthy_threshold, 3);
  auto c = load_config_text(std::string("health_checks: {interval_ms: 250, timeout_ms: 100, "
                                        "healthy_threshold: 1, unhealthy_threshold: 4}\n") +
                            kMinimal);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->health_checks.interval, std::chrono::milliseconds(250));
  EXPECT_EQ(c->health_checks.timeout, std::chrono::milliseconds(100));
  EXPECT_EQ(c->health_checks.healthy_threshold, 1);
  EXPECT_EQ(c->health_checks.unhealthy_threshold, 4);
  auto bad = load_config_text(std::string("health_checks:\n  interval_ms: 1\n") + kMinimal);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  auto unknown = load_config_text(std::string("health_checks: {path: /x}\n") + kMinimal);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("path"), std::string::npos) << unknown.error().message;
}

TEST(ConfigTest, ErrorsNameTheLine) {
  const char* yaml =
      "stages:\n  dev:\n    routes:\n      - {prefix: /x, upstream: \"http://a:1\", bogus: 1}\n";
  auto c = load_config_text(yaml);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("line 4"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("bogus"), std::string::npos) << c.error().message;
}

TEST(ConfigTest, SyntaxErrorsNameTheLine) {
  auto c = load_config_text("stages:\n  dev: [unclosed\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("line"), std::string::npos) << c.error().message;
}

TEST(ConfigTest, RejectsUnknownVariable) {
  auto c = load_config_text(
      "stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: \"http://${nope}:1\"}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("${nope}"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("line 4"), std::string::npos) << c.error().message;
}

TEST(ConfigTest, RejectsJwtRouteWithoutJwtSection) {
  auto c = load_config_text(
      "stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: \"http://a:1\", jwt: true}\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("jwt"), std::string::npos);
}

TEST(ConfigTest, RejectsBadValues) {
  EXPECT_FALSE(
      load_config_text(
          "stages:\n  dev:\n    routes:\n      - {prefix: api, upstream: \"http://a:1\"}\n")
          .ok());
  EXPECT_FALSE(load_config_text(
                   "stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: \"https://a:1\"}\n")
                   .ok());
  EXPECT_FALSE(load_config_text(
                   "stages:\n  Dev!:\n    routes:\n      - {prefix: /, upstream: \"http://a:1\"}\n")
                   .ok());
  EXPECT_FALSE(
      load_config_text(
          "stages:\n  health:\n    routes:\n      - {prefix: /, upstream: \"http://a:1\"}\n")
          .ok());
  // The platform's stage-name rule (core::valid_stage_name), the same as the CLI's.
  for (const char* bad : {"dev-1", "dev_1", "1dev", "d", "aaaaaaaaaaaaaaaaa"}) {
    EXPECT_FALSE(load_config_text(std::string("stages:\n  ") + bad +
                                  ":\n    routes:\n      - {prefix: /, upstream: \"http://a:1\"}\n")
                     .ok())
        << bad;
  }
  EXPECT_FALSE(load_config_text("stages:\n  dev:\n    routes:\n      - {prefix: /a, upstream: "
                                "\"http://a:1\"}\n      - {prefix: /a, upstream: \"http://b:1\"}\n")
                   .ok());
  EXPECT_FALSE(load_config_text("stages:\n  dev:\n    rate_limit: nope\n    routes:\n      - "
                                "{prefix: /, upstream: \"http://a:1\"}\n")
                   .ok());
  EXPECT_FALSE(load_config_text("limits: {header_timeout_ms: -1}\nstages:\n  dev:\n    routes:\n   "
                                "   - {prefix: /, upstream: \"http://a:1\"}\n")
                   .ok());
  EXPECT_FALSE(load_config_text("stages: {}\n").ok());
}

TEST(ConfigTest, TopLevelRoutesServeEveryStage) {
  auto c = load_config_text(
      "routes:\n  - {prefix: /api/tools, upstream: \"http://tools.${stage}:5001\"}\nstages:\n  "
      "prod: {}\n  dev1: {}\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  UpstreamRegistry reg(1);
  auto gen = compile(std::move(c.value()), reg, 1);
  ASSERT_TRUE(gen.ok());
  EXPECT_EQ((gen.value())->stages[0].routes[0].primary.url, "http://tools.prod:5001");
  EXPECT_EQ((gen.value())->stages[1].routes[0].primary.url, "http://tools.dev1:5001");
}

TEST(ConfigTest, ShippedConfigsAreValid) {
  for (const char* f : {"/gateway.yaml", "/gateway.host.yaml", "/gateway.example.yaml"}) {
    auto c = load_config_file(std::string(ENKISYS_GATEWAY_DEPLOY_DIR) + f);
    ASSERT_TRUE(c.ok()) << f << ": " << c.error().message;
    UpstreamRegistry reg(1);
    auto gen = compile(std::move(c.value()), reg, 1);
    ASSERT_TRUE(gen.ok()) << f << ": " << gen.error().message;
    for (const auto& s : (gen.value())->stages) {
      if (s.name == "monitoring") {  // the status page: admins of the stage it borrows from
        const auto* page = s.match("/api/status");
        ASSERT_NE(page, nullptr) << f;
        EXPECT_EQ(page->roles, std::vector<std::string>{"admin"}) << f;
        EXPECT_TRUE(page->jwt) << f;
        // On a host only the monitoring's `public` address (the name it has only there).
        const std::string upstream = std::string(f) == "/gateway.host.yaml"
                                         ? "http://monitoring.edge:5006"
                                         : "http://monitoring:5006";
        EXPECT_EQ(page->primary.url, upstream) << f;
        // Browsers: the token in the page's cookie, a navigation without one sent to the form.
        EXPECT_EQ(page->jwt_cookie, "enkisys_monitoring") << f;
        EXPECT_EQ(page->login_redirect, "/login") << f;
        for (const char* open : {"/login", "/logout"}) {
          const auto* r = s.match(open);
          ASSERT_NE(r, nullptr) << f << " " << open;
          EXPECT_FALSE(r->jwt) << f << " " << open;
          EXPECT_EQ(r->primary.url, upstream) << f << " " << open;
        }
        EXPECT_EQ(s.config.jwt_stage, std::string(f) == "/gateway.yaml" ? "dev" : "prod") << f;
        continue;
      }
      std::string_view rest;
      const std::string path = "/" + s.name + "/api/tools/x";
      const auto* st = (gen.value())->find_stage(path, &rest);
      ASSERT_NE(st, nullptr);
      const auto* r = st->match(rest);
      ASSERT_NE(r, nullptr) << f;
      EXPECT_TRUE(r->jwt) << f << " " << s.name;  // the contract: /api/tools needs a JWT
      EXPECT_FALSE(st->match("/api/auth/login")->jwt);
      if (const auto* ch = st->match("/channels/telegram")) {
        EXPECT_FALSE(ch->jwt) << f;
      }
      // The catch-all frontend route takes only what no other route names, without JWT.
      const auto* page = st->match("/dashboard/settings");
      ASSERT_NE(page, nullptr) << f;
      EXPECT_EQ(page->name, "frontend") << f;
      EXPECT_FALSE(page->jwt) << f;
      EXPECT_EQ(st->match("/api/tools")->name, "tools") << f;
      EXPECT_EQ(st->match("/api/auth/login")->name, "auth") << f;
    }
  }
  auto ex = load_config_file(std::string(ENKISYS_GATEWAY_DEPLOY_DIR) + "/gateway.example.yaml");
  ASSERT_TRUE(ex.ok());
  std::vector<std::string> names;
  for (const auto& s : ex->stages) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"prod", "staging", "dev1", "dev2"}));
}

TEST(ConfigTest, Substitute) {
  auto r = substitute("http://${svc}.${stage}:1", "dev1", {{"svc", "tools"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), "http://tools.dev1:1");
  EXPECT_FALSE(substitute("http://${svc", "s", {}).ok());
}

// Each stage reads its own revocation-feed secret: the file path takes ${stage}; a missing
// file fails that stage's polls (not the configuration: the file is read before each poll).
TEST(ConfigTest, RevocationFeedSecretIsReadPerStage) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("enkisys-revocation-secrets-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "feed_dev1") << "dev1-feed-secret-0123456789\n";
  std::ofstream(dir / "feed_dev2") << "dev2-feed-secret-0123456789\n";
  const std::string yaml = std::string(R"(
jwt:
  jwks_url: "http://auth.${stage}:5002/jwks"
  revocations_url: "http://auth.${stage}:5002/api/auth/revocations"
  revocations_token_file: ")") +
                           (dir / "feed_${stage}").string() + R"("
stages:
  dev1:
    routes:
      - {prefix: /api, upstream: "http://tools.${stage}:5001", jwt: true}
  dev2:
    routes:
      - {prefix: /api, upstream: "http://tools.${stage}:5001", jwt: true}
)";
  auto c = load_config_text(yaml);
  ASSERT_TRUE(c.ok()) << c.error().message;
  UpstreamRegistry reg(1);
  auto gen = compile(std::move(c.value()), reg, 1);
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  EXPECT_EQ(gen.value()->stages[0].jwt.revocations_token_file, (dir / "feed_dev1").string());
  EXPECT_EQ(gen.value()->stages[1].jwt.revocations_token_file, (dir / "feed_dev2").string());
  // The poller of each stage sends that stage's secret; a missing file fails the poll.
  for (const auto* stage : {"dev1", "dev2"}) {
    std::string seen;
    Authenticator auth(gen.value()->stages[0].jwt);
    RevocationPoller poller(
        "http://auth/feed",
        RevocationPoller::Bearer::from_file((dir / (std::string("feed_") + stage)).string()),
        std::chrono::seconds(5), auth, nullptr,
        [&](const std::string&, const std::string& bearer, const std::string&,
            std::string*) -> std::optional<RevocationPoller::Response> {
          seen = bearer;
          return RevocationPoller::Response{200, R"({"revoked":[]})", "\"0\""};
        },
        /*start=*/false);
    EXPECT_EQ(poller.poll_now(), "");
    EXPECT_EQ(seen, std::string(stage) + "-feed-secret-0123456789");
  }
  std::filesystem::remove(dir / "feed_dev2");
  Authenticator auth(gen.value()->stages[1].jwt);
  RevocationPoller missing(
      "http://auth/feed", RevocationPoller::Bearer::from_file((dir / "feed_dev2").string()),
      std::chrono::seconds(5), auth, nullptr,
      [](const std::string&, const std::string&, const std::string&,
         std::string*) -> std::optional<RevocationPoller::Response> {
        return RevocationPoller::Response{200, R"({"revoked":[]})", ""};
      },
      /*start=*/false);
  EXPECT_NE(missing.poll_now().find("jwt.revocations_token_file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace enkisys::gateway
