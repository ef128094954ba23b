// AuthStore: API keys.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "enkisys/auth/auth_store.hpp"

namespace enkisys::auth {

namespace json = boost::json;

namespace {

constexpr const char* kKeyColumns =
    "SELECT id, prefix, secret_hash, name, scopes, created_by, created_at, revoked_at, "
    "last_used_at FROM api_keys";

ApiKey key_from(const db::Row& r) {
  ApiKey k;
  k.id = r.text(0);
  k.prefix = r.text(1);
  k.secret_hash = r.text(2);
  k.name = r.text(3);
  boost::system::error_code ec;
  auto scopes = json::parse(r.text(4), ec);
  if (!ec && scopes.is_array()) {
    for (const auto& s : scopes.as_array()) {
      if (s.is_string()) k.scopes.emplace_back(s.as_string());
    }
  }
  k.created_by = r.text(5);
  k.created_at = r.i64(6);
  k.revoked_at = r.opt_i64(7);
  k.last_used_at = r.opt_i64(8);
  return k;
}

}  // namespace

void AuthStore::create_api_key(const ApiKey& k, const AuditEvent& audit) {
  json::array scopes;
  for (const auto& s : k.scopes) scopes.emplace_back(s);
  db_.transaction([&](db::Tx& tx) {
    tx.exec(
        "INSERT INTO api_keys (id, prefix, secret_hash, name, scopes, created_by, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {k.id, k.prefix, k.secret_hash, k.name, json::serialize(scopes), k.created_by,
         k.created_at});
    insert_audit(tx, audit);
  });
}

std::vector<ApiKey> AuthStore::list_api_keys() {
  std::vector<ApiKey> out;
  db_.read([&](db::Tx& tx) {
    out.clear();
    for (const auto& row : tx.exec(std::string(kKeyColumns) + " ORDER BY created_at, id").rows) {
      out.push_back(key_from(row));
    }
  });
  return out;
}

std::optional<ApiKey> AuthStore::api_key_by_prefix(const std::string& prefix) {
  std::optional<ApiKey> out;
  db_.read([&](db::Tx& tx) {
    auto r = tx.exec(std::string(kKeyColumns) + " WHERE prefix = $1", {prefix});
    out = r.empty() ? std::nullopt : std::optional<ApiKey>(key_from(r.rows[0]));
  });
  return out;
}

bool AuthStore::revoke_api_key(const std::string& id, std::int64_t now, const AuditEvent& audit) {
  bool found = false;
  db_.transaction([&](db::Tx& tx) {
    found = tx.exec("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                    {id, now})
                .affected == 1;
    if (found) insert_audit(tx, audit);
  });
  return found;
}

void AuthStore::touch_api_key(const std::string& id, std::int64_t now) {
  db_.transaction([&](db::Tx& tx) {
    tx.exec("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", {id, now});
  });
}

}  // namespace enkisys::auth
