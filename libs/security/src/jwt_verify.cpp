// verify(): structure, header, key selection, signature, then claims.
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <cmath>

#include "enkisys/security/encoding.hpp"
#include "enkisys/security/jwt.hpp"

namespace json = boost::json;

namespace enkisys::security {
namespace {

VerifyResult fail(VerifyError::Code code, std::string message) {
  return unexpected(VerifyError{code, std::move(message)});
}

// Decodes a base64url segment holding a JSON object.
std::optional<json::object> decode_object(std::string_view segment, json::storage_ptr sp = {}) {
  auto bytes = base64url_decode(segment);
  if (!bytes) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec, std::move(sp));
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  return std::move(v.get_object());
}

bool read_string(const json::object& o, std::string_view name, std::string& out) {
  const json::value* v = o.if_contains(name);
  if (!v) {
    return true;
  }
  if (!v->is_string()) {
    return false;
  }
  out = std::string(v->get_string());
  return true;
}

bool read_string_list(const json::value& v, std::vector<std::string>& out) {
  const json::array* arr = v.if_array();
  if (!arr) {
    return false;
  }
  out.reserve(arr->size());
  for (const auto& item : *arr) {
    if (!item.is_string()) {
      return false;
    }
    out.emplace_back(item.get_string());
  }
  return true;
}

// NumericDate (RFC 7519 §2): integer or finite fractional seconds, floored.
bool read_time(const json::object& o, std::string_view name, std::int64_t& out, bool& has) {
  const json::value* v = o.if_contains(name);
  if (!v) {
    return true;
  }
  if (v->is_int64()) {
    out = v->get_int64();
  } else if (v->is_double()) {
    const double d = v->get_double();
    if (!std::isfinite(d) || d < -9.0e18 || d > 9.0e18) {
      return false;
    }
    out = static_cast<std::int64_t>(std::floor(d));
  } else {  // strings, booleans, and uint64 values beyond the int64 range
    return false;
  }
  has = true;
  return true;
}

Expected<Claims, std::string> extract(json::object payload) {
  Claims c;
  if (!read_string(payload, "sub", c.sub) || !read_string(payload, "iss", c.iss) ||
      !read_string(payload, "jti", c.jti)) {
    return unexpected(std::string("claims sub/iss/jti must be strings"));
  }
  if (const json::value* aud = payload.if_contains("aud")) {
    if (aud->is_string()) {
      c.aud.emplace_back(aud->get_string());
    } else if (!read_string_list(*aud, c.aud)) {
      return unexpected(std::string("claim aud must be a string or an array of strings"));
    }
  }
  if (const json::value* roles = payload.if_contains("roles")) {
    if (!read_string_list(*roles, c.roles)) {
      return unexpected(std::string("claim roles must be an array of strings"));
    }
  }
  if (!read_time(payload, "exp", c.exp, c.has_exp) ||
      !read_time(payload, "nbf", c.nbf, c.has_nbf) ||
      !read_time(payload, "iat", c.iat, c.has_iat)) {
    return unexpected(std::string("claims exp/nbf/iat must be numeric dates"));
  }
  c.raw = std::move(payload);
  return c;
}

}  // namespace

VerifyResult verify(std::string_view token, const KeySet& keys, const VerifyOptions& options,
                    const Clock& clock) {
  if (token.size() > options.max_token_bytes) {
    return fail(VerifyError::kMalformed,
                "token exceeds " + std::to_string(options.max_token_bytes) + " bytes");
  }
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return fail(VerifyError::kMalformed, "a JWT has exactly three segments");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view sig_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || sig_b64.empty()) {
    return fail(VerifyError::kMalformed, "empty JWT segment");
  }

  // The header is short-lived: parse it into a stack arena instead of the heap.
  unsigned char arena[1024];
  json::monotonic_resource header_mr(arena, sizeof arena);
  auto header = decode_object(header_b64, &header_mr);
  if (!header) {
    return fail(VerifyError::kMalformed, "header is not a base64url JSON object");
  }
  const json::value* alg_v = header->if_contains("alg");
  if (!alg_v || !alg_v->is_string()) {
    return fail(VerifyError::kMalformed, "header without alg");
  }
  const std::string_view alg_text = alg_v->get_string();
  const std::optional<Alg> alg = parse_alg(alg_text);
  if (!alg) {
    return fail(VerifyError::kAlgNotAllowed, "alg \"" + std::string(alg_text) + "\" is refused");
  }
  if (!options.allowed_algs.contains(*alg)) {
    return fail(VerifyError::kAlgNotAllowed, "alg " + std::string(alg_text) + " is not allowed");
  }
  if (header->contains("crit")) {
    return fail(VerifyError::kMalformed, "critical header extensions are not supported");
  }
  std::string_view kid;
  if (const json::value* kid_v = header->if_contains("kid")) {
    if (!kid_v->is_string()) {
      return fail(VerifyError::kMalformed, "kid is not a string");
    }
    kid = kid_v->get_string();
  }

  const VerifyKey* key = keys.select(kid, !kid.empty(), *alg);
  if (!key) {
    return fail(VerifyError::kUnknownKid,
                kid.empty() ? "no kid and no single " + std::string(alg_text) + " key"
                            : "unknown kid \"" + std::string(kid) + "\"");
  }
  if (key->alg() != *alg) {  // e.g. HS256 header naming an RSA key: algorithm confusion
    return fail(VerifyError::kAlgNotAllowed, "token alg " + std::string(alg_text) +
                                                 " does not match key alg " +
                                                 std::string(alg_name(key->alg())));
  }
  const auto signature = base64url_decode(sig_b64);
  if (!signature) {
    return fail(VerifyError::kMalformed, "signature is not base64url");
  }
  if (!key->verify(token.substr(0, dot2), *signature)) {
    return fail(VerifyError::kBadSignature, "signature check failed");
  }

  auto payload = decode_object(payload_b64);
  if (!payload) {
    return fail(VerifyError::kMalformed, "payload is not a base64url JSON object");
  }
  auto claims = extract(std::move(*payload));
  if (!claims) {
    return fail(VerifyError::kMalformed, claims.error());
  }
  claims->alg = *alg;
  claims->key_id = key->kid();
  if (auto err = check_claims(*claims, options, unix_seconds(clock.now()))) {
    return unexpected(std::move(*err));
  }
  return std::move(claims).value();
}

}  // namespace enkisys::security
