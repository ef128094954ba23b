// The real enkisys-auth binary: CLI contract, bootstrap admin from a secret file, keys that
// survive a restart, secrets kept out of the logs, and a clean exit on SIGTERM.
#include "enkisys/core/testing/process.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <fstream>

#include "backends.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;
using Env = core::testing::ProcessEnv;

// The real enkisys-auth with `env` (+ args), started with the core test kit; unless
// `wait_listening` is false, waits for its "listening" line.
core::testing::ServiceProcess start_auth(const Env& env, std::vector<std::string> args = {},
                                         bool wait_listening = true) {
  return core::testing::ServiceProcess(ENKISYS_AUTH_BIN, env, std::move(args), wait_listening);
}

TEST(AuthBinary, HelpListsTheVariablesAndBadConfigExitsTwo) {
  auto help = start_auth({}, {"--help"}, false);
  EXPECT_EQ(help.wait_exit(), 0);
  for (const char* var :
       {"AUTH_JWT_ALG", "AUTH_ACCESS_TTL_SECONDS", "AUTH_KEYS_DIR", "AUTH_SIGNING_KEY_FILE",
        "AUTH_KEY_ROTATION_DAYS", "AUTH_ARGON2_OPSLIMIT", "AUTH_ARGON2_MEMLIMIT",
        "AUTH_BOOTSTRAP_ADMIN_EMAIL", "AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE",
        "AUTH_INTROSPECT_TOKEN_FILE", "AUTH_TRUST_PROXY", "DATABASE_URL"}) {
    EXPECT_NE(help.output().find(var), std::string::npos) << var;
  }
  auto bad = start_auth({{"AUTH_JWT_ALG", "HS256"}}, {}, false);
  EXPECT_EQ(bad.wait_exit(), 2);
  EXPECT_NE(bad.output().find("AUTH_JWT_ALG"), std::string::npos);
}

class AuthProcessTest : public ::testing::TestWithParam<Backend> {};

TEST_P(AuthProcessTest, BootstrapKeysAndRestart) {
  ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
  db::testing::TestStore store(GetParam());
  TempDir dir;
  const std::string password = "bootstrap secret passphrase 7";
  const auto pw_file = dir.path() / "admin-password";
  std::ofstream(pw_file) << password << "\n";
  const Env env{{"PORT", "0"},
                {"BIND_ADDRESS", "127.0.0.1"},
                {"ACCESS_LOG", "off"},
                {"DATABASE_URL", store.process_url()},
                {"AUTH_KEYS_DIR", (dir.path() / "keys").string()},
                {"AUTH_ARGON2_OPSLIMIT", "1"},
                {"AUTH_ARGON2_MEMLIMIT", "8192"},
                {"AUTH_BOOTSTRAP_ADMIN_EMAIL", "Root@Example.com"},
                {"AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE", pw_file.string()}};
  const std::string login =
      json::serialize(json::object{{"email", "root@example.com"}, {"password", password}});
  const std::string headers = "Content-Type: application/json\r\n";
  std::string jwks;
  {
    auto p = start_auth(env);
    auto r = core::testing::http_request(p.port(), "POST", "/api/auth/login", login, headers);
    ASSERT_EQ(core::testing::status_of(r), 200) << r;
    jwks = core::testing::body_of(
        core::testing::http_request(p.port(), "GET", "/api/auth/.well-known/jwks.json"));
    EXPECT_EQ(core::testing::status_of(core::testing::http_request(p.port(), "GET", "/health")),
              200);
    EXPECT_EQ(p.terminate(), 0);
    EXPECT_EQ(p.output().find(password), std::string::npos) << "password leaked into the logs";
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "keys")) {
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U) << e.path();
  }
  auto again = start_auth(env);
  EXPECT_EQ(core::testing::body_of(core::testing::http_request(again.port(), "GET",
                                                               "/api/auth/.well-known/jwks.json")),
            jwks);  // same key after a restart
  auto r = core::testing::http_request(again.port(), "POST", "/api/auth/login", login, headers);
  EXPECT_EQ(core::testing::status_of(r), 200) << r;
  EXPECT_EQ(again.terminate(), 0);
  EXPECT_NE(again.output().find("\"outcome\":\"unchanged\""), std::string::npos) << again.output();
  EXPECT_EQ(again.output().find(password), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthProcessTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

}  // namespace
}  // namespace enkisys::auth::testing
