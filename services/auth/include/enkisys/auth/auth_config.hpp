// Settings of the auth service (filled from the environment by main.cpp) and the injected
// sources of time and randomness.
//
// Contract: plain values, copied into the objects that use them; read-only afterwards.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "enkisys/auth/login_throttle.hpp"

namespace enkisys::auth {

// base64url (unpadded) of `bytes` random bytes from a CSPRNG. Tests may inject their own.
using RandomSource = std::function<std::string(std::size_t bytes)>;
RandomSource system_random();

struct AuthConfig {
  std::string issuer = "enkisys-auth";
  std::string audience = "enkisys";
  std::chrono::seconds access_ttl{900};
  std::chrono::seconds refresh_ttl{std::chrono::hours(24 * 30)};
  std::chrono::seconds leeway{30};  // clock skew tolerated when checking exp/nbf/iat
  bool trust_proxy = false;         // take the client IP from X-Forwarded-For's first hop
  bool allow_signup = true;
  std::string introspect_token;  // bearer secret for /introspect; empty: open
  // Login throttling (AuthService::login): failures of one account from one address (strict,
  // always applies); of one address over all accounts (credential stuffing); of one account
  // from all addresses (distributed guessing). The last two do not apply to an address the
  // account has logged in from before.
  ThrottleRule pair_rule{5, std::chrono::seconds(1), std::chrono::seconds(900)};
  ThrottleRule ip_rule{20, std::chrono::seconds(1), std::chrono::seconds(900)};
  ThrottleRule account_rule{20, std::chrono::seconds(1), std::chrono::seconds(900)};
};

}  // namespace enkisys::auth
