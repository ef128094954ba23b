// AuthService: accounts and sessions.
#include "enkisys/auth/auth_service.hpp"

#include <algorithm>
#include <stdexcept>

#include "enkisys/auth/email.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth {

namespace errors {
using core::ErrorKind;
core::Error invalid_request(std::string message) {
  return core::make_error(ErrorKind::kInvalidArgument, "invalid_request", std::move(message));
}
core::Error weak_password(std::string message, std::string field) {
  return core::make_error(ErrorKind::kInvalidArgument, "weak_password", std::move(message),
                          std::move(field));
}
core::Error email_taken() {
  return core::make_error(ErrorKind::kConflict, "email_taken",
                          "an account with this email already exists", "/email");
}
core::Error invalid_credentials() {
  return core::make_error(ErrorKind::kUnauthenticated, "invalid_credentials",
                          "email or password is incorrect");
}
core::Error invalid_token(std::string message) {
  return core::make_error(ErrorKind::kUnauthenticated, "invalid_token", std::move(message));
}
core::Error token_revoked() {
  return core::make_error(ErrorKind::kUnauthenticated, "token_revoked",
                          "this session has ended; log in again");
}
core::Error account_disabled() {
  return core::make_error(ErrorKind::kPermissionDenied, "account_disabled",
                          "this account is disabled");
}
core::Error forbidden(std::string message) {
  return core::make_error(ErrorKind::kPermissionDenied, "forbidden", std::move(message));
}
core::Error signup_closed() {
  return core::make_error(ErrorKind::kPermissionDenied, "signup_closed",
                          "sign-up is closed; ask an admin");
}
core::Error not_found(std::string message) {
  return core::make_error(ErrorKind::kNotFound, "not_found", std::move(message));
}
core::Error conflict(std::string message) {
  return core::make_error(ErrorKind::kConflict, "conflict", std::move(message));
}
core::Error too_many_attempts(std::int64_t retry_after_s) {
  core::Error e = core::make_error(ErrorKind::kResourceExhausted, "too_many_attempts",
                                   "too many failed attempts; try again later");
  e.retry_after_s = std::max<std::int64_t>(retry_after_s, 1);
  return e;
}
}  // namespace errors

