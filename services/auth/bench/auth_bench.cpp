// enkisys-auth-bench: logins per second (argon2id at the interactive and the minimum limits,
// database writes included) and access tokens verified per second per core (EdDSA vs RS256).
// Single-threaded, so every figure is per core. Prints ratios between peers measured here.
//
//   enkisys-auth-bench [seconds-per-case]   (default 2)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "enkisys/auth/auth_service.hpp"
#include "enkisys/security/jwks.hpp"

namespace {

using namespace enkisys;
using Clock = std::chrono::steady_clock;

// Runs fn repeatedly for about `seconds` (at least 3 times, at most 1e7); returns calls/s.
double rate(double seconds, const std::function<void()>& fn) {
  const auto start = Clock::now();
  long n = 0;
  double elapsed = 0;
  while ((n < 3 || elapsed < seconds) && n < 10'000'000) {
    fn();
    ++n;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(n) / elapsed;
}

struct Bench {
  std::filesystem::path dir;
  std::unique_ptr<db::Database> database;
  std::unique_ptr<auth::AuthStore> store;
  std::unique_ptr<auth::KeyManager> keys;
  std::unique_ptr<auth::AccessTokens> tokens;
  std::unique_ptr<auth::AuthService> service;

  Bench(const std::filesystem::path& root, security::Alg alg, security::PasswordHasher hasher) {
    dir = root / std::string(security::alg_name(alg));
    std::filesystem::create_directories(dir);
    database = db::Database::open("sqlite://" + (dir / "auth.db").string());
    store = std::make_unique<auth::AuthStore>(*database);
    store->migrate();
    auth::KeyOptions ko;
    ko.dir = dir / "keys";
    ko.alg = alg;
    const auto& clock = security::SystemClock::instance();
    keys = std::make_unique<auth::KeyManager>(ko, clock);
    tokens = std::make_unique<auth::AccessTokens>(*keys, auth::AuthConfig{}, clock,
                                                  auth::system_random());
    service = std::make_unique<auth::AuthService>(*store, *tokens, *keys, hasher, clock,
                                                  auth::system_random());
  }
};

}  // namespace

int main(int argc, char** argv) {
  const double secs = argc > 1 ? std::atof(argv[1]) : 2.0;
  char templ[] = "/tmp/enkisys-auth-bench-XXXXXX";
  if (mkdtemp(templ) == nullptr) return 1;
  const std::filesystem::path root(templ);
  const auth::Caller caller{"127.0.0.1", "bench"};

  std::printf("%-44s %14s\n", "case (one core)", "per second");
  double login_rates[2] = {0, 0};
  const std::pair<const char*, security::PasswordHasher> hashers[] = {
      {"interactive (ops 2, 64 MiB)", security::PasswordHasher::interactive()},
      {"minimum (ops 1, 8 KiB)", security::PasswordHasher::for_tests()}};
  int i = 0;
  for (const auto& [name, hasher] : hashers) {
    Bench b(root / ("login" + std::to_string(i)), security::Alg::kEdDSA, hasher);
    if (!b.service->signup("bench@example.com", "a long bench passphrase", caller).ok()) return 1;
    login_rates[i] = rate(secs, [&] {
      if (!b.service->login("bench@example.com", "a long bench passphrase", caller).ok())
        std::abort();
    });
    std::printf("login, argon2id %-28s %14.1f\n", name, login_rates[i]);
    ++i;
  }

  double verify_rates[2] = {0, 0};
  i = 0;
  for (const auto alg : {security::Alg::kEdDSA, security::Alg::kRS256}) {
    Bench b(root / ("verify" + std::to_string(i)), alg, security::PasswordHasher::for_tests());
    const std::string token = b.tokens->issue("user-1", {"user"}, "session-1").token;
    // What a gateway does: verify against the published JWKS.
    const auto jwks = security::Jwks::parse(b.keys->jwks());
    const security::KeySet set = jwks->key_set();
    security::VerifyOptions vo;
    vo.issuers = {"enkisys-auth"};
    vo.audiences = {"enkisys"};
    vo.allowed_algs = {alg};
    verify_rates[i] = rate(secs, [&] {
      if (!security::verify(token, set, vo).ok()) std::abort();
    });
    std::printf("verify access token, %-23s %14.0f\n", std::string(security::alg_name(alg)).c_str(),
                verify_rates[i]);
    const double issue = rate(secs / 2, [&] { (void)b.tokens->issue("user-1", {"user"}, "s"); });
    std::printf("sign access token, %-25s %14.0f\n", std::string(security::alg_name(alg)).c_str(),
                issue);
    ++i;
  }
  std::printf("\nratio minimum/interactive logins: %.1fx\n", login_rates[1] / login_rates[0]);
  std::printf("ratio EdDSA/RS256 verifications:  %.2fx\n", verify_rates[0] / verify_rates[1]);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}
