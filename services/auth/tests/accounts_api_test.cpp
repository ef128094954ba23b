// Sign-up, login, refresh, logout, password change and throttling over HTTP, on both backends.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "backends.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;
using std::chrono::seconds;

std::string str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

class AccountsApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<AuthFixture>(GetParam(), options());
  }
  virtual FixtureOptions options() { return {}; }
  std::unique_ptr<AuthFixture> fx_;
};

TEST_P(AccountsApiTest, SignupLoginMeRefreshLogout) {
  auto s = fx_->signup("  Ann@Example.COM ", "a long passphrase");
  ASSERT_EQ(s.status, 201) << s.raw;
  EXPECT_EQ(str(s.body, "email"), "ann@example.com");
  EXPECT_EQ(s.body.at("roles"), json::parse(R"(["user"])"));
  EXPECT_FALSE(s.body.as_object().contains("password_hash"));

  auto l = fx_->login("ANN@example.com", "a long passphrase");
  ASSERT_EQ(l.status, 200) << l.raw;
  EXPECT_EQ(str(l.body, "token_type"), "Bearer");
  EXPECT_EQ(l.body.at("expires_in").to_number<int>(), 900);
  EXPECT_EQ(l.header("Cache-Control"), "no-store");
  const std::string access = str(l.body, "access_token");
  const std::string refresh = str(l.body, "refresh_token");

  auto me = fx_->call_as(access, "GET", "/api/auth/me");
  ASSERT_EQ(me.status, 200) << me.raw;
  EXPECT_EQ(str(me.body, "email"), "ann@example.com");

  auto r = fx_->call("POST", "/api/auth/refresh",
                     json::serialize(json::object{{"refresh_token", refresh}}));
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string refresh2 = str(r.body, "refresh_token");
  EXPECT_NE(refresh2, refresh);
  EXPECT_EQ(fx_->call_as(str(r.body, "access_token"), "GET", "/api/auth/me").status, 200);

  auto out = fx_->call("POST", "/api/auth/logout",
                       json::serialize(json::object{{"refresh_token", refresh2}}));
  EXPECT_EQ(out.status, 204) << out.raw;
  EXPECT_EQ(fx_->call("POST", "/api/auth/refresh",
                      json::serialize(json::object{{"refresh_token", refresh2}}))
                .status,
            401);
}

TEST_P(AccountsApiTest, RefreshTokensAreStoredOnlyAsDigests) {
  auto l = fx_->user_session("ann@example.com");
  ASSERT_EQ(l.status, 200) << l.raw;
  const std::string refresh = str(l.body, "refresh_token");
  EXPECT_EQ(fx_->database()
                .query("SELECT count(*) FROM refresh_tokens WHERE token_hash = $1", {refresh})
                .one()
                .i64(0),
            0);
  EXPECT_EQ(fx_->database()
                .query("SELECT count(*) FROM refresh_tokens WHERE token_hash = $1",
                       {security::sha256_hex(refresh)})
                .one()
                .i64(0),
            1);
}

TEST_P(AccountsApiTest, BadSignupsAreClear400sAndWriteNothing) {
  const auto users = fx_->count("users");
  const auto events = fx_->count("audit_events");
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const std::string huge(5000, 'a');
  const std::vector<Case> cases{
      {R"({"email":"ann@example.com","password":"short"})", 400, "weak_password"},
      {R"({"email":"ann@example.com","password":"password1234"})", 400, "weak_password"},
      {R"({"email":"not-an-email","password":"a long passphrase"})", 400, "invalid_email"},
      {R"({"email":"ann@example.com","password":"a long passphrase","role":"admin"})", 400,
       "invalid_request"},
      {R"({"email":"ann@example.com"})", 400, "invalid_request"},
      {R"({"email":42,"password":"a long passphrase"})", 400, "invalid_request"},
      {R"({"email":"ann@example.com","password":")" + huge + R"("})", 400, "invalid_request"},
      {"{\"email\":\"ann@example.com\",\"password\":\"long \xff\xfe passphrase\"}", 400,
       "invalid_json"},
      {R"({"email":"ann@example.com","password":"a long \ud800 passphrase"})", 400, ""},
      {R"({"email":"ann@example.com",)", 400, "invalid_json"},
      {R"([1,2])", 400, "invalid_request"},
  };
  for (const auto& c : cases) {
    auto r = fx_->call("POST", "/api/auth/signup", c.body);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 120) << "\n" << r.raw;
    ASSERT_TRUE(r.body.is_object()) << r.raw;
    if (!c.code.empty()) {
      EXPECT_EQ(str(r.body.at("error"), "code"), c.code) << c.body.substr(0, 120);
    }
    EXPECT_FALSE(str(r.body.at("error"), "message").empty());
  }
  const std::string body = R"({"email":"ann@example.com","password":"a long passphrase"})";
  const std::string raw = core::testing::raw_exchange(
      fx_->port(),
      "POST /api/auth/signup HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Content-Type: text/plain\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(core::testing::status_of(raw), 415) << raw;
  EXPECT_EQ(fx_->count("users"), users);
  EXPECT_EQ(fx_->count("audit_events"), events);
  // The password is never echoed back in an error.
  auto weak = fx_->signup("ann@example.com", "qwertyuiop123");
  EXPECT_EQ(weak.raw.find("qwertyuiop123"), std::string::npos);
}

