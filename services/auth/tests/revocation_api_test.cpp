// Revoked sessions: logout, refresh-token reuse, password change and disabling refuse the
// session's access tokens at once (every Bearer route and introspection), and the revocation
// feed lists them for the gateway until their tokens have expired. Both backends.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "backends.hpp"
#include "enkisys/security/encoding.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;
using std::chrono::seconds;

std::string str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

std::string sid_of(const std::string& jwt) {
  const auto a = jwt.find('.'), b = jwt.rfind('.');
  const auto payload =
      json::parse(*security::base64url_decode(jwt.substr(a + 1, b - a - 1))).as_object();
  return std::string(payload.at("sid").as_string());
}

// exp of a session revoked now: access TTL 900 s + leeway 30 s.
constexpr std::int64_t kRevokedFor = 900 + 30;

class RevocationApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<AuthFixture>(GetParam(), options());
    a_ = fx_->user_session("ann@example.com");
    ASSERT_EQ(a_.status, 200) << a_.raw;
    b_ = fx_->login("ann@example.com", "a long passphrase");
    ASSERT_EQ(b_.status, 200) << b_.raw;
  }
  virtual FixtureOptions options() { return {}; }

  Reply refresh(const std::string& token) {
    return fx_->call("POST", "/api/auth/refresh",
                     json::serialize(json::object{{"refresh_token", token}}));
  }
  bool introspect_active(const std::string& token) {
    return fx_
        ->call("POST", "/api/auth/introspect", json::serialize(json::object{{"token", token}}))
        .body.at("active")
        .as_bool();
  }
  Reply feed(const std::string& headers = {}) {
    return fx_->call("GET", "/api/auth/revocations", {}, headers);
  }
  // The sid → exp pairs of the feed.
  std::map<std::string, std::int64_t> listed() {
    auto r = feed();
    EXPECT_EQ(r.status, 200) << r.raw;
    std::map<std::string, std::int64_t> out;
    for (const auto& e : r.body.at("revoked").as_array()) {
      out[str(e, "sid")] = e.at("exp").to_number<std::int64_t>();
    }
    return out;
  }
  // `token` is refused by every Bearer route with `status` and by introspection.
  void expect_refused(const std::string& token, int status, const std::string& code) {
    auto me = fx_->call_as(token, "GET", "/api/auth/me");
    EXPECT_EQ(me.status, status) << me.raw;
    EXPECT_EQ(str(me.body.at("error"), "code"), code);
    EXPECT_EQ(me.header("Cache-Control"), "no-store");
    if (status == 401) {
      EXPECT_EQ(me.header("WWW-Authenticate"), "Bearer error=\"invalid_token\"");
    }
    auto pw = fx_->call_as(
        token, "POST", "/api/auth/password",
        R"({"current_password":"a long passphrase","new_password":"another long passphrase"})");
    EXPECT_EQ(pw.status, status) << pw.raw;
    EXPECT_EQ(fx_->call_as(token, "POST", "/api/auth/logout").status, status);
    EXPECT_FALSE(introspect_active(token));
  }

  std::unique_ptr<AuthFixture> fx_;
  Reply a_, b_;  // two sessions of ann
};

TEST_P(RevocationApiTest, LogoutRefusesTheSessionsAccessTokenAtOnceAndFeedsIt) {
  const std::string access = str(a_.body, "access_token");
  ASSERT_TRUE(introspect_active(access));
  ASSERT_EQ(
      fx_->call("POST", "/api/auth/logout",
                json::serialize(json::object{{"refresh_token", str(a_.body, "refresh_token")}}))
          .status,
      204);
  expect_refused(access, 401, "token_revoked");
  EXPECT_EQ(fx_->call_as(str(b_.body, "access_token"), "GET", "/api/auth/me").status, 200);
  const auto list = listed();
  ASSERT_EQ(list.size(), 1U);
  EXPECT_EQ(list.at(sid_of(access)), kStart + kRevokedFor);
}

TEST_P(RevocationApiTest, LogoutWithTheAccessTokenRevokesIt) {
  const std::string access = str(a_.body, "access_token");
  ASSERT_EQ(fx_->call_as(access, "POST", "/api/auth/logout").status, 204);
  expect_refused(access, 401, "token_revoked");
  EXPECT_TRUE(listed().contains(sid_of(access)));
}

TEST_P(RevocationApiTest, RefreshTokenReuseRevokesEveryAccessTokenOfTheSession) {
  auto second = refresh(str(a_.body, "refresh_token"));
  ASSERT_EQ(second.status, 200) << second.raw;
  const std::string thief = str(second.body, "access_token");
  ASSERT_EQ(fx_->call_as(thief, "GET", "/api/auth/me").status, 200);
  fx_->clock().advance(seconds(60));
  ASSERT_EQ(refresh(str(a_.body, "refresh_token")).status, 401);  // reuse detected
  expect_refused(str(a_.body, "access_token"), 401, "token_revoked");
  expect_refused(thief, 401, "token_revoked");
  EXPECT_EQ(listed().at(sid_of(thief)), kStart + 60 + kRevokedFor);
}

TEST_P(RevocationApiTest, PasswordChangeEndsTheOtherSessionsAtOnce) {
  const std::string keep = str(a_.body, "access_token");
  const std::string other = str(b_.body, "access_token");
  ASSERT_EQ(fx_->call_as(keep, "POST", "/api/auth/password",
                         R"({"current_password":"a long passphrase",)"
                         R"("new_password":"a brand new passphrase"})")
                .status,
            200);
  EXPECT_EQ(fx_->call_as(keep, "GET", "/api/auth/me").status, 200);
  EXPECT_TRUE(introspect_active(keep));
  expect_refused(other, 401, "token_revoked");
  const auto list = listed();
  EXPECT_TRUE(list.contains(sid_of(other)));
  EXPECT_FALSE(list.contains(sid_of(keep)));
}

