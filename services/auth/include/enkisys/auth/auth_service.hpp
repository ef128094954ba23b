// AuthService: the account, session, key and API-key rules of the auth service, independent of
// HTTP. auth_api.* turns HTTP requests into these calls and AuthError values into responses.
//
// Contract:
//  * Thread-safe. Every method may block (database, argon2id): call it off the I/O threads.
//  * Errors are values (core::Expected / core::Status holding an errors:: value); exceptions
//    only for broken invariants or a failing database (they become 500s at the HTTP boundary).
//  * Login answers an unknown email exactly like a wrong password (same error, and an argon2id
//    verification of a dummy hash so the timing is similar). A disabled account answers
//    account_disabled whatever the password, after the same verification. Failures grow
//    delays (LoginThrottle) answered as too_many_attempts with retry_after_s: per (account,
//    address) always; per address across accounts and per account only for an address that
//    has never logged in to this account (so nobody can lock the owner out of a known place).
//  * A session (refresh-token family = the `sid` of its access tokens) revoked by logout,
//    refresh-token reuse, a password change or disabling its user is refused at once by
//    authenticate() and introspect(), and is listed by revocations() until every access token
//    it may hold has expired.
//  * Every security-relevant action is audited, in the same transaction as the action.
//  * Secrets (passwords, refresh tokens, API keys) are compared only through argon2id or as
//    SHA-256 digests with constant_time_equal, and never logged or stored in clear.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/auth/access_tokens.hpp"
#include "enkisys/auth/auth_store.hpp"
#include "enkisys/auth/login_throttle.hpp"
#include "enkisys/auth/password_policy.hpp"
#include "enkisys/core/expected.hpp"
#include "enkisys/security/password.hpp"

namespace enkisys::auth {

// The service's errors: core::Error values whose kind gives the HTTP status (core's one table)
// and whose code is the stable API code. One factory per code, so every path that refuses the
// same thing answers the same thing.
namespace errors {
core::Error invalid_request(std::string message);                   // 400 invalid_request
core::Error weak_password(std::string message, std::string field);  // 400 weak_password
core::Error email_taken();                                          // 409 email_taken
core::Error invalid_credentials();                                  // 401 invalid_credentials
core::Error invalid_token(std::string message);                     // 401 invalid_token
core::Error token_revoked();                                        // 401 token_revoked
core::Error account_disabled();                                     // 403 account_disabled
core::Error forbidden(std::string message);                         // 403 forbidden
core::Error signup_closed();                                        // 403 signup_closed
core::Error not_found(std::string message);                         // 404 not_found
core::Error conflict(std::string message);                          // 409 conflict
core::Error too_many_attempts(std::int64_t retry_after_s);          // 429 too_many_attempts
}  // namespace errors

struct Caller {
  std::string ip, request_id;
};

struct TokenPair {
  std::string access_token, refresh_token;
  std::int64_t expires_in = 0;
};

struct NewApiKey {
  ApiKey key;
  std::string secret;  // the whole key, shown once
};

// A revoked session whose access tokens may still be unexpired; `exp` is the latest moment one
// of them could still verify (revoked_at + access TTL + leeway).
struct RevokedSessions {
  std::vector<RevokedSession> sessions;  // ordered by sid
  std::int64_t generated_at = 0;
};

struct Introspection {
  bool active = false;
  std::string sub;
  std::vector<std::string> roles, scopes;
  std::optional<std::int64_t> exp;
  std::string kind;  // "access_token" | "api_key"
};

class AuthService {
 public:
  AuthService(AuthStore& store, AccessTokens& tokens, KeyManager& keys,
              security::PasswordHasher hasher, const security::Clock& clock, RandomSource random);

  // Accounts and sessions (auth_service.cpp).
  core::Expected<User> signup(const std::string& email, const std::string& password,
                              const Caller& caller);
  core::Expected<TokenPair> login(const std::string& email, const std::string& password,
                                  const Caller& caller);
  core::Expected<TokenPair> refresh(const std::string& refresh_token, const Caller& caller);
  // Ends the session of `refresh_token`, or else the session `principal` belongs to.
  void logout(const std::string& refresh_token, const Principal* principal, const Caller& caller);
  // Verifies a bearer access token, that its user still exists and is enabled (else
  // account_disabled), and that its session has not been revoked (else token_revoked).
  core::Expected<Principal> authenticate(const std::string& access_token);
  core::Expected<User> me(const Principal& p);
  core::Status change_password(const Principal& p, const std::string& current,
                               const std::string& next, const Caller& caller);
  // Creates the admin, or makes an existing account admin; never changes a password.
  // Returns "created", "promoted" or "unchanged"; throws std::runtime_error on a bad email
  // or a password the policy refuses.
  std::string bootstrap_admin(const std::string& email, const std::string& password);

  // Administration (auth_service_admin.cpp). REQUIRES: the caller checked the admin role.
  UserPage list_users(int limit, int offset);
  core::Expected<User> set_disabled(const Principal& admin, const std::string& user_id,
                                    bool disabled, const Caller& caller);
  core::Expected<std::string> rotate_keys(const Principal& admin, const Caller& caller);
  core::Expected<NewApiKey> create_api_key(const Principal& admin, const std::string& name,
                                           const std::vector<std::string>& scopes,
                                           const Caller& caller);
  std::vector<ApiKey> list_api_keys();
  core::Status revoke_api_key(const Principal& admin, const std::string& id, const Caller& caller);
  AuditPage audit(std::optional<std::int64_t> before, int limit, const std::string& event);
  // An API key ("ek_...") or an access token; inactive for anything invalid or revoked.
  Introspection introspect(const std::string& token);
  // The revoked sessions whose access tokens may still verify (the gateway's feed).
  RevokedSessions revocations();
  // Records a signing-key rotation done by the KeyManager on its own schedule.
  void record_key_rotation(const std::string& kid, const std::string& reason);

  std::string jwks() { return keys_.jwks(); }
  std::vector<PublishedKey> published_keys() { return keys_.published(); }

  const PasswordPolicy& policy() const { return policy_; }
  LoginThrottle& throttle() { return throttle_; }
  const AuthConfig& config() const { return tokens_.config(); }

 private:
  TokenPair issue_session(const User& user, const std::string& family, const Caller& caller,
                          AuditEvent audit);
  AuditEvent event(const std::string& name, const Caller& caller) const;
  std::int64_t now() const;
  // When the access tokens of a session revoked now have all expired.
  std::int64_t revoked_until() const;
  std::string new_id();

  AuthStore& store_;
  AccessTokens& tokens_;
  KeyManager& keys_;
  security::PasswordHasher hasher_;
  const security::Clock& clock_;
  RandomSource random_;
  PasswordPolicy policy_;
  LoginThrottle throttle_;
  std::string dummy_hash_;  // verified for unknown emails, so they cost what a real check costs
};

// "user" accounts carry roles ["user"]; "admin" accounts ["admin","user"].
std::vector<std::string> roles_of(const User& user);

}  // namespace enkisys::auth
