// enkisys-auth: the authentication service (port 5002). Wiring only.
#include "enkisys/auth/auth_api.hpp"
#include "enkisys/auth/auth_service.hpp"
#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"
#include "service_database.hpp"

namespace {

using namespace enkisys;

struct AuthProcess {
  std::unique_ptr<db::Database> database;
  std::unique_ptr<auth::AuthStore> store;
  std::unique_ptr<auth::KeyManager> keys;
  std::unique_ptr<auth::AccessTokens> tokens;
  std::unique_ptr<auth::AuthService> service;
  std::unique_ptr<auth::AuthApi> api;
};

}  // namespace

int main(int argc, char** argv) {
  core::ServiceSpec spec;
  spec.name = "auth";
  spec.summary =
      "Authentication: accounts, argon2id passwords, JWT access + rotating refresh "
      "tokens, JWKS, API keys";
  spec.default_port = 5002;
  spec.declare = [](core::EnvConfig& c) {
    db::declare_database(c, "sqlite:///data/auth.db");
    c.add({"AUTH_ISSUER", "iss of the access tokens", "enkisys-auth"});
    c.add({"AUTH_AUDIENCE", "aud of the access tokens", "enkisys"});
    c.add({"AUTH_JWT_ALG", "access-token signature: EdDSA | RS256", "EdDSA", false, false,
           core::one_of({"EdDSA", "RS256"})});
    c.add({"AUTH_ACCESS_TTL_SECONDS", "access-token lifetime", "900", false, false,
           core::integer_in(30, 86400)});
    c.add({"AUTH_REFRESH_TTL_SECONDS", "refresh-token lifetime", "2592000", false, false,
           core::integer_in(300, 31536000)});
    c.add(
        {"AUTH_KEYS_DIR", "directory of the private signing keys (mode 0600 files)", "/data/keys"});
    c.add({"AUTH_SIGNING_KEY_FILE",
           "a fixed private key PEM (secret file) instead of AUTH_KEYS_DIR", ""});
    c.add({"AUTH_KEY_ROTATION_DAYS",
           "generate a new signing key when the active one is this old "
           "(0: only by POST /api/auth/keys/rotate)",
           "30", false, false, core::integer_in(0, 3650)});
    c.add({"AUTH_JWKS_MAX_AGE_SECONDS", "Cache-Control max-age of the JWKS", "300", false, false,
           core::integer_in(0, 86400)});
    c.add({"AUTH_ARGON2_OPSLIMIT", "argon2id passes", "2", false, false, core::integer_in(1, 32)});
    c.add({"AUTH_ARGON2_MEMLIMIT", "argon2id memory in bytes", "67108864", false, false,
           core::integer_in(8192, 4LL * 1024 * 1024 * 1024)});
    c.add({"AUTH_BOOTSTRAP_ADMIN_EMAIL", "email of the first admin (created at start if missing)",
           ""});
    c.add({"AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE", "secret file holding the first admin's password",
           ""});
    c.add({"AUTH_INTROSPECT_TOKEN_FILE",
           "secret file; when set, /api/auth/introspect requires it as a Bearer token", ""});
    c.add({"AUTH_TRUST_PROXY", "1: client IP from X-Forwarded-For's first hop (behind the gateway)",
           "0", false, false, core::one_of({"0", "1"})});
    c.add({"AUTH_ALLOW_SIGNUP", "1: anyone may sign up; 0: accounts only from admins/bootstrap",
           "1", false, false, core::one_of({"0", "1"})});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto s = std::make_shared<AuthProcess>();
    const auto& cfg = env.config;
    s->database = db::open_service_database(env);
    s->store = std::make_unique<auth::AuthStore>(*s->database);
    s->store->migrate();

    auth::AuthConfig ac;
    ac.issuer = cfg.get("AUTH_ISSUER");
    ac.audience = cfg.get("AUTH_AUDIENCE");
    ac.access_ttl = std::chrono::seconds(cfg.get_int("AUTH_ACCESS_TTL_SECONDS"));
    ac.refresh_ttl = std::chrono::seconds(cfg.get_int("AUTH_REFRESH_TTL_SECONDS"));
    ac.trust_proxy = cfg.get("AUTH_TRUST_PROXY") == "1";
    ac.allow_signup = cfg.get("AUTH_ALLOW_SIGNUP") == "1";
    ac.introspect_token = cfg.secret_file("AUTH_INTROSPECT_TOKEN_FILE").value_or("");

    const core::Clock& clock = env.clock;
    auth::KeyOptions ko;
    ko.dir = cfg.get("AUTH_KEYS_DIR");
    ko.signing_key_file = cfg.get("AUTH_SIGNING_KEY_FILE");
    ko.alg = *security::parse_alg(cfg.get("AUTH_JWT_ALG"));
    ko.rotation_period = std::chrono::hours(24 * cfg.get_int("AUTH_KEY_ROTATION_DAYS"));
    ko.retire_grace = ac.access_ttl + ac.leeway + std::chrono::seconds(60);
    // Rotations before the service exists (the first key) are logged; later ones audited too.
    AuthProcess* self = s.get();
    core::Logger* log = &env.log;
    ko.on_rotated = [self, log](const std::string& kid, const std::string& reason) {
      log->info("signing key generated", {{"kid", kid}, {"reason", reason}});
      if (self->service) self->service->record_key_rotation(kid, reason);
    };
    s->keys = std::make_unique<auth::KeyManager>(ko, clock);
    s->tokens = std::make_unique<auth::AccessTokens>(*s->keys, ac, clock, auth::system_random());
    security::PasswordHasher hasher(
        static_cast<unsigned long long>(cfg.get_int("AUTH_ARGON2_OPSLIMIT")),
        static_cast<std::size_t>(cfg.get_int("AUTH_ARGON2_MEMLIMIT")));
    s->service = std::make_unique<auth::AuthService>(*s->store, *s->tokens, *s->keys, hasher, clock,
                                                     auth::system_random());

    const std::string admin = cfg.get("AUTH_BOOTSTRAP_ADMIN_EMAIL");
    if (!admin.empty()) {
      const auto password = cfg.secret_file("AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE");
      if (!password) {
        throw core::ConfigError(
            "AUTH_BOOTSTRAP_ADMIN_EMAIL needs AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE");
      }
      const std::string outcome = s->service->bootstrap_admin(admin, *password);
      env.log.info("bootstrap admin", {{"outcome", outcome}});
    }

    s->api = std::make_unique<auth::AuthApi>(
        *s->service, env.metrics, std::chrono::seconds(cfg.get_int("AUTH_JWKS_MAX_AGE_SECONDS")));
    s->api->add_routes(env.router);
    auth::KeyManager* keys = s->keys.get();
    env.health.add("signing_key", [keys] {
      try {
        return core::CheckResult{true, std::string(keys->active().kid())};
      } catch (const std::exception& e) {
        return core::CheckResult{false, e.what()};
      }
    });
    return s;
  };
  return core::run_service(spec, argc, argv);
}
