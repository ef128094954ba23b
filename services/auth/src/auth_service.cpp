// AuthService: accounts and sessions.
#include "enkisys/auth/auth_service.hpp"

#include <stdexcept>

#include "enkisys/auth/email.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth {

namespace {
AuthError error(AuthError::Kind kind, std::string message) {
  return {kind, std::move(message), 0};
}

AuthError bad_credentials() {
  return error(AuthError::kInvalidCredentials, "email or password is incorrect");
}
}  // namespace

std::vector<std::string> roles_of(const User& user) {
  if (user.role == "admin") return {"admin", "user"};
  return {"user"};
}

AuthService::AuthService(AuthStore& store, AccessTokens& tokens, KeyManager& keys,
                         security::PasswordHasher hasher, const security::Clock& clock,
                         RandomSource random)
    : store_(store),
      tokens_(tokens),
      keys_(keys),
      hasher_(hasher),
      clock_(clock),
      random_(std::move(random)),
      throttle_(clock) {
  dummy_hash_ = hasher_.hash(random_(24));
}

std::int64_t AuthService::now() const {
  return security::unix_seconds(clock_.now());
}

std::string AuthService::new_id() {
  return random_(16);
}

AuditEvent AuthService::event(const std::string& name, const Caller& caller) const {
  AuditEvent e;
  e.at = now();
  e.event = name;
  e.ip = caller.ip;
  e.request_id = caller.request_id;
  return e;
}

AuthResult<User> AuthService::signup(const std::string& raw_email, const std::string& password,
                                     const Caller& caller) {
  if (!config().allow_signup) {
    return security::unexpected(error(AuthError::kSignupClosed, "sign-up is closed; ask an admin"));
  }
  auto email = normalize_email(raw_email);
  if (!email.email) return security::unexpected(error(AuthError::kInvalidEmail, email.error));
  if (auto why = policy_.check(password, *email.email)) {
    return security::unexpected(error(AuthError::kWeakPassword, *why));
  }
  User u;
  u.id = new_id();
  u.email = *email.email;
  u.role = "user";
  u.password_hash = hasher_.hash(password);
  u.created_at = u.updated_at = now();
  AuditEvent audit = event("signup", caller);
  audit.user_id = u.id;
  audit.email = u.email;
  if (!store_.create_user(u, audit)) {
    return security::unexpected(
        error(AuthError::kEmailTaken, "an account with this email already exists"));
  }
  return u;
}

AuthResult<TokenPair> AuthService::issue_session(const User& user, const std::string& family,
                                                 const Caller&, AuditEvent audit) {
  const std::string refresh = random_(32);
  RefreshToken rt{security::sha256_hex(refresh), family, user.id, now(),
                  now() + config().refresh_ttl.count()};
  audit.user_id = user.id;
  audit.email = user.email;
  store_.insert_refresh(rt, audit);
  auto access = tokens_.issue(user.id, roles_of(user), family);
  return TokenPair{access.token, refresh, config().access_ttl.count()};
}

AuthResult<TokenPair> AuthService::login(const std::string& raw_email, const std::string& password,
                                         const Caller& caller) {
  const auto email = normalize_email(raw_email);
  // An invalid address cannot have an account: it is handled like an unknown one.
  const std::string account = email.email.value_or(raw_email.substr(0, 254));
  const std::string account_key = "account:" + account;
  const std::string ip_key = "ip:" + caller.ip;
  const auto wait = std::max(throttle_.retry_after(account_key), throttle_.retry_after(ip_key));
  if (wait.count() > 0) {
    AuditEvent audit = event("login_throttled", caller);
    audit.email = account;
    store_.record(audit);
    return security::unexpected(
        AuthError{AuthError::kThrottled, "too many failed logins; try again later", wait.count()});
  }
  std::optional<User> user;
  if (email.email) user = store_.user_by_email(*email.email);
  const bool ok = user ? hasher_.verify(user->password_hash, password)
                       : (hasher_.verify(dummy_hash_, password), false);
  if (!ok) {
    throttle_.failure(account_key, config().account_rule);
    throttle_.failure(ip_key, config().ip_rule);
    AuditEvent audit = event("login_failed", caller);
    audit.email = account;
    audit.user_id = user ? user->id : "";
    audit.detail["reason"] = user ? "wrong_password" : "unknown_email";
    store_.record(audit);
    return security::unexpected(bad_credentials());
  }
  throttle_.success(account_key);
  if (user->disabled) {
    AuditEvent audit = event("login_failed", caller);
    audit.email = user->email;
    audit.user_id = user->id;
    audit.detail["reason"] = "disabled";
    store_.record(audit);
    return security::unexpected(error(AuthError::kDisabled, "this account is disabled"));
  }
  if (hasher_.needs_rehash(user->password_hash)) {
    store_.update_password_hash(user->id, hasher_.hash(password), now());
  }
  return issue_session(*user, new_id(), caller, event("login_ok", caller));
}