TEST_P(AccountsApiTest, DuplicateEmailIsAConflictWhateverItsCase) {
  ASSERT_EQ(fx_->signup("ann@example.com", "a long passphrase").status, 201);
  auto dup = fx_->signup("ANN@EXAMPLE.COM", "another long passphrase");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(str(dup.body.at("error"), "code"), "email_taken");
}

TEST_P(AccountsApiTest, UnknownEmailAndWrongPasswordGetTheSameAnswer) {
  ASSERT_EQ(fx_->signup("ann@example.com", "a long passphrase").status, 201);
  auto wrong = fx_->login("ann@example.com", "not the passphrase");
  auto unknown = fx_->login("nobody@example.com", "not the passphrase");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body.at("error").at("code"), unknown.body.at("error").at("code"));
  EXPECT_EQ(wrong.body.at("error").at("message"), unknown.body.at("error").at("message"));
  auto events = fx_->service().audit(std::nullopt, 10, "login_failed");
  ASSERT_EQ(events.items.size(), 2U);
  EXPECT_EQ(events.items[0].detail.at("reason"), "unknown_email");
  EXPECT_EQ(events.items[1].detail.at("reason"), "wrong_password");
}

TEST_P(AccountsApiTest, AccountThrottleGrowsAndAnswers429WithRetryAfter) {
  ASSERT_EQ(fx_->signup("ann@example.com", "a long passphrase").status, 201);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fx_->login("ann@example.com", "wrong guess!").status, 401);
  EXPECT_EQ(fx_->login("ann@example.com", "wrong guess!").status, 401);  // now locked for 1 s
  auto locked = fx_->login("ann@example.com", "a long passphrase");
  ASSERT_EQ(locked.status, 429) << locked.raw;
  EXPECT_EQ(locked.header("Retry-After"), "1");
  EXPECT_EQ(str(locked.body.at("error"), "code"), "too_many_attempts");
  fx_->clock().advance(seconds(1));
  EXPECT_EQ(fx_->login("ann@example.com", "wrong guess!").status, 401);  // 7th: 2 s
  EXPECT_EQ(fx_->login("ann@example.com", "a long passphrase").header("Retry-After"), "2");
  fx_->clock().advance(seconds(2));
  EXPECT_EQ(fx_->login("ann@example.com", "a long passphrase").status, 200);
  // Unknown accounts are throttled the same way.
  for (int i = 0; i < 6; ++i) fx_->login("ghost@example.com", "wrong guess!");
  EXPECT_EQ(fx_->login("ghost@example.com", "wrong guess!").status, 429);
}

TEST_P(AccountsApiTest, IpThrottleIgnoresForwardedForUnlessTrusted) {
  // 20 failures from one address over many accounts lock that address.
  for (int i = 0; i < 21; ++i) {
    fx_->login("user" + std::to_string(i) + "@example.com", "wrong guess!",
               "X-Forwarded-For: 198.51.100." + std::to_string(i) + "\r\n");
  }
  auto r = fx_->login("fresh@example.com", "wrong guess!", "X-Forwarded-For: 203.0.113.7\r\n");
  EXPECT_EQ(r.status, 429) << r.raw;
}

