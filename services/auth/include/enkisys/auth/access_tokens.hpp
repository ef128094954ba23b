// AccessTokens: issues and verifies the service's JWT access tokens.
//
// Tokens carry iss, aud, sub (user id), exp, iat, nbf, jti, roles, and sid (the refresh-token
// family = session, so a session can be ended from its access token). They are signed by
// KeyManager::active(); verification accepts only the asymmetric algs the service signs with
// (EdDSA, RS256) against the published keys — never "none" or HS256 — and checks iss, aud,
// exp, nbf and iat with the configured leeway.
//
// Contract: thread-safe; time and jti randomness are injected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/auth/auth_config.hpp"
#include "enkisys/auth/key_manager.hpp"
#include "enkisys/security/jwt.hpp"

namespace enkisys::auth {

struct IssuedToken {
  std::string token;
  std::int64_t exp = 0;
};

struct Principal {
  std::string user_id;
  std::vector<std::string> roles;
  std::string sid;
  std::int64_t exp = 0;
  bool has_role(std::string_view role) const;
};

class AccessTokens {
 public:
  AccessTokens(KeyManager& keys, AuthConfig config, const security::Clock& clock,
               RandomSource random);

  IssuedToken issue(const std::string& user_id, const std::vector<std::string>& roles,
                    const std::string& sid);
  security::Expected<Principal, security::VerifyError> verify(std::string_view token);
  const AuthConfig& config() const { return config_; }

 private:
  KeyManager& keys_;
  AuthConfig config_;
  const security::Clock& clock_;
  RandomSource random_;
  security::VerifyOptions verify_options_;
};

}  // namespace enkisys::auth