TEST_P(RevocationApiTest, DisablingAUserEndsAllItsSessionsEvenAfterReenabling) {
  const std::string admin = fx_->admin_token();
  const std::string access = str(a_.body, "access_token");
  const std::string id = str(fx_->call_as(access, "GET", "/api/auth/me").body, "id");
  ASSERT_EQ(fx_->call_as(admin, "POST", "/api/auth/users/" + id + "/disable").status, 200);
  expect_refused(access, 403, "account_disabled");
  expect_refused(str(b_.body, "access_token"), 403, "account_disabled");
  const auto list = listed();
  EXPECT_TRUE(list.contains(sid_of(access)));
  EXPECT_TRUE(list.contains(sid_of(str(b_.body, "access_token"))));
  EXPECT_FALSE(list.contains(sid_of(admin)));
  // Enabling the account again does not bring its old sessions back.
  ASSERT_EQ(fx_->call_as(admin, "POST", "/api/auth/users/" + id + "/enable").status, 200);
  expect_refused(access, 401, "token_revoked");
  auto fresh = fx_->login("ann@example.com", "a long passphrase");
  ASSERT_EQ(fresh.status, 200);
  EXPECT_EQ(fx_->call_as(str(fresh.body, "access_token"), "GET", "/api/auth/me").status, 200);
}

TEST_P(RevocationApiTest, FeedHasAStrongETagAndAnswers304WhileUnchanged) {
  auto empty = feed();
  ASSERT_EQ(empty.status, 200) << empty.raw;
  EXPECT_EQ(empty.body.at("revoked").as_array().size(), 0U);
  EXPECT_EQ(empty.body.at("generated_at").to_number<std::int64_t>(), kStart);
  EXPECT_EQ(empty.body.at("poll_s").to_number<int>(), 5);
  EXPECT_EQ(empty.header("Cache-Control"), "no-store");
  const std::string etag0 = empty.header("ETag");
  ASSERT_EQ(etag0.size(), 34U);  // "<32 hex>", not W/
  auto same = feed("If-None-Match: " + etag0 + "\r\n");
  EXPECT_EQ(same.status, 304) << same.raw;
  EXPECT_EQ(same.header("ETag"), etag0);
  EXPECT_EQ(feed("If-None-Match: \"other\", " + etag0 + "\r\n").status, 304);

  ASSERT_EQ(fx_->call_as(str(a_.body, "access_token"), "POST", "/api/auth/logout").status, 204);
  auto changed = feed("If-None-Match: " + etag0 + "\r\n");
  ASSERT_EQ(changed.status, 200) << changed.raw;
  const std::string etag1 = changed.header("ETag");
  EXPECT_NE(etag1, etag0);
  fx_->clock().advance(seconds(3));
  auto again = feed();
  EXPECT_EQ(again.header("ETag"), etag1);
  EXPECT_EQ(again.raw.substr(again.raw.find("\r\n\r\n")),
            changed.raw.substr(changed.raw.find("\r\n\r\n")));  // same ETag, same bytes
  EXPECT_EQ(feed("If-None-Match: " + etag1 + "\r\n").status, 304);
}

TEST_P(RevocationApiTest, EntriesLeaveTheFeedWhenTheirTokensHaveExpired) {
  const std::string access = str(a_.body, "access_token");
  ASSERT_EQ(fx_->call_as(access, "POST", "/api/auth/logout").status, 204);
  const std::string etag = feed().header("ETag");
  fx_->clock().advance(seconds(kRevokedFor - 1));
  EXPECT_TRUE(listed().contains(sid_of(access)));
  EXPECT_EQ(feed("If-None-Match: " + etag + "\r\n").status, 304);
  fx_->clock().advance(seconds(1));
  EXPECT_TRUE(listed().empty());
  EXPECT_EQ(feed("If-None-Match: " + etag + "\r\n").status, 200);
  // The token itself stays refused: it has expired by now.
  EXPECT_EQ(fx_->call_as(access, "GET", "/api/auth/me").status, 401);
  // A later revocation prunes the old row; the feed stays bounded.
  ASSERT_EQ(
      fx_->call_as(str(fx_->login("ann@example.com", "a long passphrase").body, "access_token"),
                   "POST", "/api/auth/logout")
          .status,
      204);
  EXPECT_EQ(fx_->count("revoked_sessions"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, RevocationApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

class ProtectedFeedTest : public RevocationApiTest {
  FixtureOptions options() override {
    FixtureOptions o;
    o.config.introspect_token = "gateway-shared-secret-0123456789";
    return o;
  }
};

TEST_P(ProtectedFeedTest, NeedsTheIntrospectionSecret) {
  auto none = feed();
  EXPECT_EQ(none.status, 401) << none.raw;
  EXPECT_EQ(feed("Authorization: Bearer wrong\r\n").status, 401);
  auto ok = feed("Authorization: Bearer gateway-shared-secret-0123456789\r\n");
  EXPECT_EQ(ok.status, 200) << ok.raw;
}

INSTANTIATE_TEST_SUITE_P(Backends, ProtectedFeedTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

}  // namespace
}  // namespace enkisys::auth::testing
