#include "enkisys/auth/auth_store.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "enkisys/db/migrate.hpp"

namespace enkisys::auth {

namespace json = boost::json;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  disabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  family_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  prefix TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_used_at BIGINT
);
)sql";

const std::vector<db::Migration>& migrations() {
  static const std::vector<db::Migration> m{
      {1, "auth accounts, tokens, api keys and audit", std::string(kSchema) + R"sql(
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at BIGINT NOT NULL,
  event TEXT NOT NULL,
  user_id TEXT NOT NULL,
  email TEXT NOT NULL,
  ip TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_events_by_event ON audit_events (event, id);
)sql",
       std::string(kSchema) + R"sql(
CREATE TABLE audit_events (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  event TEXT NOT NULL,
  user_id TEXT NOT NULL,
  email TEXT NOT NULL,
  ip TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_events_by_event ON audit_events (event, id);
)sql"},
      {2, "revoked sessions; login addresses by user", R"sql(
CREATE TABLE revoked_sessions (
  sid TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  revoked_at BIGINT NOT NULL,
  exp BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_by_exp ON revoked_sessions (exp);
CREATE INDEX audit_events_by_user_ip ON audit_events (user_id, ip, event);
)sql"},
  };
  return m;
}

constexpr const char* kUserColumns =
    "SELECT id, email, password_hash, role, disabled, created_at, updated_at FROM users";

User user_from(const db::Row& r) {
  return User{r.text(0), r.text(1), r.text(2), r.text(3), r.i64(4) != 0, r.i64(5), r.i64(6)};
}

std::optional<User> one_user(db::Database& db, const std::string& where, const std::string& v) {
  std::optional<User> out;
  db.read([&](db::Tx& tx) {
    auto r = tx.exec(std::string(kUserColumns) + " WHERE " + where + " = $1", {v});
    out = r.empty() ? std::nullopt : std::optional<User>(user_from(r.rows[0]));
  });
  return out;
}

// Revokes the refresh tokens matching `where` (placeholders $1..$n of `params`) and records
// each session they belong to as revoked until `until`; prunes rows whose bound has passed.
void revoke_sessions(db::Tx& tx, const std::string& where, std::vector<db::Value> params,
                     std::int64_t now, std::int64_t until) {
  const std::string n = std::to_string(params.size() + 1);
  const std::string u = std::to_string(params.size() + 2);
  params.emplace_back(now);
  params.emplace_back(until);
  tx.exec(
      "INSERT INTO revoked_sessions (sid, user_id, revoked_at, exp) "
      "SELECT DISTINCT family_id, user_id, $" +
          n + ", $" + u + " FROM refresh_tokens WHERE " + where +
          " AND revoked_at IS NULL ON CONFLICT (sid) DO NOTHING",
      params);
  params.pop_back();
  tx.exec("UPDATE refresh_tokens SET revoked_at = $" + n + " WHERE " + where +
              " AND revoked_at IS NULL",
          params);
  tx.exec("DELETE FROM revoked_sessions WHERE exp <= $1", {now});
}

}  // namespace

