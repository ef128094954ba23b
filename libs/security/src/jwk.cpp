// JWK (RFC 7517/7518/8037) import and export, RFC 7638 thumbprints.
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <boost/json/serialize.hpp>
#include <map>

#include "enkisys/security/encoding.hpp"
#include "enkisys/security/secrets.hpp"
#include "key_data.hpp"

namespace json = boost::json;

namespace enkisys::security {
namespace detail {
namespace {

std::string bn_bytes(EVP_PKEY* p, const char* param, int pad) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(p, param, &raw) != 1) {
    throw std::runtime_error(ossl::last_error("OpenSSL: cannot read key parameter"));
  }
  ossl::BnPtr bn(raw);
  const int len = pad > 0 ? pad : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(len), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if ((pad > 0 ? BN_bn2binpad(bn.get(), dst, pad) : BN_bn2bin(bn.get(), dst)) != len) {
    throw std::runtime_error("OpenSSL: key parameter does not fit");
  }
  return out;
}

}  // namespace

json::object required_jwk_members(const KeyData& key) {
  json::object o;
  switch (key.alg) {
    case Alg::kEdDSA: {
      unsigned char raw[32];
      std::size_t len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(key.pkey.get(), raw, &len) != 1) {
        throw std::runtime_error(ossl::last_error("OpenSSL: cannot read Ed25519 key"));
      }
      o["crv"] = "Ed25519";
      o["kty"] = "OKP";
      o["x"] = base64url_encode({reinterpret_cast<const char*>(raw), len});
      break;
    }
    case Alg::kES256:
      o["crv"] = "P-256";
      o["kty"] = "EC";
      o["x"] = base64url_encode(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
      o["y"] = base64url_encode(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
      break;
    case Alg::kRS256:
      o["e"] = base64url_encode(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_RSA_E, 0));
      o["kty"] = "RSA";
      o["n"] = base64url_encode(bn_bytes(key.pkey.get(), OSSL_PKEY_PARAM_RSA_N, 0));
      break;
    case Alg::kHS256:
      o["k"] = base64url_encode(key.secret);
      o["kty"] = "oct";
      break;
  }
  return o;  // members inserted in lexicographic order, as RFC 7638 §3.3 requires
}

std::string thumbprint_of(const KeyData& key) {
  return base64url_encode(sha256(json::serialize(required_jwk_members(key))));
}

}  // namespace detail

namespace {

using Result = Expected<VerifyKey, std::string>;

const json::string* str_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v ? v->if_string() : nullptr;
}

// `"name" what` (built with append: GCC 12 misreports operator+ chains under -O3).
std::string member_error(std::string_view name, std::string_view what) {
  std::string m;
  m.reserve(name.size() + what.size() + 3);
  m.append(1, '"').append(name).append("\" ").append(what);
  return m;
}

// Required base64url member; `size` 0 = any non-empty length.
Expected<std::string, std::string> b64_member(const json::object& o, std::string_view name,
                                              std::size_t size) {
  const json::string* s = str_member(o, name);
  if (!s) {
    return unexpected(member_error(name, "is missing"));
  }
  auto bytes = base64url_decode(*s);
  if (!bytes || bytes->empty()) {
    return unexpected(member_error(name, "is not base64url"));
  }
  if (size != 0 && bytes->size() != size) {
    return unexpected(member_error(name, "must be " + std::to_string(size) + " bytes"));
  }
  return std::move(*bytes);
}

Expected<ossl::PkeyPtr, std::string> from_params(const char* type, OSSL_PARAM* params) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return unexpected(ossl::last_error(std::string("invalid ") + type + " public key"));
  }
  ossl::PkeyPtr pkey(raw);
  ossl::PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return unexpected(ossl::last_error(std::string("invalid ") + type + " public key"));
  }
  return pkey;
}

Expected<ossl::PkeyPtr, std::string> rsa_key(const json::object& jwk) {
  auto n = b64_member(jwk, "n", 0);
  if (!n) {
    return unexpected(n.error());
  }
  auto e = b64_member(jwk, "e", 0);
  if (!e) {
    return unexpected(e.error());
  }
  if (e->size() > 8) {
    return unexpected(std::string("\"e\" is implausibly large"));
  }
  ossl::BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                             static_cast<int>(n->size()), nullptr));
  ossl::BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                             static_cast<int>(e->size()), nullptr));
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  if (bld && bn_n && bn_e && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    params = OSSL_PARAM_BLD_to_param(bld);
  }
  OSSL_PARAM_BLD_free(bld);
  if (!params) {
    return unexpected(ossl::last_error("cannot build RSA key"));
  }
  auto key = from_params("RSA", params);
  OSSL_PARAM_free(params);
  return key;
}

