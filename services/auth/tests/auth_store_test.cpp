// AuthStore on both backends.
#include "enkisys/auth/auth_store.hpp"

#include <gtest/gtest.h>

#include "db_fixture.hpp"

namespace enkisys::auth {
namespace {

class AuthStoreTest : public db::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (IsSkipped()) return;
    store_ = std::make_unique<AuthStore>(*db_);
    store_->migrate();
    store_->migrate();  // idempotent
  }
  User user(const std::string& id, const std::string& email) {
    return User{id, email, "$argon2id$placeholder", "user", false, 100, 100};
  }
  AuditEvent ev(const std::string& name) {
    AuditEvent e;
    e.event = name;
    e.at = 100;
    return e;
  }
  std::int64_t audit_count(const std::string& event) {
    return db_->query("SELECT count(*) FROM audit_events WHERE event = $1", {event}).one().i64(0);
  }
  std::unique_ptr<AuthStore> store_;
};

TEST_P(AuthStoreTest, EmailsAreUniqueAndAFailedSignupWritesNothing) {
  EXPECT_TRUE(store_->create_user(user("u1", "a@example.com"), ev("signup")));
  EXPECT_FALSE(store_->create_user(user("u2", "a@example.com"), ev("signup")));
  EXPECT_EQ(count("users"), 1);
  EXPECT_EQ(audit_count("signup"), 1);
  EXPECT_EQ(store_->user_by_email("a@example.com")->id, "u1");
  EXPECT_FALSE(store_->user_by_id("u2"));
}

TEST_P(AuthStoreTest, RefreshTokensRotateAndReuseRevokesTheFamily) {
  ASSERT_TRUE(store_->create_user(user("u1", "a@example.com"), ev("signup")));
  store_->insert_refresh({"h1", "fam", "u1", 100, 1000}, ev("login_ok"));
  User u;
  RefreshToken next{"h2", "", "", 110, 1000};
  ASSERT_EQ(store_->rotate_refresh("h1", &next, 110, 1070, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kOk);
  EXPECT_EQ(next.family_id, "fam");
  EXPECT_EQ(u.id, "u1");
  RefreshToken again{"h3", "", "", 120, 1000};
  EXPECT_EQ(store_->rotate_refresh("h1", &again, 120, 1080, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kReused);
  EXPECT_EQ(audit_count("reuse"), 1);
  // The legitimate successor died with its family.
  RefreshToken third{"h4", "", "", 130, 1000};
  EXPECT_EQ(store_->rotate_refresh("h2", &third, 130, 1090, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kRevoked);
  EXPECT_EQ(store_->rotate_refresh("nope", &third, 130, 1090, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kUnknown);
  EXPECT_EQ(count("refresh_tokens"), 2);  // h3/h4 were never stored
}

TEST_P(AuthStoreTest, ExpiredAndDisabledRefreshesAreRefused) {
  ASSERT_TRUE(store_->create_user(user("u1", "a@example.com"), ev("signup")));
  store_->insert_refresh({"h1", "f1", "u1", 100, 200}, ev("login_ok"));
  store_->insert_refresh({"h2", "f2", "u1", 100, 9000}, ev("login_ok"));
  User u;
  RefreshToken next{"n", "", "", 300, 9000};
  EXPECT_EQ(store_->rotate_refresh("h1", &next, 300, 1260, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kExpired);
  ASSERT_TRUE(store_->set_disabled("u1", true, 300, 1260, ev("user_disabled")));
  EXPECT_EQ(store_->rotate_refresh("h2", &next, 301, 1261, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kRevoked);  // disabling revoked every session
  EXPECT_TRUE(store_->user_by_id("u1")->disabled);
  EXPECT_FALSE(store_->set_disabled("ghost", true, 300, 1260, ev("user_disabled")));
}

TEST_P(AuthStoreTest, PasswordChangeRevokesOtherFamiliesOnly) {
  ASSERT_TRUE(store_->create_user(user("u1", "a@example.com"), ev("signup")));
  store_->insert_refresh({"h1", "keep", "u1", 100, 9000}, ev("login_ok"));
  store_->insert_refresh({"h2", "other", "u1", 100, 9000}, ev("login_ok"));
  store_->change_password("u1", "$argon2id$new", "keep", 200, 1160, ev("password_changed"));
  EXPECT_EQ(store_->user_by_id("u1")->password_hash, "$argon2id$new");
  User u;
  RefreshToken n1{"n1", "", "", 201, 9000}, n2{"n2", "", "", 201, 9000};
  EXPECT_EQ(store_->rotate_refresh("h1", &n1, 201, 1161, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kOk);
  EXPECT_EQ(store_->rotate_refresh("h2", &n2, 201, 1161, ev("refresh"), ev("reuse"), &u),
            RefreshOutcome::kRevoked);
}

TEST_P(AuthStoreTest, AuditPagesNewestFirstAndFilters) {
  for (int i = 0; i < 5; ++i) store_->record(ev(i % 2 ? "login_failed" : "login_ok"));
  auto p1 = store_->audit(std::nullopt, 2, "");
  ASSERT_EQ(p1.items.size(), 2U);
  ASSERT_TRUE(p1.next_before);
  EXPECT_GT(p1.items[0].id, p1.items[1].id);
  auto p2 = store_->audit(p1.next_before, 2, "");
  auto p3 = store_->audit(p2.next_before, 2, "");
  EXPECT_EQ(p3.items.size(), 1U);
  EXPECT_FALSE(p3.next_before);
  EXPECT_EQ(store_->audit(std::nullopt, 50, "login_failed").items.size(), 2U);
}

TEST_P(AuthStoreTest, ApiKeysAreStoredHashedAndRevocable) {
  ApiKey k;
  k.id = "k1";
  k.prefix = "abcdefghijkl";
  k.secret_hash = std::string(64, 'f');
  k.name = "telegram";
  k.scopes = {"channel:telegram", "tools:invoke"};
  k.created_by = "admin";
  k.created_at = 100;
  store_->create_api_key(k, ev("api_key_created"));
  auto got = store_->api_key_by_prefix("abcdefghijkl");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->scopes, k.scopes);
  EXPECT_FALSE(got->revoked_at);
  EXPECT_TRUE(store_->revoke_api_key("k1", 200, ev("api_key_revoked")));
  EXPECT_FALSE(store_->revoke_api_key("k1", 201, ev("api_key_revoked")));
  EXPECT_EQ(*store_->api_key_by_prefix("abcdefghijkl")->revoked_at, 200);
  EXPECT_EQ(store_->list_api_keys().size(), 1U);
  EXPECT_EQ(audit_count("api_key_revoked"), 1);
}

ENKISYS_DB_ON_BOTH_BACKENDS(AuthStoreTest);

}  // namespace
}  // namespace enkisys::auth