void insert_audit(db::Tx& tx, const AuditEvent& e) {
  tx.exec(
      "INSERT INTO audit_events (at, event, user_id, email, ip, request_id, detail) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {e.at, e.event, e.user_id, e.email, e.ip, e.request_id, json::serialize(e.detail)});
}

void AuthStore::migrate() {
  db::migrate(db_, migrations());
}

bool AuthStore::create_user(const User& u, const AuditEvent& audit) {
  bool created = false;
  db_.transaction([&](db::Tx& tx) {
    // ON CONFLICT DO NOTHING keeps the PostgreSQL transaction usable on a clash.
    auto r = tx.exec(
        "INSERT INTO users (id, email, password_hash, role, disabled, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT (email) DO NOTHING",
        {u.id, u.email, u.password_hash, u.role, u.created_at});
    created = r.affected == 1;
    if (created) insert_audit(tx, audit);
  });
  return created;
}

std::optional<User> AuthStore::user_by_email(const std::string& email) {
  return one_user(db_, "email", email);
}

std::optional<User> AuthStore::user_by_id(const std::string& id) {
  return one_user(db_, "id", id);
}

UserPage AuthStore::list_users(int limit, int offset) {
  limit = std::clamp(limit, 1, 200);
  offset = std::max(offset, 0);
  UserPage page;
  db_.read([&](db::Tx& tx) {
    page = {};
    page.total = tx.exec("SELECT count(*) FROM users").one().i64(0);
    auto r = tx.exec(std::string(kUserColumns) + " ORDER BY created_at, id LIMIT $1 OFFSET $2",
                     {static_cast<std::int64_t>(limit), static_cast<std::int64_t>(offset)});
    for (const auto& row : r.rows) page.items.push_back(user_from(row));
  });
  return page;
}

bool AuthStore::set_disabled(const std::string& id, bool disabled, std::int64_t now,
                             std::int64_t revoked_until, const AuditEvent& audit) {
  bool found = false;
  db_.transaction([&](db::Tx& tx) {
    auto r = tx.exec("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1",
                     {id, static_cast<std::int64_t>(disabled ? 1 : 0), now});
    found = r.affected == 1;
    if (!found) return;
    if (disabled) revoke_sessions(tx, "user_id = $1", {id}, now, revoked_until);
    insert_audit(tx, audit);
  });
  return found;
}

bool AuthStore::set_role(const std::string& id, const std::string& role, std::int64_t now) {
  bool found = false;
  db_.transaction([&](db::Tx& tx) {
    found = tx.exec("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1", {id, role, now})
                .affected == 1;
  });
  return found;
}

void AuthStore::update_password_hash(const std::string& id, const std::string& hash,
                                     std::int64_t now) {
  db_.transaction([&](db::Tx& tx) {
    tx.exec("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1", {id, hash, now});
  });
}

void AuthStore::change_password(const std::string& id, const std::string& hash,
                                const std::string& keep_family, std::int64_t now,
                                std::int64_t revoked_until, const AuditEvent& audit) {
  db_.transaction([&](db::Tx& tx) {
    tx.exec("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1", {id, hash, now});
    revoke_sessions(tx, "user_id = $1 AND family_id <> $2", {id, keep_family}, now, revoked_until);
    insert_audit(tx, audit);
  });
}

bool AuthStore::logged_in_from(const std::string& user_id, const std::string& ip) {
  bool found = false;
  db_.read([&](db::Tx& tx) {
    found = !tx.exec(
                   "SELECT 1 FROM audit_events WHERE user_id = $1 AND ip = $2 AND event = "
                   "'login_ok' LIMIT 1",
                   {user_id, ip})
                 .empty();
  });
  return found;
}

void AuthStore::insert_refresh(const RefreshToken& t, const AuditEvent& audit) {
  db_.transaction([&](db::Tx& tx) {
    tx.exec(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        {t.token_hash, t.family_id, t.user_id, t.created_at, t.expires_at});
    insert_audit(tx, audit);
  });
}

RefreshOutcome AuthStore::rotate_refresh(const std::string& token_hash, RefreshToken* next,
                                         std::int64_t now, std::int64_t revoked_until,
                                         AuditEvent refresh_audit, AuditEvent reuse_audit,
                                         User* user) {
  RefreshOutcome outcome = RefreshOutcome::kUnknown;
  db_.transaction([&](db::Tx& tx) {
    outcome = RefreshOutcome::kUnknown;
    auto r = tx.exec(
        "SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens "
        "WHERE token_hash = $1",
        {token_hash});
    if (r.empty()) return;
    const auto& row = r.rows[0];
    const std::string family = row.text(0);
    auto u = tx.exec(std::string(kUserColumns) + " WHERE id = $1", {row.text(1)});
    if (u.empty()) return;
    *user = user_from(u.rows[0]);
    const auto revoke_family_as_reuse = [&] {
      revoke_sessions(tx, "family_id = $1", {family}, now, revoked_until);
      reuse_audit.user_id = user->id;
      reuse_audit.email = user->email;
      reuse_audit.detail["family"] = family;
      insert_audit(tx, reuse_audit);
      outcome = RefreshOutcome::kReused;
    };
    if (!row.is_null(4)) {
      outcome = RefreshOutcome::kRevoked;
      return;
    }
    if (!row.is_null(3)) return revoke_family_as_reuse();
    if (row.i64(2) <= now) {
      outcome = RefreshOutcome::kExpired;
      return;
    }
    if (user->disabled) {
      outcome = RefreshOutcome::kDisabled;
      return;
    }
    // Only one of two concurrent refreshes with the same token can spend it.
    auto spent =
        tx.exec("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
                {token_hash, now});
    if (spent.affected != 1) return revoke_family_as_reuse();
    tx.exec(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5)",
        {next->token_hash, family, user->id, next->created_at, next->expires_at});
    next->family_id = family;
    next->user_id = user->id;
    refresh_audit.user_id = user->id;
    refresh_audit.email = user->email;
    insert_audit(tx, refresh_audit);
    outcome = RefreshOutcome::kOk;
  });
  return outcome;
}

