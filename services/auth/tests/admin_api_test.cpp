// Admin endpoints over HTTP, on both backends.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "backends.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;

std::string str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

class AdminApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<AuthFixture>(GetParam());
    admin_ = fx_->admin_token();
  }
  std::unique_ptr<AuthFixture> fx_;
  std::string admin_;
};

TEST_P(AdminApiTest, AdminRoutesNeedAnAdminToken) {
  auto user = fx_->user_session("ann@example.com");
  const std::string token = str(user.body, "access_token");
  const std::vector<std::pair<std::string, std::string>> routes{
      {"GET", "/api/auth/users"},        {"POST", "/api/auth/users/x/disable"},
      {"GET", "/api/auth/audit"},        {"GET", "/api/auth/keys"},
      {"POST", "/api/auth/keys/rotate"}, {"GET", "/api/auth/api-keys"},
      {"POST", "/api/auth/api-keys"},    {"DELETE", "/api/auth/api-keys/x"}};
  for (const auto& [method, target] : routes) {
    EXPECT_EQ(fx_->call(method, target).status, 401) << method << " " << target;
    auto r = fx_->call_as(token, method, target, method == "POST" ? "{}" : "");
    EXPECT_EQ(r.status, 403) << method << " " << target << "\n" << r.raw;
  }
}

TEST_P(AdminApiTest, UsersArePaged) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(fx_->signup("u" + std::to_string(i) + "@example.com", "a long passphrase").status,
              201);
    fx_->clock().advance(std::chrono::seconds(1));
  }
  auto p1 = fx_->call_as(admin_, "GET", "/api/auth/users?limit=2");
  ASSERT_EQ(p1.status, 200) << p1.raw;
  EXPECT_EQ(p1.body.at("total").to_number<int>(), 5);
  EXPECT_EQ(p1.body.at("users").as_array().size(), 2U);
  EXPECT_EQ(p1.body.at("next_offset").to_number<int>(), 2);
  auto p3 = fx_->call_as(admin_, "GET", "/api/auth/users?limit=2&offset=4");
  EXPECT_EQ(p3.body.at("users").as_array().size(), 1U);
  EXPECT_TRUE(p3.body.at("next_offset").is_null());
  EXPECT_EQ(str(p3.body.at("users").at(0), "email"), "u3@example.com");
  EXPECT_EQ(fx_->call_as(admin_, "GET", "/api/auth/users?limit=0").status, 400);
  EXPECT_EQ(fx_->call_as(admin_, "GET", "/api/auth/users?limit=abc").status, 400);
}

TEST_P(AdminApiTest, DisablingIsAuditedAndGuarded) {
  auto s = fx_->signup("ann@example.com", "a long passphrase");
  const std::string id = str(s.body, "id");
  auto d = fx_->call_as(admin_, "POST", "/api/auth/users/" + id + "/disable");
  ASSERT_EQ(d.status, 200) << d.raw;
  EXPECT_EQ(d.body.at("disabled"), true);
  EXPECT_EQ(fx_->call_as(admin_, "POST", "/api/auth/users/nope/disable").status, 404);
  const std::string self = str(fx_->call_as(admin_, "GET", "/api/auth/me").body, "id");
  EXPECT_EQ(fx_->call_as(admin_, "POST", "/api/auth/users/" + self + "/disable").status, 409);
  auto audit = fx_->call_as(admin_, "GET", "/api/auth/audit?event=user_disabled");
  ASSERT_EQ(audit.status, 200);
  ASSERT_EQ(audit.body.at("events").as_array().size(), 1U);
  EXPECT_EQ(str(audit.body.at("events").at(0), "user_id"), id);
  EXPECT_EQ(str(audit.body.at("events").at(0).at("detail"), "by"), self);
}

