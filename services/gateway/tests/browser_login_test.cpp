// Browser sign-in on a route: the token from a cookie (`jwt_cookie`), and a 303 to the login
// page for a navigation without a valid token (`login_redirect`), as /monitoring/ uses them.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "enkisys/gateway/path.hpp"
#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;

constexpr const char* kHtml = "text/html,application/xhtml+xml,*/*;q=0.8";

std::string monitoring_config(const FakeUpstream& up, const std::string& secret) {
  return replace_all(replace_all(R"(
jwt: {hs256_secret_file: "SECRET", issuer: test, leeway_s: 0}
stages:
  dev:
    routes:
      - {prefix: /api/tools, upstream: "{UP}", jwt: true}
  monitoring:
    jwt_stage: dev
    routes:
      - {prefix: /login, upstream: "{UP}", strip_prefix: false}
      - {prefix: /, upstream: "{UP}", roles: [admin], jwt_cookie: enkisys_monitoring, login_redirect: /login}
)",
                                 "{UP}", up.url()),
                     "SECRET", secret);
}

std::string upstream_header(const StringResponse& r, const char* name) {
  const boost::json::value v = boost::json::parse(r.body());
  const auto* h = v.at("headers").as_object().if_contains(name);
  return h ? std::string(h->as_string()) : std::string("<absent>");
}

TEST(BrowserLogin, CookieCarriesTheTokenWithItsRolesChecked) {
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(monitoring_config(up, secret));
  const auto admin = hs256_token(secret, "a1", {"admin"});
  auto ok = get(gw.port(), "/monitoring/api/status",
                {{"Cookie", "theme=dark; enkisys_monitoring=" + admin + "; x=1"}});
  ASSERT_EQ(ok.result_int(), 200) << ok.body();
  EXPECT_EQ(upstream_header(ok, "x-user-id"), "a1");
  EXPECT_EQ(upstream_header(ok, "x-user-roles"), "admin");
  // A non-admin's cookie: 403, JSON for a script, the HTML page for a browser.
  const auto user = hs256_token(secret, "u1", {"user"});
  const std::string cookie = "enkisys_monitoring=" + user;
  auto json = get(gw.port(), "/monitoring/api/status", {{"Cookie", cookie}});
  EXPECT_EQ(json.result_int(), 403);
  EXPECT_NE(json.body().find("\"code\":\"forbidden\""), std::string::npos) << json.body();
  auto page = get(gw.port(), "/monitoring/", {{"Cookie", cookie}, {"Accept", kHtml}});
  EXPECT_EQ(page.result_int(), 403);
  EXPECT_NE(page[http::field::content_type].find("text/html"), std::string::npos);
  EXPECT_NE(page.body().find("/monitoring/login"), std::string::npos) << page.body();
  // A cookie of another name carries nothing; a forged cookie is refused like a bearer.
  EXPECT_EQ(get(gw.port(), "/monitoring/", {{"Cookie", "other=" + admin}}).result_int(), 401);
  EXPECT_EQ(get(gw.port(), "/monitoring/", {{"Cookie", "enkisys_monitoring=x.y.z"}}).result_int(),
            401);
  EXPECT_EQ(up.requests(), 1);
}

TEST(BrowserLogin, AuthorizationHeaderWinsOverTheCookie) {
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(monitoring_config(up, secret));
  const auto admin = hs256_token(secret, "a1", {"admin"});
  const auto user = hs256_token(secret, "u1", {"user"});
  auto r = get(gw.port(), "/monitoring/api/status",
               {{"Authorization", "Bearer " + user}, {"Cookie", "enkisys_monitoring=" + admin}});
  EXPECT_EQ(r.result_int(), 403) << r.body();
  auto bad =
      get(gw.port(), "/monitoring/api/status",
          {{"Authorization", "Bearer not.a.jwt"}, {"Cookie", "enkisys_monitoring=" + admin}});
  EXPECT_EQ(bad.result_int(), 401) << bad.body();
  // The cookie is not read on routes without jwt_cookie.
  EXPECT_EQ(
      get(gw.port(), "/dev/api/tools", {{"Cookie", "enkisys_monitoring=" + admin}}).result_int(),
      401);
}

