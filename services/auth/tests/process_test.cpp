// The real enkisys-auth binary: CLI contract, bootstrap admin from a secret file, keys that
// survive a restart, secrets kept out of the logs, and a clean exit on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>

#include "backends.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;
using Env = std::vector<std::pair<std::string, std::string>>;

class Process {
 public:
  // Starts ENKISYS_AUTH_BIN with `env` (+ args) and, unless `wait_listening` is false, reads
  // its log until the "listening" line.
  Process(const Env& env, std::vector<std::string> args = {}, bool wait_listening = true) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(out[1], 2);
      close(out[0]);
      close(out[1]);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> argv{const_cast<char*>(ENKISYS_AUTH_BIN)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(ENKISYS_AUTH_BIN, argv.data());
      _exit(127);
    }
    close(out[1]);
    log_ = fdopen(out[0], "r");
    if (!wait_listening) return;
    char line[4096];
    for (int i = 0; i < 50 && fgets(line, sizeof line, log_); ++i) {
      output_ += line;
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      if (!ec && v.is_object() && v.as_object().contains("msg") && v.at("msg") == "listening") {
        port_ = static_cast<unsigned short>(v.at("port").to_number<int>());
        return;
      }
    }
    throw std::runtime_error("enkisys-auth did not start:\n" + output_);
  }
  ~Process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (log_) fclose(log_);
  }
  unsigned short port() const { return port_; }
  // Waits for exit (after SIGTERM if `term`); returns the exit code and collects the output.
  int finish(bool term) {
    if (term) kill(pid_, SIGTERM);
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, log_)) > 0) output_.append(buf, n);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  FILE* log_ = nullptr;
  unsigned short port_ = 0;
  std::string output_;
};

std::string url_for(const db::testing::TestStore& s) {
  if (s.backend() == Backend::kSqlite) return s.url();
  const std::string sep = s.url().find('?') == std::string::npos ? "?" : "&";
  return s.url() + sep + "options=-csearch_path%3D" + s.schema();
}

TEST(AuthBinary, HelpListsTheVariablesAndBadConfigExitsTwo) {
  Process help({}, {"--help"}, false);
  EXPECT_EQ(help.finish(false), 0);
  for (const char* var :
       {"AUTH_JWT_ALG", "AUTH_ACCESS_TTL_SECONDS", "AUTH_KEYS_DIR", "AUTH_SIGNING_KEY_FILE",
        "AUTH_KEY_ROTATION_DAYS", "AUTH_ARGON2_OPSLIMIT", "AUTH_ARGON2_MEMLIMIT",
        "AUTH_BOOTSTRAP_ADMIN_EMAIL", "AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE",
        "AUTH_INTROSPECT_TOKEN_FILE", "AUTH_TRUST_PROXY", "DATABASE_URL"}) {
    EXPECT_NE(help.output().find(var), std::string::npos) << var;
  }
  Process bad({{"AUTH_JWT_ALG", "HS256"}}, {}, false);
  EXPECT_EQ(bad.finish(false), 2);
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
                {"DATABASE_URL", url_for(store)},
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
    Process p(env);
    auto r = core::testing::http_request(p.port(), "POST", "/api/auth/login", login, headers);
    ASSERT_EQ(core::testing::status_of(r), 200) << r;
    jwks = core::testing::body_of(
        core::testing::http_request(p.port(), "GET", "/api/auth/.well-known/jwks.json"));
    EXPECT_EQ(core::testing::status_of(core::testing::http_request(p.port(), "GET", "/health")),
              200);
    EXPECT_EQ(p.finish(true), 0);
    EXPECT_EQ(p.output().find(password), std::string::npos) << "password leaked into the logs";
  }
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "keys")) {
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U) << e.path();
  }
  Process again(env);
  EXPECT_EQ(core::testing::body_of(core::testing::http_request(again.port(), "GET",
                                                               "/api/auth/.well-known/jwks.json")),
            jwks);  // same key after a restart
  auto r = core::testing::http_request(again.port(), "POST", "/api/auth/login", login, headers);
  EXPECT_EQ(core::testing::status_of(r), 200) << r;
  EXPECT_EQ(again.finish(true), 0);
  EXPECT_NE(again.output().find("\"outcome\":\"unchanged\""), std::string::npos) << again.output();
  EXPECT_EQ(again.output().find(password), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthProcessTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

}  // namespace
}  // namespace enkisys::auth::testing