TEST_P(AdminApiTest, AuditIsPagedNewestFirst) {
  for (int i = 0; i < 3; ++i) fx_->login("ann@example.com", "wrong guess!");
  auto p1 = fx_->call_as(admin_, "GET", "/api/auth/audit?limit=2");
  ASSERT_EQ(p1.status, 200) << p1.raw;
  const auto& events = p1.body.at("events").as_array();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(str(events[0], "event"), "login_failed");
  EXPECT_EQ(str(events[0], "ip"), "127.0.0.1");
  EXPECT_FALSE(str(events[0], "request_id").empty());
  const auto before = p1.body.at("next_before").to_number<std::int64_t>();
  auto p2 = fx_->call_as(admin_, "GET", "/api/auth/audit?limit=2&before=" + std::to_string(before));
  EXPECT_LT(p2.body.at("events").at(0).at("id").to_number<std::int64_t>(), before);
  // Every kind of event appears: signup, login, failures (bootstrap and admin login earlier).
  auto all = fx_->call_as(admin_, "GET", "/api/auth/audit?limit=200");
  std::set<std::string> kinds;
  for (const auto& e : all.body.at("events").as_array()) kinds.insert(str(e, "event"));
  EXPECT_TRUE(kinds.contains("bootstrap_admin_created"));
  EXPECT_TRUE(kinds.contains("login_ok"));
  EXPECT_TRUE(kinds.contains("login_failed"));
}

TEST_P(AdminApiTest, ApiKeysAreShownOnceAndStoredHashed) {
  auto bad =
      fx_->call_as(admin_, "POST", "/api/auth/api-keys", R"({"name":"x","scopes":["bad scope"]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(fx_->call_as(admin_, "POST", "/api/auth/api-keys", R"({"name":""})").status, 400);
  EXPECT_EQ(
      fx_->call_as(admin_, "POST", "/api/auth/api-keys", R"({"name":"x","owner":"me"})").status,
      400);
  EXPECT_EQ(fx_->count("api_keys"), 0);
  auto c = fx_->call_as(admin_, "POST", "/api/auth/api-keys",
                        R"({"name":"slack","scopes":["channel:slack"]})");
  ASSERT_EQ(c.status, 201) << c.raw;
  const std::string secret = str(c.body, "key");
  EXPECT_TRUE(secret.starts_with(str(c.body, "prefix") + "_"));
  EXPECT_EQ(c.header("Cache-Control"), "no-store");
  auto list = fx_->call_as(admin_, "GET", "/api/auth/api-keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.raw.find(secret.substr(16)), std::string::npos);  // the secret is never listed
  EXPECT_EQ(list.body.at("api_keys").as_array().size(), 1U);
  EXPECT_EQ(fx_->database()
                .query("SELECT count(*) FROM api_keys WHERE secret_hash = $1",
                       {security::sha256_hex(secret)})
                .one()
                .i64(0),
            1);
  const std::string id = str(c.body, "id");
  EXPECT_EQ(fx_->call_as(admin_, "DELETE", "/api/auth/api-keys/" + id).status, 204);
  EXPECT_EQ(fx_->call_as(admin_, "DELETE", "/api/auth/api-keys/" + id).status, 404);
  auto revoked = fx_->call_as(admin_, "GET", "/api/auth/api-keys");
  EXPECT_FALSE(revoked.body.at("api_keys").at(0).at("revoked_at").is_null());
  auto audit = fx_->service().audit(std::nullopt, 10, "");
  std::set<std::string> kinds;
  for (const auto& e : audit.items) kinds.insert(e.event);
  EXPECT_TRUE(kinds.contains("api_key_created"));
  EXPECT_TRUE(kinds.contains("api_key_revoked"));
}

TEST_P(AdminApiTest, KeysListShowsTheActiveKey) {
  auto r = fx_->call_as(admin_, "GET", "/api/auth/keys");
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body.at("keys").as_array().size(), 1U);
  EXPECT_EQ(r.body.at("keys").at(0).at("active"), true);
  EXPECT_EQ(str(r.body.at("keys").at(0), "kid"), fx_->keys().active().kid());
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

}  // namespace
}  // namespace enkisys::auth::testing
