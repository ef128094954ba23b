// Internal: the key material shared by SigningKey/VerifyKey, and OpenSSL RAII wrappers.
// Not installed; include only from libs/security/src.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "enkisys/security/expected.hpp"
#include "enkisys/security/keys.hpp"

namespace enkisys::security {
namespace ossl {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// Oldest queued OpenSSL error as text (and clears the queue); `fallback` if none.
std::string last_error(std::string_view fallback);
// Contents of a memory BIO.
std::string bio_contents(BIO* bio);
// SHA-256 fetched once from the default provider (avoids a fetch per signature).
const EVP_MD* sha256_md();
// An HMAC-SHA256 context already keyed with `key`; dup it per message. nullptr on failure.
MacCtxPtr hmac_sha256_keyed(std::string_view key);
// HMAC-SHA256 of `data` from a keyed template (see above) into out[32]; false on failure.
bool hmac_sha256_with(const EVP_MAC_CTX* keyed, std::string_view data, unsigned char* out);

}  // namespace ossl

namespace detail {

struct KeyData {
  Alg alg = Alg::kEdDSA;
  std::string kid;
  ossl::PkeyPtr pkey;                     // asymmetric keys
  std::string secret;                     // HS256 only
  ossl::MacCtxPtr hmac;                   // HS256 only: keyed HMAC template
  unsigned char ed25519_public[32] = {};  // EdDSA only: raw key for libsodium's verifier
  bool is_private = false;                // pkey holds the private half
  std::size_t sig_size = 0;               // exact JWS signature length
  ~KeyData();
};

// Wraps an asymmetric EVP_PKEY after checking its type/size; kid defaults to the thumbprint.
Expected<std::shared_ptr<KeyData>, std::string> make_asymmetric(ossl::PkeyPtr pkey, bool is_private,
                                                                std::string kid);
Expected<std::shared_ptr<KeyData>, std::string> make_symmetric(std::string_view secret,
                                                               std::string kid);
// The RFC 7638 required members of the key (kty + crv/x/y, n/e or k).
boost::json::object required_jwk_members(const KeyData& key);
std::string thumbprint_of(const KeyData& key);

// JWS signature of `input` (throws std::runtime_error if OpenSSL fails).
std::string sign(const KeyData& key, std::string_view input);
// True iff `signature` is a valid JWS signature of `input`; never throws.
bool verify(const KeyData& key, std::string_view input, std::string_view signature);

}  // namespace detail
}  // namespace enkisys::security
