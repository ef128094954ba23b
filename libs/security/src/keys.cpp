#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <stdexcept>

#include "enkisys/security/secrets.hpp"
#include "key_data.hpp"

namespace enkisys::security {
namespace detail {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  // bounds the cost an attacker-chosen JWKS can impose
constexpr std::size_t kMinSecretBytes = 32;

Expected<Alg, std::string> classify(EVP_PKEY* p) {
  if (EVP_PKEY_is_a(p, "ED25519")) {
    return Alg::kEdDSA;
  }
  if (EVP_PKEY_is_a(p, "RSA")) {
    const int bits = EVP_PKEY_get_bits(p);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return unexpected("RSA key of " + std::to_string(bits) + " bits (need 2048..8192)");
    }
    return Alg::kRS256;
  }
  if (EVP_PKEY_is_a(p, "EC")) {
    char group[64] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
        1) {
      return unexpected(std::string("EC key without a named curve"));
    }
    const std::string_view name(group, len);
    if (name != "prime256v1" && name != "P-256") {
      return unexpected("EC curve " + std::string(name) + " is not supported (only P-256)");
    }
    return Alg::kES256;
  }
  const char* type = EVP_PKEY_get0_type_name(p);
  return unexpected("unsupported key type " + std::string(type ? type : "?") +
                    " (supported: Ed25519, RSA, EC P-256)");
}

}  // namespace

KeyData::~KeyData() {
  if (!secret.empty()) {
    sodium_memzero(secret.data(), secret.size());
  }
}

Expected<std::shared_ptr<KeyData>, std::string> make_asymmetric(ossl::PkeyPtr pkey, bool is_private,
                                                                std::string kid) {
  auto alg = classify(pkey.get());
  if (!alg) {
    return unexpected(alg.error());
  }
  auto d = std::make_shared<KeyData>();
  d->alg = *alg;
  d->is_private = is_private;
  d->sig_size = *alg == Alg::kRS256 ? static_cast<std::size_t>(EVP_PKEY_get_size(pkey.get())) : 64;
  d->pkey = std::move(pkey);
  if (d->alg == Alg::kEdDSA) {
    std::size_t len = sizeof d->ed25519_public;
    if (EVP_PKEY_get_raw_public_key(d->pkey.get(), d->ed25519_public, &len) != 1 || len != 32) {
      return unexpected(ossl::last_error("cannot read Ed25519 public key"));
    }
  }
  d->kid = kid.empty() ? thumbprint_of(*d) : std::move(kid);
  return d;
}

Expected<std::shared_ptr<KeyData>, std::string> make_symmetric(std::string_view secret,
                                                               std::string kid) {
  if (secret.size() < kMinSecretBytes) {
    return unexpected("HS256 secret of " + std::to_string(secret.size()) +
                      " bytes is too short (need at least 32)");
  }
  auto d = std::make_shared<KeyData>();
  d->alg = Alg::kHS256;
  d->secret = std::string(secret);
  d->hmac = ossl::hmac_sha256_keyed(secret);
  if (!d->hmac) {
    return unexpected(ossl::last_error("OpenSSL: HMAC-SHA256 unavailable"));
  }
  d->sig_size = 32;
  d->kid = kid.empty() ? thumbprint_of(*d) : std::move(kid);
  return d;
}

}  // namespace detail

namespace {

using detail::KeyData;

ossl::PkeyPtr public_copy(EVP_PKEY* p) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(p, &der);
  if (len <= 0) {
    throw std::runtime_error(ossl::last_error("OpenSSL: cannot export public key"));
  }
  const unsigned char* in = der;
  ossl::PkeyPtr out(d2i_PUBKEY(nullptr, &in, len));
  OPENSSL_free(der);
  if (!out) {
    throw std::runtime_error(ossl::last_error("OpenSSL: cannot re-import public key"));
  }
  return out;
}

// A verification-only copy of `k` (public key, or the same HS256 secret) under `kid`.
std::shared_ptr<const KeyData> public_half(const KeyData& k, std::string kid) {
  auto d = k.alg == Alg::kHS256
               ? detail::make_symmetric(k.secret, std::move(kid))
               : detail::make_asymmetric(public_copy(k.pkey.get()), false, std::move(kid));
  if (!d) {
    throw std::runtime_error("cannot copy key: " + d.error());
  }
  return std::move(*d);
}

int refuse_passphrase(char*, int, int, void*) {
  return 0;
}

}  // namespace

// ---- VerifyKey ----

