// The status page's sign-in: the form, the login against the jwt stage's auth (a fake), the
// session cookie the gateway reads, logout, CSRF and `next`.
#include "enkisys/monitoring/login.hpp"

#include <gtest/gtest.h>

#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/fakes.hpp"

namespace enkisys::monitoring {
namespace {

namespace http = boost::beast::http;
using core::testing::body_of;
using core::testing::status_of;

constexpr const char* kAuth = "http://auth.prod-blue:5002";
constexpr const char* kGateway =
    "X-Forwarded-Prefix: /monitoring\r\nX-Forwarded-Proto: https\r\n"
    "X-Forwarded-Host: status.example\r\n";

class LoginTest : public ::testing::Test {
 protected:
  LoginTest()
      : server_([this](core::Router& r) {
          LoginOptions o;
          o.auth_url = [] { return std::string(kAuth); };
          add_login_routes(r, http_, std::move(o));
        }) {}

  // A browser's form POST through the gateway.
  std::string post(const std::string& path, const std::string& form,
                   const std::string& origin = "https://status.example",
                   const std::string& type = "application/x-www-form-urlencoded") {
    std::string req =
        "POST " + path + " HTTP/1.1\r\nHost: monitoring:5006\r\nConnection: close\r\n";
    req += kGateway;
    if (!origin.empty()) req += "Origin: " + origin + "\r\n";
    req += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(form.size()) +
           "\r\n\r\n" + form;
    return core::testing::raw_exchange(server_.port(), req);
  }

  static std::string header(const std::string& raw, const std::string& name) {
    return core::testing::json_reply(raw).header(name);
  }

  core::testing::FakeHttpClient http_;
  core::testing::TestServer server_;
};

TEST_F(LoginTest, FormIsServedWithCspAndNoScript) {
  const auto raw = core::testing::http_request(
      server_.port(), "GET", "/login?next=%2Fmonitoring%2Fapi%2Fstatus", "", kGateway);
  ASSERT_EQ(status_of(raw), 200) << raw;
  const auto body = body_of(raw);
  EXPECT_NE(body.find("<form class=\"login\" method=\"post\" action=\"login\">"),
            std::string::npos);
  EXPECT_NE(body.find("name=\"next\" value=\"/monitoring/api/status\""), std::string::npos) << body;
  EXPECT_NE(body.find("<base href=\"/monitoring/\">"), std::string::npos);
  EXPECT_EQ(body.find("<script"), std::string::npos);
  EXPECT_NE(header(raw, "Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(status_of(core::testing::http_request(server_.port(), "GET", "/login/app.css")), 200);
}

TEST_F(LoginTest, SuccessSetsTheSessionCookieAndGoesToNext) {
  http_.respond(
      std::string(kAuth) + "/api/auth/login", 200,
      R"({"access_token":"aaa.bbb.ccc","refresh_token":"r","token_type":"Bearer","expires_in":900})");
  const auto raw =
      post("/login", "email=admin%40example.com&password=p%26ss&next=%2Fmonitoring%2F");
  ASSERT_EQ(status_of(raw), 303) << raw;
  EXPECT_EQ(header(raw, "Location"), "/monitoring/");
  EXPECT_EQ(header(raw, "Set-Cookie"),
            "enkisys_monitoring=aaa.bbb.ccc; HttpOnly; SameSite=Strict; Path=/monitoring; "
            "Max-Age=900; Secure");
  const auto reqs = http_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, http::verb::post);
  EXPECT_EQ(reqs[0].url, std::string(kAuth) + "/api/auth/login");
  EXPECT_EQ(reqs[0].body, R"({"email":"admin@example.com","password":"p&ss"})");
}

TEST_F(LoginTest, WrongPasswordShowsTheFormAgainWithAnError) {
  http_.respond(std::string(kAuth) + "/api/auth/login", 401,
                R"({"error":{"code":"invalid_credentials","message":"no","request_id":"x"}})");
  const auto raw = post("/login", "email=a%40example.com&password=wrong&next=%2Fmonitoring%2Fx");
  EXPECT_EQ(status_of(raw), 401) << raw;
  EXPECT_EQ(header(raw, "Set-Cookie"), "");
  const auto body = body_of(raw);
  EXPECT_NE(body.find("Wrong email or password."), std::string::npos) << body;
  EXPECT_NE(body.find("value=\"a@example.com\""), std::string::npos) << body;  // kept
  EXPECT_NE(body.find("name=\"next\" value=\"/monitoring/x\""), std::string::npos) << body;
  EXPECT_EQ(body.find("wrong"), std::string::npos);  // the password is never echoed
}

TEST_F(LoginTest, AuthUnreachableIsAnErrorPageNotACookie) {
  http_.fail(std::string(kAuth), core::ClientError::Code::kConnect, "refused");
  const auto raw = post("/login", "email=a%40example.com&password=pw");
  EXPECT_EQ(status_of(raw), 502) << raw;
  EXPECT_EQ(header(raw, "Set-Cookie"), "");
  EXPECT_NE(body_of(raw).find("unavailable"), std::string::npos);
}

TEST_F(LoginTest, LogoutClearsTheCookie) {
  const auto raw = post("/logout", "");
  ASSERT_EQ(status_of(raw), 303) << raw;
  EXPECT_EQ(header(raw, "Location"), "/monitoring/login");
  EXPECT_EQ(header(raw, "Set-Cookie"),
            "enkisys_monitoring=; HttpOnly; SameSite=Strict; Path=/monitoring; Max-Age=0; Secure");
}

TEST_F(LoginTest, CrossSitePostsAreRefused) {
  http_.respond(std::string(kAuth) + "/api/auth/login", 200,
                R"({"access_token":"aaa.bbb.ccc","expires_in":900})");
  EXPECT_EQ(status_of(post("/login", "email=a&password=b", "https://evil.example")), 403);
  EXPECT_EQ(status_of(post("/login", "email=a&password=b", "")), 403);      // no Origin
  EXPECT_EQ(status_of(post("/logout", "", "http://status.example")), 403);  // other scheme
  EXPECT_EQ(
      status_of(post("/login", R"({"email":"a"})", "https://status.example", "application/json")),
      415);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(LoginTest, NextNeverLeavesThePage) {
  http_.respond(std::string(kAuth) + "/api/auth/login", 200,
                R"({"access_token":"aaa.bbb.ccc","expires_in":900})");
  for (const char* next :
       {"https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example", "%2Fmonitoring%2F%2Fevil.example",
        "%2Fmonitoring%2F%5Cevil.example", "%2Fdev%2F", "%2Fmonitoringx"}) {
    const auto raw = post("/login", std::string("email=a&password=b&next=") + next);
    ASSERT_EQ(status_of(raw), 303) << raw;
    EXPECT_EQ(header(raw, "Location"), "/monitoring/") << next;
  }
  EXPECT_EQ(safe_next("/monitoring/api/status", "/monitoring"), "/monitoring/api/status");
  EXPECT_EQ(safe_next("/x", ""), "/x");
  EXPECT_EQ(safe_next("//x", ""), "/");
}

}  // namespace
}  // namespace enkisys::monitoring