TEST(BrowserLogin, BrowsersAreSentToTheLoginPageScriptsGet401) {
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(monitoring_config(up, secret));
  auto nav = get(gw.port(), "/monitoring/some/page", {{"Accept", kHtml}});
  EXPECT_EQ(nav.result_int(), 303);
  EXPECT_EQ(nav[http::field::location], "/monitoring/login?next=/monitoring/some/page");
  auto expired =
      get(gw.port(), "/monitoring/",
          {{"Accept", kHtml},
           {"Cookie", "enkisys_monitoring=" + hs256_token(secret, "a1", {"admin"}, -60)}});
  EXPECT_EQ(expired.result_int(), 303);
  EXPECT_EQ(expired[http::field::location], "/monitoring/login?next=/monitoring/");
  auto script = get(gw.port(), "/monitoring/api/status", {{"Accept", "application/json"}});
  EXPECT_EQ(script.result_int(), 401);
  EXPECT_NE(script.body().find("\"code\":\"unauthorized\""), std::string::npos);
  EXPECT_EQ(get(gw.port(), "/monitoring/api/status").result_int(), 401);
  // The login page itself is a public route.
  EXPECT_EQ(get(gw.port(), "/monitoring/login", {{"Accept", kHtml}}).result_int(), 200);
  // Routes without login_redirect keep the JSON 401 for browsers too.
  EXPECT_EQ(get(gw.port(), "/dev/api/tools", {{"Accept", kHtml}}).result_int(), 401);
}

TEST(BrowserLogin, NextNeverLeavesTheStage) {
  EXPECT_EQ(login_location("/monitoring", "/login", "/monitoring/a&next=b%41"),
            "/monitoring/login?next=/monitoring/a%26next%3Db%2541");
  EXPECT_EQ(login_location("/monitoring", "/login", "/monitoring/a b"), "/monitoring/login");
  EXPECT_EQ(login_location("/monitoring", "/login", "//evil.example/x"), "/monitoring/login");
  EXPECT_EQ(login_location("/monitoring", "/login", "/monitoring//evil.example"),
            "/monitoring/login");
  EXPECT_EQ(login_location("/monitoring", "/login", "/monitoringx/y"), "/monitoring/login");
  EXPECT_EQ(login_location("/monitoring", "/login", "/monitoring/\\evil.example"),
            "/monitoring/login");
  EXPECT_EQ(login_location("/monitoring", "/login", "/dev/x"), "/monitoring/login");
  EXPECT_EQ(login_location("/monitoring", "/login", "https://evil.example/"), "/monitoring/login");
  // Through the gateway: a target that would smuggle another host is normalised or refused.
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(monitoring_config(up, secret));
  auto r = get(gw.port(), "/monitoring//evil.example/", {{"Accept", kHtml}});
  if (r.result_int() == 303) {
    const auto loc = std::string(r[http::field::location]);
    EXPECT_EQ(loc.find("//evil"), std::string::npos) << loc;
    EXPECT_EQ(loc.rfind("/monitoring/login", 0), 0u) << loc;
  } else {
    EXPECT_EQ(r.result_int(), 400);
  }
}

TEST(BrowserLogin, OptionsAreValidated) {
  const auto secret = write_secret_file();
  const std::string head = "jwt: {hs256_secret_file: \"" + secret + "\"}\n" +
                           "stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: "
                           "\"http://a:1\", ";
  EXPECT_TRUE(
      load_config_text(head + "roles: [admin], jwt_cookie: c, login_redirect: /login}\n").ok());
  EXPECT_FALSE(load_config_text(head + "jwt_cookie: c}\n").ok());  // no jwt
  EXPECT_FALSE(load_config_text(head + "login_redirect: /login}\n").ok());
  for (const char* bad : {"\"//evil.example\"", "\"https://x/\"", "login", "\"/a/../b\"",
                          "\"/a?x=1\"", "\"/\\\\x\""}) {
    EXPECT_FALSE(load_config_text(head + "jwt: true, login_redirect: " + bad + "}\n").ok()) << bad;
  }
  EXPECT_FALSE(load_config_text(head + "jwt: true, jwt_cookie: \"a b\"}\n").ok());
}

}  // namespace
}  // namespace enkisys::gateway