std::optional<std::string> AuthStore::revoke_family(const std::string& key, bool is_family,
                                                    std::int64_t now, std::int64_t revoked_until,
                                                    AuditEvent audit) {
  std::optional<std::string> user_id;
  db_.transaction([&](db::Tx& tx) {
    user_id.reset();
    auto r = tx.exec(
        is_family ? "SELECT family_id, user_id FROM refresh_tokens WHERE family_id = $1 LIMIT 1"
                  : "SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1",
        {key});
    if (r.empty()) return;
    const std::string family = r.rows[0].text(0);
    user_id = r.rows[0].text(1);
    revoke_sessions(tx, "family_id = $1", {family}, now, revoked_until);
    audit.user_id = *user_id;
    audit.detail["family"] = family;
    insert_audit(tx, audit);
  });
  return user_id;
}

SessionState AuthStore::session(const std::string& user_id, const std::string& sid) {
  SessionState out;
  db_.read([&](db::Tx& tx) {
    auto u = tx.exec(std::string(kUserColumns) + " WHERE id = $1", {user_id});
    out.user = u.empty() ? std::nullopt : std::optional<User>(user_from(u.rows[0]));
    out.revoked =
        !sid.empty() && !tx.exec("SELECT 1 FROM revoked_sessions WHERE sid = $1", {sid}).empty();
  });
  return out;
}

std::vector<RevokedSession> AuthStore::revoked_sessions(std::int64_t now) {
  std::vector<RevokedSession> out;
  db_.read([&](db::Tx& tx) {
    out.clear();
    auto r = tx.exec("SELECT sid, exp FROM revoked_sessions WHERE exp > $1 ORDER BY sid", {now});
    for (const auto& row : r.rows) out.push_back({row.text(0), row.i64(1)});
  });
  return out;
}

void AuthStore::record(const AuditEvent& event) {
  db_.transaction([&](db::Tx& tx) { insert_audit(tx, event); });
}

AuditPage AuthStore::audit(std::optional<std::int64_t> before, int limit,
                           const std::string& event) {
  limit = std::clamp(limit, 1, 200);
  AuditPage page;
  db_.read([&](db::Tx& tx) {
    page = {};
    const std::string sql =
        "SELECT id, at, event, user_id, email, ip, request_id, detail FROM audit_events "
        "WHERE id < $1" +
        std::string(event.empty() ? " AND CAST($2 AS TEXT) = ''" : " AND event = $2") +
        " ORDER BY id DESC LIMIT $3";
    auto r =
        tx.exec(sql, {before.value_or(INT64_MAX), event, static_cast<std::int64_t>(limit) + 1});
    for (const auto& row : r.rows) {
      if (page.items.size() == static_cast<std::size_t>(limit)) {
        page.next_before = page.items.back().id;
        break;
      }
      AuditEvent e;
      e.id = row.i64(0);
      e.at = row.i64(1);
      e.event = row.text(2);
      e.user_id = row.text(3);
      e.email = row.text(4);
      e.ip = row.text(5);
      e.request_id = row.text(6);
      boost::system::error_code ec;
      auto d = json::parse(row.text(7), ec);
      if (!ec && d.is_object()) e.detail = d.as_object();
      page.items.push_back(std::move(e));
    }
  });
  return page;
}

}  // namespace enkisys::auth
