// AuthService: administration, API keys, introspection.
#include "enkisys/auth/auth_service.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth {

namespace {
// API keys look like "ek_" + 12-character prefix + "_" + 43-character secret. The prefix is
// public (it names the key in lists and logs); only the SHA-256 of the whole key is stored.
constexpr std::string_view kKeyTag = "ek_";
constexpr std::size_t kPrefixChars = 12, kSecretChars = 43;
constexpr std::size_t kKeyChars = kKeyTag.size() + kPrefixChars + 1 + kSecretChars;

// Re-uses the audit detail to tell who acted on whom.
void acted_by(AuditEvent& e, const Principal& admin) {
  e.detail["by"] = admin.user_id;
}
}  // namespace

UserPage AuthService::list_users(int limit, int offset) {
  return store_.list_users(limit, offset);
}

core::Expected<User> AuthService::set_disabled(const Principal& admin, const std::string& user_id,
                                               bool disabled, const Caller& caller) {
  if (disabled && admin.user_id == user_id) {
    return errors::conflict("admins cannot disable themselves");
  }
  auto user = store_.user_by_id(user_id);
  if (!user) return errors::not_found("no such user");
  AuditEvent audit = event(disabled ? "user_disabled" : "user_enabled", caller);
  audit.user_id = user->id;
  audit.email = user->email;
  acted_by(audit, admin);
  if (!store_.set_disabled(user_id, disabled, now(), revoked_until(), audit)) {
    return errors::not_found("no such user");
  }
  user->disabled = disabled;
  return *user;
}

core::Expected<std::string> AuthService::rotate_keys(const Principal& admin, const Caller& caller) {
  auto kid = keys_.rotate();
  if (!kid) return kid.error();
  AuditEvent audit = event("key_rotated", caller);
  audit.detail["kid"] = *kid;
  audit.detail["reason"] = "manual";
  acted_by(audit, admin);
  store_.record(audit);
  return *kid;
}

void AuthService::record_key_rotation(const std::string& kid, const std::string& reason) {
  AuditEvent audit = event("key_rotated", Caller{});
  audit.detail["kid"] = kid;
  audit.detail["reason"] = reason;
  store_.record(audit);
}

core::Expected<NewApiKey> AuthService::create_api_key(const Principal& admin,
                                                      const std::string& name,
                                                      const std::vector<std::string>& scopes,
                                                      const Caller& caller) {
  NewApiKey out;
  out.key.id = new_id();
  out.key.prefix = random_(9);  // 12 characters
  out.secret = std::string(kKeyTag) + out.key.prefix + "_" + random_(32);
  if (out.key.prefix.size() != kPrefixChars || out.secret.size() != kKeyChars) {
    throw std::logic_error("random source returned a token of unexpected length");
  }
  out.key.secret_hash = security::sha256_hex(out.secret);
  out.key.name = name;
  out.key.scopes = scopes;
  out.key.created_by = admin.user_id;
  out.key.created_at = now();
  AuditEvent audit = event("api_key_created", caller);
  audit.detail["key_id"] = out.key.id;
  audit.detail["prefix"] = out.key.prefix;
  audit.detail["name"] = name;
  acted_by(audit, admin);
  store_.create_api_key(out.key, audit);
  return out;
}

std::vector<ApiKey> AuthService::list_api_keys() {
  return store_.list_api_keys();
}

core::Status AuthService::revoke_api_key(const Principal& admin, const std::string& id,
                                         const Caller& caller) {
  AuditEvent audit = event("api_key_revoked", caller);
  audit.detail["key_id"] = id;
  acted_by(audit, admin);
  if (!store_.revoke_api_key(id, now(), audit)) {
    return errors::not_found("no active API key with this id");
  }
  return core::ok_status();
}

AuditPage AuthService::audit(std::optional<std::int64_t> before, int limit,
                             const std::string& event_name) {
  return store_.audit(before, limit, event_name);
}

Introspection AuthService::introspect(const std::string& token) {
  Introspection out;
  if (token.size() == kKeyChars && token.starts_with(kKeyTag) &&
      token[kKeyTag.size() + kPrefixChars] == '_') {
    const std::string prefix = token.substr(kKeyTag.size(), kPrefixChars);
    auto key = store_.api_key_by_prefix(prefix);
    // The digest comparison is constant time; a missing key still costs one digest.
    const std::string digest = security::sha256_hex(token);
    const bool match = key && security::constant_time_equal(digest, key->secret_hash);
    if (!match || key->revoked_at) return out;
    // Last use is kept at minute resolution: no write per request.
    if (!key->last_used_at || now() - *key->last_used_at >= 60)
      store_.touch_api_key(key->id, now());
    out.active = true;
    out.kind = "api_key";
    out.sub = "apikey:" + key->id;
    out.scopes = key->scopes;
    out.roles = {"service"};
    return out;
  }
  auto p = authenticate(token);
  if (!p) return out;
  out.active = true;
  out.kind = "access_token";
  out.sub = p->user_id;
  out.roles = p->roles;
  out.exp = p->exp;
  return out;
}

RevokedSessions AuthService::revocations() {
  RevokedSessions out;
  out.generated_at = now();
  out.sessions = store_.revoked_sessions(out.generated_at);
  return out;
}

}  // namespace enkisys::auth
