// Registered-claim rules shared by verify() and cache hits.
#include <algorithm>
#include <string>

#include "enkisys/security/jwt.hpp"

namespace enkisys::security {

std::string_view code_name(VerifyError::Code code) {
  switch (code) {
    case VerifyError::kMalformed:
      return "malformed";
    case VerifyError::kBadSignature:
      return "bad_signature";
    case VerifyError::kUnknownKid:
      return "unknown_kid";
    case VerifyError::kAlgNotAllowed:
      return "alg_not_allowed";
    case VerifyError::kExpired:
      return "expired";
    case VerifyError::kNotYetValid:
      return "not_yet_valid";
    case VerifyError::kBadIssuer:
      return "bad_issuer";
    case VerifyError::kBadAudience:
      return "bad_audience";
    case VerifyError::kMissingClaim:
      return "missing_claim";
  }
  return "unknown";
}

std::optional<VerifyError> check_claims(const Claims& c, const VerifyOptions& o, std::int64_t now) {
  const std::int64_t leeway = o.leeway.count();
  if (!o.allowed_algs.contains(c.alg)) {
    return VerifyError{VerifyError::kAlgNotAllowed,
                       "alg " + std::string(alg_name(c.alg)) + " is not allowed here"};
  }
  if (c.has_exp) {
    if (now - leeway >= c.exp) {
      return VerifyError{VerifyError::kExpired, "token expired at " + std::to_string(c.exp) +
                                                    " (now " + std::to_string(now) + ")"};
    }
  } else if (o.require_exp) {
    return VerifyError{VerifyError::kMissingClaim, "missing claim exp"};
  }
  if (c.has_nbf && c.nbf > now + leeway) {
    return VerifyError{VerifyError::kNotYetValid,
                       "token not valid before " + std::to_string(c.nbf)};
  }
  if (c.has_iat && c.iat > now + leeway) {
    return VerifyError{VerifyError::kNotYetValid,
                       "token issued in the future (" + std::to_string(c.iat) + ")"};
  }
  if (!o.issuers.empty()) {
    if (c.iss.empty()) {
      return VerifyError{VerifyError::kMissingClaim, "missing claim iss"};
    }
    if (std::find(o.issuers.begin(), o.issuers.end(), c.iss) == o.issuers.end()) {
      return VerifyError{VerifyError::kBadIssuer, "issuer \"" + c.iss + "\" is not accepted"};
    }
  }
  if (!o.audiences.empty()) {
    if (c.aud.empty()) {
      return VerifyError{VerifyError::kMissingClaim, "missing claim aud"};
    }
    const bool match = std::any_of(c.aud.begin(), c.aud.end(), [&](const std::string& a) {
      return std::find(o.audiences.begin(), o.audiences.end(), a) != o.audiences.end();
    });
    if (!match) {
      return VerifyError{VerifyError::kBadAudience, "no accepted audience in aud"};
    }
  }
  return std::nullopt;
}

}  // namespace enkisys::security
