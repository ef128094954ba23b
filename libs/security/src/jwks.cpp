#include "enkisys/security/jwks.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

namespace json = boost::json;

namespace enkisys::security {

Expected<Jwks, std::string> Jwks::parse(std::string_view document) {
  boost::system::error_code ec;
  json::value doc = json::parse(document, ec);
  if (ec) {
    return unexpected("JWKS is not valid JSON: " + ec.message());
  }
  const json::object* root = doc.if_object();
  const json::value* keys = root ? root->if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) {
    return unexpected(std::string("JWKS must be an object with a \"keys\" array"));
  }
  Jwks out;
  std::size_t index = 0;
  for (const json::value& entry : keys->get_array()) {
    std::string where = "keys[" + std::to_string(index++) + "]";
    const json::object* jwk = entry.if_object();
    if (!jwk) {
      out.skipped_.push_back(where + ": not an object");
      continue;
    }
    if (const json::value* kid = jwk->if_contains("kid")) {
      where += " (kid " + json::serialize(*kid) + ")";
    }
    if (const json::value* kty = jwk->if_contains("kty");
        kty && kty->is_string() && kty->get_string() == "oct") {
      out.skipped_.push_back(where + ": symmetric keys are not accepted from a JWKS");
      continue;
    }
    auto key = VerifyKey::from_jwk(*jwk);
    if (!key) {
      out.skipped_.push_back(where + ": " + key.error());
      continue;
    }
    const std::string kid = key->kid();
    if (!out.keys_.emplace(kid, std::move(*key)).second) {
      out.skipped_.push_back(where + ": duplicate kid");
    }
  }
  return out;
}

std::string Jwks::serialize(const std::vector<VerifyKey>& keys) {
  json::array arr;
  for (const auto& k : keys) {
    if (k.is_symmetric()) {
      throw std::invalid_argument("refusing to publish the HS256 secret of kid " + k.kid());
    }
    arr.push_back(k.to_jwk());
  }
  json::object root;
  root["keys"] = std::move(arr);
  return json::serialize(root);
}

KeySet Jwks::key_set() const {
  std::vector<VerifyKey> v;
  v.reserve(keys_.size());
  for (const auto& [kid, key] : keys_) {
    v.push_back(key);
  }
  return KeySet(std::move(v));
}

}  // namespace enkisys::security
