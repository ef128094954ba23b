// JWT (RFC 7519) in JWS compact form: sign with a SigningKey, verify against a KeySet.
//
// Contract:
// * sign() and verify() are thread safe; they share nothing mutable. sign() throws
//   std::runtime_error only if OpenSSL fails. verify() never throws on untrusted input: every
//   rejection is a VerifyError value.
// * verify() rules, in order: token size <= max_token_bytes; exactly three non-empty
//   base64url segments; header is a JSON object; "alg" is a supported JWA name in
//   allowed_algs ("none" never is); "crit" is rejected; "kid" selects the key (without a kid:
//   the only key of that alg); the key's own alg must equal the header alg (so an HS256 token
//   can never be checked against an RSA/EdDSA/EC key); signature checked; then the payload
//   must be a JSON object whose registered claims have the right types; then check_claims().
// * check_claims(): exp (required unless !require_exp) must be > now - leeway; nbf and iat must
//   be <= now + leeway; iss must be one of `issuers` and aud (string or array) must contain one
//   of `audiences`, when those lists are non-empty. An empty allowed_algs rejects everything.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/security/clock.hpp"
#include "enkisys/security/expected.hpp"
#include "enkisys/security/key_set.hpp"
#include "enkisys/security/keys.hpp"

namespace enkisys::security {

struct VerifyOptions {
  std::vector<std::string> issuers;    // empty: any (or no) iss
  std::vector<std::string> audiences;  // empty: any (or no) aud
  std::chrono::seconds leeway{30};
  std::set<Alg> allowed_algs;
  bool require_exp = true;
  std::size_t max_token_bytes = 8192;
};

struct Claims {
  std::string sub, iss, jti;
  std::vector<std::string> aud, roles;
  std::int64_t exp = 0, iat = 0, nbf = 0;  // NumericDate seconds; see has_* for presence
  bool has_exp = false, has_iat = false, has_nbf = false;
  Alg alg = Alg::kEdDSA;    // header alg of the verified token
  std::string key_id;       // kid of the KeySet entry whose signature check passed
  boost::json::object raw;  // the whole payload
};

struct VerifyError {
  enum Code {
    kMalformed,
    kBadSignature,
    kUnknownKid,
    kAlgNotAllowed,
    kExpired,
    kNotYetValid,
    kBadIssuer,
    kBadAudience,
    kMissingClaim
  } code;
  std::string message;
};
// "malformed", "bad_signature", ... (stable strings for logs and metrics labels).
std::string_view code_name(VerifyError::Code code);

using VerifyResult = Expected<Claims, VerifyError>;

// Compact JWS with header {"alg","typ":"JWT","kid"} and `claims` as the payload.
std::string sign(const SigningKey& key, const boost::json::object& claims);

VerifyResult verify(std::string_view token, const KeySet& keys, const VerifyOptions& options,
                    const Clock& clock = SystemClock::instance());

// The time/issuer/audience/alg rules alone, for claims already verified (cache hits).
// Returns nullopt when they pass. Does not allocate on success.
std::optional<VerifyError> check_claims(const Claims& claims, const VerifyOptions& options,
                                        std::int64_t now_unix_seconds);

}  // namespace enkisys::security
