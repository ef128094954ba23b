// The real enkisys-frontend: the shipped web root served and healthy; a bad root refuses to
// start with exit 2.
#include <gtest/gtest.h>

#include "site_fixture.hpp"

namespace enkisys::frontend::test {
namespace {

using core::testing::ServiceProcess;

TEST(FrontendProcess, ServesTheShippedWebRootAndIsHealthy) {
  ServiceProcess p(ENKISYS_FRONTEND_BIN, {{"PORT", "0"}, {"FRONTEND_ROOT", ENKISYS_FRONTEND_WWW}});
  ASSERT_TRUE(p.wait_healthy());
  const auto health = core::testing::http_request(p.port(), "GET", "/health");
  EXPECT_NE(health.find("\"web_root\""), std::string::npos) << health;

  const auto index =
      core::testing::http_request(p.port(), "GET", "/", {}, "X-Forwarded-Prefix: /dev1\r\n");
  ASSERT_EQ(core::testing::status_of(index), 200) << index;
  const std::string body = core::testing::body_of(index);
  EXPECT_NE(body.find("<base href=\"/dev1/\">"), std::string::npos);
  EXPECT_NE(body.find("<noscript>"), std::string::npos);
  EXPECT_EQ(body.find("<script>"), std::string::npos);  // no inline script (CSP)
  EXPECT_EQ(body.find("<style"), std::string::npos);
  // The page's script and stylesheet exist and are immutable hashed assets.
  for (const char* kind : {"src=\"assets/app-", "href=\"assets/app-"}) {
    const auto at = body.find(kind);
    ASSERT_NE(at, std::string::npos) << kind;
    const auto from = body.find('"', at) + 1;
    const std::string asset = body.substr(from, body.find('"', from) - from);
    const auto r = core::testing::http_request(p.port(), "GET", "/" + asset);
    EXPECT_EQ(core::testing::status_of(r), 200) << asset;
    EXPECT_EQ(header_of(r, "Cache-Control"), "public, max-age=31536000, immutable") << asset;
  }
  EXPECT_EQ(p.terminate(), 0);
}

TEST(FrontendProcess, RootWithoutIndexRefusesToStart) {
  core::testing::TempDir empty;
  ServiceProcess p(ENKISYS_FRONTEND_BIN, {{"PORT", "0"}, {"FRONTEND_ROOT", empty.path().string()}},
                   {}, false);
  EXPECT_EQ(p.wait_exit(), 2);
  EXPECT_NE(p.output().find("index.html"), std::string::npos) << p.output();
}

}  // namespace
}  // namespace enkisys::frontend::test