namespace {
// Throttle keys. The pair key is length-prefixed so no (account, address) pair can collide with
// another.
std::string pair_key(const std::string& account, const std::string& ip) {
  return "pair:" + std::to_string(ip.size()) + ":" + ip + account;
}
std::string account_key(const std::string& account) {
  return "account:" + account;
}
std::string ip_key(const std::string& ip) {
  return "ip:" + ip;
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

std::int64_t AuthService::revoked_until() const {
  return now() + config().access_ttl.count() + config().leeway.count();
}

core::Expected<User> AuthService::signup(const std::string& raw_email, const std::string& password,
                                         const Caller& caller) {
  if (!config().allow_signup) return errors::signup_closed();
  auto email = normalize_email(raw_email);
  if (!email) return email.error();
  if (auto st = policy_.check(password, *email); !st) return st.error();
  User u;
  u.id = new_id();
  u.email = *email;
  u.role = "user";
  u.password_hash = hasher_.hash(password);
  u.created_at = u.updated_at = now();
  AuditEvent audit = event("signup", caller);
  audit.user_id = u.id;
  audit.email = u.email;
  if (!store_.create_user(u, audit)) return errors::email_taken();
  return u;
}

TokenPair AuthService::issue_session(const User& user, const std::string& family, const Caller&,
                                     AuditEvent audit) {
  const std::string refresh = random_(32);
  RefreshToken rt{security::sha256_hex(refresh), family, user.id, now(),
                  now() + config().refresh_ttl.count()};
  audit.user_id = user.id;
  audit.email = user.email;
  store_.insert_refresh(rt, audit);
  auto access = tokens_.issue(user.id, roles_of(user), family);
  return TokenPair{access.token, refresh, config().access_ttl.count()};
}

core::Expected<TokenPair> AuthService::login(const std::string& raw_email,
                                             const std::string& password, const Caller& caller) {
  const auto email = normalize_email(raw_email);
  // An invalid address cannot have an account: it is handled like an unknown one.
  const std::string account = email ? *email : raw_email.substr(0, 254);
  const std::string pair = pair_key(account, caller.ip);
  std::optional<User> user;
  if (email) user = store_.user_by_email(*email);
  // The strict (account, address) limit always applies. The per-address limit across accounts
  // and the account-wide limit do not apply to an address this account has logged in from,
  // so failures from elsewhere cannot lock the owner out of a known place.
  auto wait = throttle_.retry_after(pair);
  const auto wide = std::max(throttle_.retry_after(ip_key(caller.ip)),
                             throttle_.retry_after(account_key(account)));
  if (wide > wait && !(user && store_.logged_in_from(user->id, caller.ip))) wait = wide;
  if (wait.count() > 0) {
    AuditEvent audit = event("login_throttled", caller);
    audit.email = account;
    store_.record(audit);
    return errors::too_many_attempts(wait.count());
  }
  const bool ok = user ? hasher_.verify(user->password_hash, password)
                       : (hasher_.verify(dummy_hash_, password), false);
  // A disabled account answers the same whatever the password (and counts as a failure either
  // way), so the answer reveals nothing about the password.
  if (!ok || user->disabled) {
    throttle_.failure(pair, config().pair_rule);
    throttle_.failure(ip_key(caller.ip), config().ip_rule);
    throttle_.failure(account_key(account), config().account_rule);
    AuditEvent audit = event("login_failed", caller);
    audit.email = account;
    audit.user_id = user ? user->id : "";
    audit.detail["reason"] = !user            ? "unknown_email"
                             : user->disabled ? "disabled"
                                              : "wrong_password";
    store_.record(audit);
    if (user && user->disabled) return errors::account_disabled();
    return errors::invalid_credentials();
  }
  throttle_.success(pair);
  if (hasher_.needs_rehash(user->password_hash)) {
    store_.update_password_hash(user->id, hasher_.hash(password), now());
  }
  return issue_session(*user, new_id(), caller, event("login_ok", caller));
}

core::Expected<TokenPair> AuthService::refresh(const std::string& refresh_token,
                                               const Caller& caller) {
  if (refresh_token.empty() || refresh_token.size() > 256) {
    return errors::invalid_token("refresh token is invalid");
  }
  const std::string next = random_(32);
  RefreshToken rt{security::sha256_hex(next), "", "", now(), now() + config().refresh_ttl.count()};
  User user;
  const auto outcome = store_.rotate_refresh(security::sha256_hex(refresh_token), &rt, now(),
                                             revoked_until(), event("refresh", caller),
                                             event("refresh_reuse_detected", caller), &user);
  switch (outcome) {
    case RefreshOutcome::kOk:
      break;
    case RefreshOutcome::kDisabled:
      return errors::account_disabled();
    case RefreshOutcome::kReused:
      return errors::invalid_token("refresh token was already used; the session is revoked");
    case RefreshOutcome::kExpired:
      return errors::invalid_token("refresh token has expired");
    case RefreshOutcome::kRevoked:
    case RefreshOutcome::kUnknown:
      return errors::invalid_token("refresh token is invalid");
  }
  // The family id is the session id the access token carries.
  auto access = tokens_.issue(user.id, roles_of(user), rt.family_id);
  return TokenPair{access.token, next, config().access_ttl.count()};
}

void AuthService::logout(const std::string& refresh_token, const Principal* principal,
                         const Caller& caller) {
  AuditEvent audit = event("logout", caller);
  if (!refresh_token.empty() && refresh_token.size() <= 256) {
    store_.revoke_family(security::sha256_hex(refresh_token), false, now(), revoked_until(), audit);
  } else if (principal != nullptr && !principal->sid.empty()) {
    store_.revoke_family(principal->sid, true, now(), revoked_until(), audit);
  }
}

core::Expected<Principal> AuthService::authenticate(const std::string& access_token) {
  auto p = tokens_.verify(access_token);
  if (!p) {
    return errors::invalid_token("access token is invalid: " +
                                 std::string(security::code_name(p.error().code)));
  }
  const SessionState state = store_.session(p->user_id, p->sid);
  if (!state.user) return errors::invalid_token("access token is invalid: unknown user");
  if (state.user->disabled) return errors::account_disabled();
  if (state.revoked) return errors::token_revoked();
  // Roles come from the database, so a demotion takes effect before the token expires.
  p->roles = roles_of(*state.user);
  return std::move(p).value();
}

core::Expected<User> AuthService::me(const Principal& p) {
  auto user = store_.user_by_id(p.user_id);
  if (!user) return errors::not_found("no such user");
  return *user;
}

core::Status AuthService::change_password(const Principal& p, const std::string& current,
                                          const std::string& next, const Caller& caller) {
  auto user = store_.user_by_id(p.user_id);
  if (!user) return errors::not_found("no such user");
  // The strict per-(account, address) limit of login: a thief of an access token cannot use
  // this route to guess the password faster, nor lock the owner out elsewhere.
  const std::string pair = pair_key(user->email, caller.ip);
  if (const auto wait = throttle_.retry_after(pair); wait.count() > 0) {
    return errors::too_many_attempts(wait.count());
  }
  if (!hasher_.verify(user->password_hash, current)) {
    throttle_.failure(pair, config().pair_rule);
    AuditEvent audit = event("password_change_failed", caller);
    audit.user_id = user->id;
    audit.email = user->email;
    store_.record(audit);
    return core::make_error(core::ErrorKind::kUnauthenticated, "invalid_credentials",
                            "current password is incorrect", "/current_password");
  }
  if (auto st = policy_.check(next, user->email, "/new_password"); !st) return st.error();
  AuditEvent audit = event("password_changed", caller);
  audit.user_id = user->id;
  audit.email = user->email;
  store_.change_password(user->id, hasher_.hash(next), p.sid, now(), revoked_until(), audit);
  return core::ok_status();
}

std::string AuthService::bootstrap_admin(const std::string& raw_email,
                                         const std::string& password) {
  auto email = normalize_email(raw_email);
  if (!email) throw std::runtime_error("AUTH_BOOTSTRAP_ADMIN_EMAIL: " + email.error().message);
  if (auto existing = store_.user_by_email(*email)) {
    if (existing->role == "admin") return "unchanged";
    store_.set_role(existing->id, "admin", now());
    AuditEvent audit = event("bootstrap_admin_promoted", Caller{"", ""});
    audit.user_id = existing->id;
    audit.email = existing->email;
    store_.record(audit);
    return "promoted";
  }
  if (auto st = policy_.check(password, *email); !st) {
    throw std::runtime_error("AUTH_BOOTSTRAP_ADMIN_PASSWORD_FILE: " + st.error().message);
  }
  User u;
  u.id = new_id();
  u.email = *email;
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
