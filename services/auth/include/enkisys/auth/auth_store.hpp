// AuthStore: accounts, refresh tokens, API keys and the audit log, in the service's database
// (SQLite or PostgreSQL through libs/db).
//
// Contract:
//  * Thread-safe; every method blocks on the database: call it off the I/O threads.
//  * Secrets are never stored: refresh tokens and API-key secrets are kept as SHA-256 hex,
//    passwords as argon2id strings produced by the caller.
//  * Each write is one transaction together with its audit event, so an action and its audit
//    row are committed together or not at all.
//  * Times are Unix seconds supplied by the caller (the injected clock).
//  * Every method that revokes refresh tokens also records each session (family) it ends in
//    revoked_sessions with `revoked_until` (the caller's bound on its access tokens), in the
//    same transaction; rows whose bound has passed are deleted by the next revocation.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/db/database.hpp"

namespace enkisys::auth {

struct User {
  std::string id, email, password_hash, role;  // role: "admin" | "user"
  bool disabled = false;
  std::int64_t created_at = 0, updated_at = 0;
};

struct AuditEvent {
  std::int64_t id = 0;
  std::int64_t at = 0;
  std::string event;  // "signup", "login_ok", "login_failed", ...
  std::string user_id, email, ip, request_id;
  boost::json::object detail;
};

struct RefreshToken {
  std::string token_hash, family_id, user_id;
  std::int64_t created_at = 0, expires_at = 0;
};

struct ApiKey {
  std::string id, prefix, secret_hash, name, created_by;
  std::vector<std::string> scopes;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> revoked_at, last_used_at;
};

struct RevokedSession {
  std::string sid;       // the refresh-token family = the access tokens' `sid`
  std::int64_t exp = 0;  // no access token of the session verifies after this
};

// A user and whether a session of theirs is revoked, read together.
struct SessionState {
  std::optional<User> user;
  bool revoked = false;
};

enum class RefreshOutcome { kOk, kUnknown, kExpired, kRevoked, kReused, kDisabled };

struct UserPage {
  std::vector<User> items;
  std::int64_t total = 0;
};

struct AuditPage {
  std::vector<AuditEvent> items;
  std::optional<std::int64_t> next_before;  // pass as `before` for the next (older) page
};

class AuthStore {
 public:
  explicit AuthStore(db::Database& db) : db_(db) {}

  // Applies the schema migrations. Safe to run from several processes at once.
  void migrate();

  // Users. create_user() returns false when the email is taken (nothing written).
  bool create_user(const User& user, const AuditEvent& audit);
  std::optional<User> user_by_email(const std::string& email);
  std::optional<User> user_by_id(const std::string& id);
  UserPage list_users(int limit, int offset);  // by creation, oldest first; limit 1..200
  // Disabling also revokes every session of the user. False if no such user.
  bool set_disabled(const std::string& id, bool disabled, std::int64_t now,
                    std::int64_t revoked_until, const AuditEvent& audit);
  // Bootstrap: makes an existing user an admin. False if no such user.
  bool set_role(const std::string& id, const std::string& role, std::int64_t now);
  void update_password_hash(const std::string& id, const std::string& hash, std::int64_t now);
  // New password hash, and every refresh family of the user except `keep_family` revoked.
  void change_password(const std::string& id, const std::string& hash,
                       const std::string& keep_family, std::int64_t now, std::int64_t revoked_until,
                       const AuditEvent& audit);
  // True when `user_id` has logged in successfully from `ip` before (a login_ok audit event).
  bool logged_in_from(const std::string& user_id, const std::string& ip);

  // Refresh tokens.
  void insert_refresh(const RefreshToken& token, const AuditEvent& audit);
  // Spends `token_hash` and stores *next in its family (filling next->family_id and user_id).
  // On reuse of a spent token the whole family is revoked and `reuse_audit` (completed with
  // the user) is recorded; *user is set for kOk, kReused, kExpired and kDisabled.
  RefreshOutcome rotate_refresh(const std::string& token_hash, RefreshToken* next, std::int64_t now,
                                std::int64_t revoked_until, AuditEvent refresh_audit,
                                AuditEvent reuse_audit, User* user);
  // Revokes the family of the token (or the family itself when `is_family`); returns the
  // user id when something was found.
  std::optional<std::string> revoke_family(const std::string& token_hash_or_family, bool is_family,
                                           std::int64_t now, std::int64_t revoked_until,
                                           AuditEvent audit);

  // Revoked sessions.
  // The user `user_id` and whether session `sid` is revoked (false for an empty sid).
  SessionState session(const std::string& user_id, const std::string& sid);
  // Sessions revoked whose bound is after `now`, ordered by sid.
  std::vector<RevokedSession> revoked_sessions(std::int64_t now);

  // API keys.
  void create_api_key(const ApiKey& key, const AuditEvent& audit);
  std::vector<ApiKey> list_api_keys();
  std::optional<ApiKey> api_key_by_prefix(const std::string& prefix);
  bool revoke_api_key(const std::string& id, std::int64_t now, const AuditEvent& audit);
  void touch_api_key(const std::string& id, std::int64_t now);

  // Audit log.
  void record(const AuditEvent& event);
  // Newest first; `before` is an exclusive id cursor; limit 1..200; empty `event`: all.
  AuditPage audit(std::optional<std::int64_t> before, int limit, const std::string& event);

 private:
  db::Database& db_;
};

// Writes `e` in the transaction `tx` (shared by the store's files).
void insert_audit(db::Tx& tx, const AuditEvent& e);

}  // namespace enkisys::auth