Expected<ossl::PkeyPtr, std::string> ec_key(const json::object& jwk) {
  const json::string* crv = str_member(jwk, "crv");
  if (!crv || *crv != "P-256") {
    return unexpected(std::string("EC curve must be \"P-256\""));
  }
  auto x = b64_member(jwk, "x", 32);
  if (!x) {
    return unexpected(x.error());
  }
  auto y = b64_member(jwk, "y", 32);
  if (!y) {
    return unexpected(y.error());
  }
  std::string point(1, '\x04');  // SEC1 uncompressed point: 04 || X || Y
  point.append(*x).append(*y);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  return from_params("EC", params);
}

Expected<ossl::PkeyPtr, std::string> okp_key(const json::object& jwk) {
  const json::string* crv = str_member(jwk, "crv");
  if (!crv || *crv != "Ed25519") {
    return unexpected(std::string("OKP curve must be \"Ed25519\""));
  }
  auto x = b64_member(jwk, "x", 32);
  if (!x) {
    return unexpected(x.error());
  }
  ossl::PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size()));
  if (!pkey) {
    return unexpected(ossl::last_error("invalid Ed25519 public key"));
  }
  return pkey;
}

}  // namespace

Result VerifyKey::from_jwk(const json::object& jwk) {
  const json::string* kty = str_member(jwk, "kty");
  if (!kty) {
    return unexpected(std::string("missing \"kty\""));
  }
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi"}) {
    if (jwk.contains(priv)) {
      return unexpected(std::string("contains private key material"));
    }
  }
  if (const json::value* use = jwk.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig") {
      return unexpected("use " + json::serialize(*use) + " is not a signature key");
    }
  }
  if (const json::value* ops = jwk.if_contains("key_ops")) {
    const json::array* arr = ops->if_array();
    bool verify = false;
    if (arr) {
      for (const auto& op : *arr) {
        verify = verify || (op.is_string() && op.get_string() == "verify");
      }
    }
    if (!verify) {
      return unexpected(std::string("key_ops does not include \"verify\""));
    }
  }
  std::string kid;
  if (const json::value* k = jwk.if_contains("kid")) {
    if (!k->is_string()) {
      return unexpected(std::string("\"kid\" is not a string"));
    }
    kid = std::string(k->get_string());
  }

  Expected<std::shared_ptr<detail::KeyData>, std::string> data =
      unexpected("unsupported kty \"" + std::string(*kty) + "\"");
  if (*kty == "oct") {
    auto k = b64_member(jwk, "k", 0);
    if (!k) {
      return unexpected(k.error());
    }
    data = detail::make_symmetric(*k, kid);
  } else {
    Expected<ossl::PkeyPtr, std::string> pkey = unexpected(data.error());
    if (*kty == "RSA") {
      pkey = rsa_key(jwk);
    }
    if (*kty == "EC") {
      pkey = ec_key(jwk);
    }
    if (*kty == "OKP") {
      pkey = okp_key(jwk);
    }
    if (!pkey) {
      return unexpected(pkey.error());
    }
    data = detail::make_asymmetric(std::move(*pkey), false, kid);
  }
  if (!data) {
    return unexpected(data.error());
  }
  if (const json::value* a = jwk.if_contains("alg")) {
    const json::string* name = a->if_string();
    if (!name || parse_alg(*name) != (*data)->alg) {
      return unexpected("alg " + json::serialize(*a) + " does not fit a " + std::string(*kty) +
                        " key (expected " + std::string(alg_name((*data)->alg)) + ")");
    }
  }
  return VerifyKey(std::move(*data));
}

json::object VerifyKey::to_jwk() const {
  json::object o = detail::required_jwk_members(*d_);
  o["kid"] = d_->kid;
  o["alg"] = alg_name(d_->alg);
  o["use"] = "sig";
  return o;
}

}  // namespace enkisys::security
