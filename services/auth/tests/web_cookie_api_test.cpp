// The browser's opt-in refresh cookie (X-Enkisys-Client: web) over HTTP, on both backends.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "backends.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;

constexpr const char* kWeb = "X-Enkisys-Client: web\r\nX-Forwarded-Prefix: /dev\r\n";

// The token of a `Set-Cookie: enkisys_refresh=<token>; ...` value.
std::string cookie_token(const std::string& set_cookie) {
  const std::string start = "enkisys_refresh=";
  if (set_cookie.rfind(start, 0) != 0) return {};
  return set_cookie.substr(start.size(), set_cookie.find(';') - start.size());
}

class WebCookieApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<AuthFixture>(GetParam(), FixtureOptions{});
    ASSERT_EQ(fx_->signup("ann@example.com", "a long passphrase").status, 201);
  }
  std::unique_ptr<AuthFixture> fx_;
};

TEST_P(WebCookieApiTest, LoginSetsAnHttpOnlyCookieInsteadOfTheJsonField) {
  auto l = fx_->login("ann@example.com", "a long passphrase", kWeb);
  ASSERT_EQ(l.status, 200) << l.raw;
  EXPECT_TRUE(l.body.as_object().contains("access_token"));
  EXPECT_FALSE(l.body.as_object().contains("refresh_token"));
  const std::string c = l.header("Set-Cookie");
  EXPECT_FALSE(cookie_token(c).empty()) << c;
  EXPECT_NE(c.find("; HttpOnly"), std::string::npos) << c;
  EXPECT_NE(c.find("; SameSite=Strict"), std::string::npos) << c;
  EXPECT_NE(c.find("; Path=/dev/api/auth"), std::string::npos) << c;
  EXPECT_NE(c.find("; Max-Age=2592000"), std::string::npos) << c;
  EXPECT_EQ(c.find("Secure"), std::string::npos) << c;

  auto https = fx_->login("ann@example.com", "a long passphrase",
                          std::string(kWeb) + "X-Forwarded-Proto: https\r\n");
  EXPECT_NE(https.header("Set-Cookie").find("; Secure"), std::string::npos);
}

TEST_P(WebCookieApiTest, WithoutTheHeaderTheJsonContractIsUnchanged) {
  auto l = fx_->login("ann@example.com", "a long passphrase");
  ASSERT_EQ(l.status, 200) << l.raw;
  EXPECT_TRUE(l.body.as_object().contains("refresh_token"));
  EXPECT_EQ(l.header("Set-Cookie"), "");
}

TEST_P(WebCookieApiTest, RefreshReadsTheCookieOnlyWithTheCustomHeader) {
  auto l = fx_->login("ann@example.com", "a long passphrase", kWeb);
  const std::string token = cookie_token(l.header("Set-Cookie"));
  ASSERT_FALSE(token.empty());
  const std::string cookie = "Cookie: other=1; enkisys_refresh=" + token + "\r\n";

  // A cross-site request cannot add the custom header: the cookie alone is not read.
  auto csrf = fx_->call("POST", "/api/auth/refresh", "", cookie);
  EXPECT_EQ(csrf.status / 100, 4) << csrf.raw;

  auto r = fx_->call("POST", "/api/auth/refresh", "", std::string(kWeb) + cookie);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body.as_object().contains("access_token"));
  EXPECT_FALSE(r.body.as_object().contains("refresh_token"));
  const std::string next = cookie_token(r.header("Set-Cookie"));
  EXPECT_FALSE(next.empty());
  EXPECT_NE(next, token);

  auto again = fx_->call("POST", "/api/auth/refresh", "",
                         std::string(kWeb) + "Cookie: enkisys_refresh=" + next + "\r\n");
  EXPECT_EQ(again.status, 200) << again.raw;

  auto none = fx_->call("POST", "/api/auth/refresh", "", kWeb);
  EXPECT_EQ(none.status, 401) << none.raw;
}

TEST_P(WebCookieApiTest, LogoutEndsTheCookieSessionAndClearsTheCookie) {
  auto l = fx_->login("ann@example.com", "a long passphrase", kWeb);
  const std::string token = cookie_token(l.header("Set-Cookie"));
  const std::string cookie = "Cookie: enkisys_refresh=" + token + "\r\n";
  auto out = fx_->call("POST", "/api/auth/logout", "", std::string(kWeb) + cookie);
  ASSERT_EQ(out.status, 204) << out.raw;
  const std::string cleared = out.header("Set-Cookie");
  EXPECT_EQ(cookie_token(cleared), "") << cleared;
  EXPECT_EQ(cleared.rfind("enkisys_refresh=;", 0), 0u) << cleared;
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos) << cleared;

  auto r = fx_->call("POST", "/api/auth/refresh", "", std::string(kWeb) + cookie);
  EXPECT_EQ(r.status, 401) << r.raw;
}

TEST_P(WebCookieApiTest, AnOddPrefixFallsBackToTheRootPath) {
  auto l = fx_->login("ann@example.com", "a long passphrase",
                      "X-Enkisys-Client: web\r\nX-Forwarded-Prefix: /dev; Domain=evil\r\n");
  ASSERT_EQ(l.status, 200) << l.raw;
  const std::string c = l.header("Set-Cookie");
  EXPECT_NE(c.find("; Path=/api/auth;"), std::string::npos) << c;
  EXPECT_EQ(c.find("evil"), std::string::npos) << c;
}

INSTANTIATE_TEST_SUITE_P(Backends, WebCookieApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

}  // namespace
}  // namespace enkisys::auth::testing
