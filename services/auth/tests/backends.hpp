// An auth service wired in process on an OS-chosen port over one backend (SQLite or the
// PostgreSQL named by ENKISYS_TEST_POSTGRES_URL), with a manual clock and argon2id minimum
// limits, plus functions that sign up, log in and call the API.
#pragma once

#include <boost/json/value.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "db_fixture.hpp"
#include "enkisys/auth/auth_api.hpp"
#include "enkisys/auth/auth_service.hpp"
#include "enkisys/core/testing.hpp"

namespace enkisys::auth::testing {

// 2026-01-01T00:00:00Z
inline constexpr std::int64_t kStart = 1767225600;

using Reply = core::testing::JsonReply;

struct FixtureOptions {
  AuthConfig config;
  security::Alg alg = security::Alg::kEdDSA;
  std::chrono::seconds rotation_period{0};
  security::PasswordHasher hasher = security::PasswordHasher::for_tests();
};

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class AuthFixture {
 public:
  explicit AuthFixture(db::Backend backend, FixtureOptions options = {});
  ~AuthFixture();

  Reply call(const std::string& method, const std::string& target, const std::string& body = {},
             const std::string& headers = {});
  Reply call_as(const std::string& access_token, const std::string& method,
                const std::string& target, const std::string& body = {});
  Reply signup(const std::string& email, const std::string& password);
  Reply login(const std::string& email, const std::string& password,
              const std::string& headers = {});
  // Signs up and logs in; returns the login reply (ASSERTs inside are the caller's job).
  Reply user_session(const std::string& email, const std::string& password = "a long passphrase");
  // The bootstrap admin's access token.
  std::string admin_token();
  std::int64_t count(const std::string& table);

  unsigned short port() const { return server_->port(); }
  security::ManualClock& clock() { return clock_; }
  AuthService& service() { return *service_; }
  AuthStore& store() { return *store_; }
  KeyManager& keys() { return *keys_; }
  db::Database& database() { return *db_; }
  const db::testing::TestStore& test_store() const { return *test_store_; }
  const std::filesystem::path& keys_dir() const { return keys_dir_.path(); }

 private:
  security::ManualClock clock_{std::chrono::sys_seconds(std::chrono::seconds(kStart))};
  TempDir keys_dir_;
  std::unique_ptr<db::testing::TestStore> test_store_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<AuthStore> store_;
  std::unique_ptr<KeyManager> keys_;
  std::unique_ptr<AccessTokens> tokens_;
  std::unique_ptr<AuthService> service_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<AuthApi> api_;
  std::unique_ptr<core::testing::TestServer> server_;
};

inline constexpr const char* kAdminEmail = "root@example.com";
inline constexpr const char* kAdminPassword = "admin passphrase 42";

}  // namespace enkisys::auth::testing