Expected<VerifyKey, std::string> VerifyKey::from_public_pem(std::string_view pem, std::string kid) {
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::PkeyPtr pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, refuse_passphrase, nullptr)
                         : nullptr);
  if (!pkey) {
    return unexpected(ossl::last_error("not a PEM public key"));
  }
  auto d = detail::make_asymmetric(std::move(pkey), false, std::move(kid));
  if (!d) {
    return unexpected(d.error());
  }
  return VerifyKey(std::move(*d));
}

Expected<VerifyKey, std::string> VerifyKey::from_secret(std::string_view secret, std::string kid) {
  auto d = detail::make_symmetric(secret, std::move(kid));
  if (!d) {
    return unexpected(d.error());
  }
  return VerifyKey(std::move(*d));
}

Alg VerifyKey::alg() const {
  return d_->alg;
}
const std::string& VerifyKey::kid() const {
  return d_->kid;
}

VerifyKey VerifyKey::with_kid(std::string kid) const {
  if (kid.empty()) {
    kid = d_->kid;
  }
  return VerifyKey(public_half(*d_, std::move(kid)));
}

bool VerifyKey::verify(std::string_view signing_input, std::string_view signature) const {
  return detail::verify(*d_, signing_input, signature);
}

std::string VerifyKey::public_pem() const {
  if (!d_->pkey) {
    throw std::logic_error("an HS256 key has no public PEM");
  }
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), d_->pkey.get()) != 1) {
    throw std::runtime_error(ossl::last_error("OpenSSL: cannot write public PEM"));
  }
  return ossl::bio_contents(bio.get());
}

std::string VerifyKey::thumbprint() const {
  return detail::thumbprint_of(*d_);
}

// ---- SigningKey ----

SigningKey SigningKey::generate(Alg alg) {
  if (alg == Alg::kHS256) {
    std::string secret = random_bytes(32);
    auto d = detail::make_symmetric(secret, {});
    sodium_memzero(secret.data(), secret.size());
    return SigningKey(std::move(*d));
  }
  EVP_PKEY* raw = nullptr;
  switch (alg) {
    case Alg::kEdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case Alg::kRS256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
      break;
    case Alg::kES256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case Alg::kHS256:
      break;
  }
  if (!raw) {
    throw std::runtime_error(ossl::last_error("OpenSSL: key generation failed"));
  }
  auto d = detail::make_asymmetric(ossl::PkeyPtr(raw), true, {});
  if (!d) {
    throw std::runtime_error("generated key rejected: " + d.error());
  }
  return SigningKey(std::move(*d));
}

Expected<SigningKey, std::string> SigningKey::from_private_pem(std::string_view pem,
                                                               std::string kid) {
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::PkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr)
                         : nullptr);
  if (!pkey) {
    return unexpected(ossl::last_error("not an unencrypted PEM private key"));
  }
  auto d = detail::make_asymmetric(std::move(pkey), true, std::move(kid));
  if (!d) {
    return unexpected(d.error());
  }
  return SigningKey(std::move(*d));
}

Expected<SigningKey, std::string> SigningKey::from_secret(std::string_view secret,
                                                          std::string kid) {
  auto d = detail::make_symmetric(secret, std::move(kid));
  if (!d) {
    return unexpected(d.error());
  }
  return SigningKey(std::move(*d));
}

Alg SigningKey::alg() const {
  return d_->alg;
}
const std::string& SigningKey::kid() const {
  return d_->kid;
}

SigningKey SigningKey::with_kid(std::string kid) const {
  if (d_->alg == Alg::kHS256) {
    auto d = detail::make_symmetric(d_->secret, std::move(kid));
    if (!d) {
      throw std::runtime_error("cannot copy key: " + d.error());
    }
    return SigningKey(std::move(*d));
  }
  auto copy = SigningKey::from_private_pem(private_pem(), std::move(kid));
  if (!copy) {
    throw std::runtime_error("cannot copy signing key: " + copy.error());
  }
  return std::move(copy).value();
}

std::string SigningKey::private_pem() const {
  if (!d_->pkey) {
    throw std::logic_error("an HS256 key has no private PEM");
  }
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), d_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    throw std::runtime_error(ossl::last_error("OpenSSL: cannot write private PEM"));
  }
  return ossl::bio_contents(bio.get());
}

VerifyKey SigningKey::verify_key() const {
  return VerifyKey(public_half(*d_, d_->kid));
}

std::string SigningKey::sign(std::string_view signing_input) const {
  return detail::sign(*d_, signing_input);
}

}  // namespace enkisys::security