AuthResult<TokenPair> AuthService::refresh(const std::string& refresh_token, const Caller& caller) {
  if (refresh_token.empty() || refresh_token.size() > 256) {
    return security::unexpected(error(AuthError::kInvalidToken, "refresh token is invalid"));
  }
  const std::string next = random_(32);
  RefreshToken rt{security::sha256_hex(next), "", "", now(), now() + config().refresh_ttl.count()};
  User user;
  const auto outcome = store_.rotate_refresh(security::sha256_hex(refresh_token), &rt, now(),
                                             event("refresh", caller),
                                             event("refresh_reuse_detected", caller), &user);
  switch (outcome) {
    case RefreshOutcome::kOk:
      break;
    case RefreshOutcome::kDisabled:
      return security::unexpected(error(AuthError::kDisabled, "this account is disabled"));
    case RefreshOutcome::kReused:
      return security::unexpected(error(AuthError::kInvalidToken,
                                        "refresh token was already used; the session is revoked"));
    case RefreshOutcome::kExpired:
      return security::unexpected(error(AuthError::kInvalidToken, "refresh token has expired"));
    case RefreshOutcome::kRevoked:
    case RefreshOutcome::kUnknown:
      return security::unexpected(error(AuthError::kInvalidToken, "refresh token is invalid"));
  }
  // The family id is the session id the access token carries.
  auto access = tokens_.issue(user.id, roles_of(user), rt.family_id);
  return TokenPair{access.token, next, config().access_ttl.count()};
}

void AuthService::logout(const std::string& refresh_token, const Principal* principal,
                         const Caller& caller) {
  AuditEvent audit = event("logout", caller);
  if (!refresh_token.empty() && refresh_token.size() <= 256) {
    store_.revoke_family(security::sha256_hex(refresh_token), false, now(), audit);
  } else if (principal != nullptr && !principal->sid.empty()) {
    store_.revoke_family(principal->sid, true, now(), audit);
  }
}

AuthResult<Principal> AuthService::authenticate(const std::string& access_token) {
  auto p = tokens_.verify(access_token);
  if (!p) {
    return security::unexpected(
        error(AuthError::kInvalidToken,
              "access token is invalid: " + std::string(security::code_name(p.error().code))));
  }
  auto user = store_.user_by_id(p->user_id);
  if (!user)
    return security::unexpected(
        error(AuthError::kInvalidToken, "access token is invalid: unknown user"));
  if (user->disabled)
    return security::unexpected(error(AuthError::kDisabled, "this account is disabled"));
  // Roles come from the database, so a demotion takes effect before the token expires.
  p->roles = roles_of(*user);
  return std::move(p).value();
}

AuthResult<User> AuthService::me(const Principal& p) {
  auto user = store_.user_by_id(p.user_id);
  if (!user) return security::unexpected(error(AuthError::kNotFound, "no such user"));
  return *user;
}

AuthResult<bool> AuthService::change_password(const Principal& p, const std::string& current,
                                              const std::string& next, const Caller& caller) {
  auto user = store_.user_by_id(p.user_id);
  if (!user) return security::unexpected(error(AuthError::kNotFound, "no such user"));
  const std::string account_key = "account:" + user->email;
  if (const auto wait = throttle_.retry_after(account_key); wait.count() > 0) {
    return security::unexpected(AuthError{
        AuthError::kThrottled, "too many failed attempts; try again later", wait.count()});
  }
  if (!hasher_.verify(user->password_hash, current)) {
    throttle_.failure(account_key, config().account_rule);
    AuditEvent audit = event("password_change_failed", caller);
    audit.user_id = user->id;
    audit.email = user->email;
    store_.record(audit);
    return security::unexpected(
        error(AuthError::kInvalidCredentials, "current password is incorrect"));
  }
  if (auto why = policy_.check(next, user->email)) {
    return security::unexpected(error(AuthError::kWeakPassword, *why));
  }
  AuditEvent audit = event("password_changed", caller);
  audit.user_id = user->id;
  audit.email = user->email;
  store_.change_password(user->id, hasher_.hash(next), p.sid, now(), audit);
  return true;
}

std::string AuthService::bootstrap_admin(const std::string& raw_email,
                                         const std::string& password) {
  auto email = normalize_email(raw_email);
  if (!email.email) throw std::runtime_error("AUTH_BOOTSTRAP_ADMIN_EMAIL: " + email.error);
  if (auto existing = store_.user_by_email(*email.email)) {
    if (existing->role == "admin") return "unchanged";
    store_.set_role(existing->id, "admin", now());
    AuditEvent audit = event("bootstrap_admin_promoted", Caller{"", ""});
    audit.user_id = existing->id;
    audit.email = existing->email;
    store_.record(audit);
    return "promoted";
  }
  if (auto why = policy_.check(password, *email.email)) {
    throw std::runtime_error("AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE: " + *why);
  }
  User u;
  u.id = new_id();
  u.email = *email.email;
  u.role = "admin";
  u.password_hash = hasher_.hash(password);
  u.created_at = u.updated_at = now();
  AuditEvent audit = event("bootstrap_admin_created", Caller{"", ""});
  audit.user_id = u.id;
  audit.email = u.email;
  // A concurrent start may have created it first; either way the admin exists.
  return store_.create_user(u, audit) ? "created" : "unchanged";
}

}  // namespace enkisys::auth
