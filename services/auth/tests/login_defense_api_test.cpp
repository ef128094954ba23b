// Login defences over HTTP, on both backends: throttling that an attacker cannot turn against
// the owner, a disabled account that reveals nothing about the password, and the input limits
// of e-mail addresses and passwords.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <chrono>

#include "backends.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;
using std::chrono::seconds;

constexpr const char* kOwner = "X-Forwarded-For: 203.0.113.10\r\n";
constexpr const char* kAttacker = "X-Forwarded-For: 198.51.100.66\r\n";
constexpr const char* kPassword = "a long passphrase";

std::string code_of(const Reply& r) {
  return std::string(r.body.at("error").at("code").as_string());
}

std::string from(int i) {
  return "X-Forwarded-For: 192.0.2." + std::to_string(i) + "\r\n";
}

class LoginDefenseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    FixtureOptions o;
    o.config.trust_proxy = true;
    fx_ = std::make_unique<AuthFixture>(GetParam(), o);
    ASSERT_EQ(fx_->signup("ann@example.com", kPassword).status, 201);
  }
  Reply login(const char* password, const std::string& headers) {
    return fx_->login("ann@example.com", password, headers);
  }
  std::unique_ptr<AuthFixture> fx_;
};

TEST_P(LoginDefenseTest, AttackerHammeringFromOneAddressDoesNotLockOutTheOwner) {
  for (int i = 0; i < 50; ++i) {
    const int st = login("wrong guess!", kAttacker).status;
    EXPECT_TRUE(st == 401 || st == 429) << st;
  }
  // The owner, from an address never seen before, logs in at once.
  auto owner = login(kPassword, kOwner);
  EXPECT_EQ(owner.status, 200) << owner.raw;
  // The attacker stays throttled, even with the right password.
  auto again = login(kPassword, kAttacker);
  EXPECT_EQ(again.status, 429) << again.raw;
  EXPECT_EQ(code_of(again), "too_many_attempts");
  EXPECT_FALSE(again.header("Retry-After").empty());
}

TEST_P(LoginDefenseTest, PatientAttackerCannotLockOutTheOwnerAtAKnownAddress) {
  ASSERT_EQ(login(kPassword, kOwner).status, 200);  // the owner's usual place
  // 50 real failures from the attacker's address, each after its lock has passed: the
  // account-wide limit (20 free) is now in force for unknown addresses.
  for (int i = 0; i < 50; ++i) {
    auto r = login("wrong guess!", kAttacker);
    if (r.status == 429) {
      fx_->clock().advance(seconds(std::stoi(r.header("Retry-After"))));
      r = login("wrong guess!", kAttacker);
    }
    ASSERT_EQ(r.status, 401) << i << " " << r.raw;
  }
  auto owner = login(kPassword, kOwner);
  EXPECT_EQ(owner.status, 200) << owner.raw;
  EXPECT_EQ(login(kPassword, kAttacker).status, 429);
  // A third, never-seen address meets the account-wide lock.
  EXPECT_EQ(login(kPassword, "X-Forwarded-For: 203.0.113.99\r\n").status, 429);
}

TEST_P(LoginDefenseTest, DistributedGuessingMeetsTheAccountWideLimit) {
  ASSERT_EQ(login(kPassword, kOwner).status, 200);
  for (int i = 1; i <= 21; ++i) EXPECT_EQ(login("wrong guess!", from(i)).status, 401) << i;
  EXPECT_EQ(login("wrong guess!", from(22)).status, 429);  // a 22nd address
  EXPECT_EQ(login(kPassword, kOwner).status, 200);         // the owner's known address
}

TEST_P(LoginDefenseTest, OneAddressOverManyAccountsIsThrottled) {
  ASSERT_EQ(login(kPassword, kOwner).status, 200);
  for (int i = 0; i < 21; ++i) {
    EXPECT_EQ(
        fx_->login("user" + std::to_string(i) + "@example.com", "wrong guess!", kAttacker).status,
        401)
        << i;
  }
  EXPECT_EQ(fx_->login("fresh@example.com", "wrong guess!", kAttacker).status, 429);
  // Even a right password of an account this address never logged in to.
  EXPECT_EQ(login(kPassword, kAttacker).status, 429);
  EXPECT_EQ(login(kPassword, kOwner).status, 200);
}