TEST_P(AccountsApiTest, RefreshReuseRevokesTheWholeFamilyAndIsAudited) {
  auto l = fx_->user_session("ann@example.com");
  const std::string r1 = str(l.body, "refresh_token");
  auto second =
      fx_->call("POST", "/api/auth/refresh", json::serialize(json::object{{"refresh_token", r1}}));
  ASSERT_EQ(second.status, 200);
  const std::string r2 = str(second.body, "refresh_token");
  auto reuse =
      fx_->call("POST", "/api/auth/refresh", json::serialize(json::object{{"refresh_token", r1}}));
  EXPECT_EQ(reuse.status, 401);
  EXPECT_EQ(reuse.header("WWW-Authenticate"), "Bearer error=\"invalid_token\"");
  EXPECT_EQ(
      fx_->call("POST", "/api/auth/refresh", json::serialize(json::object{{"refresh_token", r2}}))
          .status,
      401);
  EXPECT_EQ(fx_->service().audit(std::nullopt, 10, "refresh_reuse_detected").items.size(), 1U);
}

TEST_P(AccountsApiTest, RefreshTokensExpire) {
  auto l = fx_->user_session("ann@example.com");
  fx_->clock().advance(std::chrono::hours(24 * 30) + seconds(1));
  EXPECT_EQ(
      fx_->call("POST", "/api/auth/refresh",
                json::serialize(json::object{{"refresh_token", str(l.body, "refresh_token")}}))
          .status,
      401);
}

TEST_P(AccountsApiTest, LogoutWithTheAccessTokenEndsThatSessionOnly) {
  auto a = fx_->user_session("ann@example.com");
  auto b = fx_->login("ann@example.com", "a long passphrase");
  EXPECT_EQ(fx_->call_as(str(a.body, "access_token"), "POST", "/api/auth/logout").status, 204);
  auto refresh = [&](const Reply& r) {
    return fx_
        ->call("POST", "/api/auth/refresh",
               json::serialize(json::object{{"refresh_token", str(r.body, "refresh_token")}}))
        .status;
  };
  EXPECT_EQ(refresh(a), 401);
  EXPECT_EQ(refresh(b), 200);
  EXPECT_EQ(fx_->call("POST", "/api/auth/logout").status, 401);  // neither token nor bearer
}

TEST_P(AccountsApiTest, PasswordChangeRevokesOtherSessions) {
  auto a = fx_->user_session("ann@example.com");
  auto b = fx_->login("ann@example.com", "a long passphrase");
  const std::string access = str(a.body, "access_token");
  auto bad =
      fx_->call_as(access, "POST", "/api/auth/password",
                   R"({"current_password":"wrong one!!","new_password":"a brand new passphrase"})");
  EXPECT_EQ(bad.status, 401);
  auto weak =
      fx_->call_as(access, "POST", "/api/auth/password",
                   R"({"current_password":"a long passphrase","new_password":"password1234"})");
  EXPECT_EQ(weak.status, 400);
  auto ok = fx_->call_as(
      access, "POST", "/api/auth/password",
      R"({"current_password":"a long passphrase","new_password":"a brand new passphrase"})");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  auto refresh = [&](const Reply& r) {
    return fx_
        ->call("POST", "/api/auth/refresh",
               json::serialize(json::object{{"refresh_token", str(r.body, "refresh_token")}}))
        .status;
  };
  EXPECT_EQ(refresh(b), 401);  // the other session is gone
  EXPECT_EQ(refresh(a), 200);  // this one continues
  EXPECT_EQ(fx_->login("ann@example.com", "a long passphrase").status, 401);
  EXPECT_EQ(fx_->login("ann@example.com", "a brand new passphrase").status, 200);
  EXPECT_EQ(fx_->service().audit(std::nullopt, 10, "password_changed").items.size(), 1U);
}

TEST_P(AccountsApiTest, LoginRehashesWhenTheArgonLimitsChange) {
  ASSERT_EQ(fx_->signup("ann@example.com", "a long passphrase").status, 201);
  const std::string before = fx_->store().user_by_email("ann@example.com")->password_hash;
  // A second service over the same database with stronger limits.
  AuthConfig cfg;
  AccessTokens tokens(fx_->keys(), cfg, fx_->clock(), system_random());
  const security::PasswordHasher stronger(2, 16 * 1024);
  AuthService svc(fx_->store(), tokens, fx_->keys(), stronger, fx_->clock(), system_random());
  ASSERT_TRUE(svc.login("ann@example.com", "a long passphrase", Caller{"127.0.0.1", "r"}).ok());
  const std::string after = fx_->store().user_by_email("ann@example.com")->password_hash;
  EXPECT_NE(after, before);
  EXPECT_NE(after.find("m=16,t=2"), std::string::npos) << after;
  EXPECT_FALSE(stronger.needs_rehash(after));
  EXPECT_TRUE(svc.login("ann@example.com", "a long passphrase", Caller{"127.0.0.1", "r"}).ok());
}

