// AuthService: the account, session, key and API-key rules of the auth service, independent of
// HTTP. auth_api.* turns HTTP requests into these calls and AuthError values into responses.
//
// Contract:
//  * Thread-safe. Every method may block (database, argon2id): call it off the I/O threads.
//  * Errors are values (AuthResult); exceptions only for broken invariants or a failing
//    database (they become 500s at the HTTP boundary).
//  * Login answers an unknown email exactly like a wrong password (same error, and an argon2id
//    verification of a dummy hash so the timing is similar); failures grow per-account and
//    per-IP delays (LoginThrottle) answered as kThrottled with retry_after.
//  * Every security-relevant action is audited, in the same transaction as the action.
//  * Secrets (passwords, refresh tokens, API keys) are compared only through argon2id or as
//    SHA-256 digests with constant_time_equal, and never logged or stored in clear.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "enkisys/auth/access_tokens.hpp"
#include "enkisys/auth/auth_store.hpp"
#include "enkisys/security/password.hpp"
#include "enkisys/auth/login_throttle.hpp"
#include "enkisys/auth/password_policy.hpp"

namespace enkisys::auth {

struct AuthError {
  enum Kind {
    kInvalidRequest,      // 400
    kInvalidEmail,        // 400
    kWeakPassword,        // 400
    kEmailTaken,          // 409
    kInvalidCredentials,  // 401
    kInvalidToken,        // 401
    kDisabled,            // 403
    kForbidden,           // 403
    kNotFound,            // 404
    kConflict,            // 409
    kThrottled,           // 429
    kSignupClosed,        // 403
  } kind;
  std::string message;
  std::int64_t retry_after = 0;  // seconds, for kThrottled
};

// A value or an AuthError. Default-constructible (an error) so it can cross
// RequestContext::blocking(); value()/error() in the wrong state are broken invariants.
template <class T>
class AuthResult {
 public:
  AuthResult() : error_(AuthError{AuthError::kInvalidRequest, "no result", 0}) {}
  AuthResult(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  AuthResult(security::Unexpected<AuthError> e) : error_(std::move(e.error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & { return check(), *value_; }
  const T& value() const& { return check(), *value_; }
  T&& value() && { return check(), std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const AuthError& error() const {
    if (ok()) throw std::logic_error("AuthResult::error() on a value");
    return *error_;
  }

 private:
  void check() const {
    if (!ok()) throw std::logic_error("AuthResult::value() on an error");
  }
  std::optional<T> value_;
  std::optional<AuthError> error_;
};

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
  AuthResult<User> signup(const std::string& email, const std::string& password,
                          const Caller& caller);
  AuthResult<TokenPair> login(const std::string& email, const std::string& password,
                              const Caller& caller);
  AuthResult<TokenPair> refresh(const std::string& refresh_token, const Caller& caller);
  // Ends the session of `refresh_token`, or else the session `principal` belongs to.
  void logout(const std::string& refresh_token, const Principal* principal, const Caller& caller);
  // Verifies a bearer access token and that its user still exists and is enabled.
  AuthResult<Principal> authenticate(const std::string& access_token);
  AuthResult<User> me(const Principal& p);
  AuthResult<bool> change_password(const Principal& p, const std::string& current,
                                   const std::string& next, const Caller& caller);
  // Creates the admin, or makes an existing account admin; never changes a password.
  // Returns "created", "promoted" or "unchanged"; throws std::runtime_error on a bad email
  // or a password the policy refuses.
  std::string bootstrap_admin(const std::string& email, const std::string& password);

  // Administration (auth_service_admin.cpp). REQUIRES: the caller checked the admin role.
  UserPage list_users(int limit, int offset);
  AuthResult<User> set_disabled(const Principal& admin, const std::string& user_id, bool disabled,
                                const Caller& caller);
  AuthResult<std::string> rotate_keys(const Principal& admin, const Caller& caller);
  AuthResult<NewApiKey> create_api_key(const Principal& admin, const std::string& name,
                                       const std::vector<std::string>& scopes,
                                       const Caller& caller);
  std::vector<ApiKey> list_api_keys();
  AuthResult<bool> revoke_api_key(const Principal& admin, const std::string& id,
                                  const Caller& caller);
  AuditPage audit(std::optional<std::int64_t> before, int limit, const std::string& event);
  // An API key ("ek_...") or an access token; inactive for anything invalid.
  Introspection introspect(const std::string& token);
  // Records a signing-key rotation done by the KeyManager on its own schedule.
  void record_key_rotation(const std::string& kid, const std::string& reason);

  std::string jwks() { return keys_.jwks(); }
  std::vector<PublishedKey> published_keys() { return keys_.published(); }

  const PasswordPolicy& policy() const { return policy_; }
  LoginThrottle& throttle() { return throttle_; }
  const AuthConfig& config() const { return tokens_.config(); }

 private:
  AuthResult<TokenPair> issue_session(const User& user, const std::string& family,
                                      const Caller& caller, AuditEvent audit);
  AuditEvent event(const std::string& name, const Caller& caller) const;
  std::int64_t now() const;
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