TEST_P(LoginDefenseTest, DisabledAccountAnswersTheSameForAnyPassword) {
  const std::string admin = fx_->admin_token();
  const std::string id = fx_->store().user_by_email("ann@example.com")->id;
  ASSERT_EQ(fx_->call_as(admin, "POST", "/api/auth/users/" + id + "/disable").status, 200);
  auto right = login(kPassword, kOwner);
  auto wrong = login("wrong guess!", kOwner);
  EXPECT_EQ(right.status, 403) << right.raw;
  EXPECT_EQ(wrong.status, 403) << wrong.raw;
  EXPECT_EQ(code_of(right), "account_disabled");
  EXPECT_EQ(right.body.at("error").at("message"), wrong.body.at("error").at("message"));
  auto events = fx_->service().audit(std::nullopt, 2, "login_failed");
  ASSERT_EQ(events.items.size(), 2U);
  EXPECT_EQ(events.items[0].detail.at("reason"), "disabled");
  EXPECT_EQ(events.items[1].detail.at("reason"), "disabled");
}

TEST_P(LoginDefenseTest, EmailsUpTo254BytesAndPasswordsWithEightVisibleCharacters) {
  // 64 + '@' + 63 + '.' + 63 + '.' + 61 = 254 bytes.
  const std::string domain = std::string(63, 'd') + "." + std::string(63, 'e') + ".";
  const std::string longest = std::string(64, 'a') + "@" + domain + std::string(61, 'f');
  ASSERT_EQ(longest.size(), 254U);
  EXPECT_EQ(fx_->signup(longest, kPassword).status, 201);
  auto longer = fx_->signup(std::string(64, 'b') + "@" + domain + std::string(62, 'f'), kPassword);
  EXPECT_EQ(longer.status, 400) << longer.raw;
  EXPECT_EQ(fx_->count("users"), 3);  // admin, ann, the 254-byte address

  auto spaces = fx_->signup("bob@example.com", std::string(10, ' '));
  EXPECT_EQ(spaces.status, 400) << spaces.raw;
  EXPECT_EQ(code_of(spaces), "weak_password");
  EXPECT_EQ(spaces.body.at("error").at("path"), "/password");
  EXPECT_EQ(fx_->signup("bob@example.com", "a  b  c  d  e  f  g").status, 400);  // 7 visible
  EXPECT_EQ(fx_->signup("bob@example.com", "a b c d e f g h").status, 201);      // 8 visible
}

INSTANTIATE_TEST_SUITE_P(Backends, LoginDefenseTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

// With real argon2id cost, a disabled account costs the same for a right and a wrong password.
TEST(DisabledLoginTiming, RightAndWrongPasswordsCostAboutTheSame) {
  // argon2id at 32 MiB (~30 ms) dominates the audit row's fsync (jittery on a busy machine).
  FixtureOptions o;
  o.hasher = security::PasswordHasher(2, 32 * 1024 * 1024);
  AuthFixture fx(Backend::kSqlite, o);
  ASSERT_EQ(fx.signup("ann@example.com", kPassword).status, 201);
  const std::string id = fx.store().user_by_email("ann@example.com")->id;
  ASSERT_EQ(fx.call_as(fx.admin_token(), "POST", "/api/auth/users/" + id + "/disable").status, 200);
  auto timed = [&](const char* password, int i) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = fx.service().login("ann@example.com", password,
                                      Caller{"192.0.2." + std::to_string(i), "r"});
    EXPECT_EQ(r.error().code, "account_disabled");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<double> right, wrong;
  for (int i = 0; i < 5; ++i) {
    right.push_back(timed(kPassword, i));
    wrong.push_back(timed("wrong guess!", 10 + i));
  }
  std::sort(right.begin(), right.end());
  std::sort(wrong.begin(), wrong.end());
  EXPECT_GT(wrong[2], right[2] * 0.5) << "wrong " << wrong[2] << " s, right " << right[2] << " s";
  EXPECT_LT(wrong[2], right[2] * 2.0) << "wrong " << wrong[2] << " s, right " << right[2] << " s";
}

}  // namespace
}  // namespace enkisys::auth::testing
