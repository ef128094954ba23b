#include "enkisys/auth/access_tokens.hpp"

#include <algorithm>
#include <boost/json/array.hpp>

#include "enkisys/security/secrets.hpp"

namespace enkisys::auth {

namespace json = boost::json;

RandomSource system_random() {
  return [](std::size_t bytes) { return security::random_token(bytes); };
}

bool Principal::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

AccessTokens::AccessTokens(KeyManager& keys, AuthConfig config, const security::Clock& clock,
                           RandomSource random)
    : keys_(keys), config_(std::move(config)), clock_(clock), random_(std::move(random)) {
  verify_options_.issuers = {config_.issuer};
  verify_options_.audiences = {config_.audience};
  verify_options_.leeway = config_.leeway;
  verify_options_.allowed_algs = {security::Alg::kEdDSA, security::Alg::kRS256};
  verify_options_.require_exp = true;
}

IssuedToken AccessTokens::issue(const std::string& user_id, const std::vector<std::string>& roles,
                                const std::string& sid) {
  const std::int64_t now = security::unix_seconds(clock_.now());
  const std::int64_t exp = now + config_.access_ttl.count();
  json::array r;
  for (const auto& role : roles) r.emplace_back(role);
  json::object claims{{"iss", config_.issuer},
                      {"aud", config_.audience},
                      {"sub", user_id},
                      {"exp", exp},
                      {"iat", now},
                      {"nbf", now},
                      {"jti", random_(16)},
                      {"roles", std::move(r)},
                      {"sid", sid}};
  return {security::sign(keys_.active(), claims), exp};
}

security::Expected<Principal, security::VerifyError> AccessTokens::verify(std::string_view token) {
  const auto keys = keys_.verify_keys();
  auto claims = security::verify(token, *keys, verify_options_, clock_);
  if (!claims) return security::unexpected(claims.error());
  if (claims->sub.empty() || !claims->has_iat || !claims->has_nbf) {
    return security::unexpected(
        security::VerifyError{security::VerifyError::kMissingClaim, "token lacks sub, iat or nbf"});
  }
  Principal p;
  p.user_id = claims->sub;
  p.roles = claims->roles;
  p.exp = claims->exp;
  if (const auto* sid = claims->raw.if_contains("sid"); sid && sid->is_string()) {
    p.sid = std::string(sid->as_string());
  }
  return p;
}

}  // namespace enkisys::auth