TEST_P(AccountsApiTest, BootstrapAdminIsIdempotentAndNeverResetsThePassword) {
  EXPECT_EQ(fx_->service().bootstrap_admin(kAdminEmail, "a different admin passphrase"),
            "unchanged");
  EXPECT_EQ(fx_->login(kAdminEmail, kAdminPassword).status, 200);
  ASSERT_EQ(fx_->signup("boss@example.com", "a long passphrase").status, 201);
  EXPECT_EQ(fx_->service().bootstrap_admin("Boss@Example.com", "ignored passphrase"), "promoted");
  auto me =
      fx_->call_as(str(fx_->login("boss@example.com", "a long passphrase").body, "access_token"),
                   "GET", "/api/auth/me");
  EXPECT_EQ(me.body.at("roles"), json::parse(R"(["admin","user"])"));
  EXPECT_THROW(fx_->service().bootstrap_admin("new@example.com", "password1234"),
               std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountsApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

class TrustedProxyTest : public AccountsApiTest {
  FixtureOptions options() override {
    FixtureOptions o;
    o.config.trust_proxy = true;
    return o;
  }
};

TEST_P(TrustedProxyTest, ForwardedForFirstHopIsTheClient) {
  for (int i = 0; i < 21; ++i) {
    fx_->login("user" + std::to_string(i) + "@example.com", "wrong guess!",
               "X-Forwarded-For: 198.51.100.1, 10.0.0.2\r\n");
  }
  EXPECT_EQ(
      fx_->login("fresh@example.com", "wrong guess!", "X-Forwarded-For: 198.51.100.1\r\n").status,
      429);
  EXPECT_EQ(
      fx_->login("fresh@example.com", "wrong guess!", "X-Forwarded-For: 203.0.113.7\r\n").status,
      401);
  auto events = fx_->service().audit(std::nullopt, 1, "login_failed");
  EXPECT_EQ(events.items.at(0).ip, "203.0.113.7");
}

INSTANTIATE_TEST_SUITE_P(Backends, TrustedProxyTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

}  // namespace
}  // namespace enkisys::auth::testing

namespace enkisys::auth::testing {
namespace {

// With real argon2id cost, an unknown email costs about what a wrong password costs.
TEST(LoginTiming, UnknownEmailCostsAboutAsMuchAsAWrongPassword) {
  // argon2id at 32 MiB (~30 ms) dominates the audit row's fsync (a few ms, jittery on a busy
  // machine), so the comparison measures the hash, not the disk.
  FixtureOptions o;
  o.hasher = security::PasswordHasher(2, 32 * 1024 * 1024);
  AuthFixture fx(db::Backend::kSqlite, o);
  ASSERT_EQ(fx.signup("ann@example.com", "a long passphrase").status, 201);
  auto timed = [&](const std::string& email, int i) {
    const auto start = std::chrono::steady_clock::now();
    const auto r =
        fx.service().login(email, "wrong guess!", Caller{"192.0.2." + std::to_string(i), "r"});
    EXPECT_FALSE(r.ok());
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // Medians of 5 each, interleaved, one address each (no throttle rule is reached).
  std::vector<double> known, unknown;
  for (int i = 0; i < 5; ++i) {
    known.push_back(timed("ann@example.com", i));
    unknown.push_back(timed("nobody" + std::to_string(i) + "@example.com", 10 + i));
  }
  std::sort(known.begin(), known.end());
  std::sort(unknown.begin(), unknown.end());
  EXPECT_GT(unknown[2], known[2] * 0.5)
      << "unknown " << unknown[2] << " s, known " << known[2] << " s";
  EXPECT_LT(unknown[2], known[2] * 2.0)
      << "unknown " << unknown[2] << " s, known " << known[2] << " s";
}

}  // namespace
}  // namespace enkisys::auth::testing
