// JWS signing and verification keys: EdDSA (Ed25519), RS256 (RSA >= 2048), ES256 (P-256) and
// HS256 (shared secret >= 32 bytes).
//
// Contract:
// * SigningKey and VerifyKey are immutable values sharing their key material (copy = pointer
//   copy); every method is const and safe to call from many threads at once.
// * The key's type decides its algorithm: a key never verifies or produces another alg.
// * VerifyKey holds only public material (or, for HS256, the shared secret). Everything
//   verify() needs is built once per key: the EVP_PKEY (RSA, P-256), the raw Ed25519 key
//   (checked with libsodium's verifier) or a keyed HMAC context (HS256).
// * kid defaults to the RFC 7638 JWK thumbprint (base64url SHA-256), with_kid() overrides it.
// * Loading untrusted material returns Expected<..., std::string> with a readable reason.
//   generate() and sign() throw std::runtime_error only when OpenSSL itself fails.
// * Signatures are in JWS form: Ed25519 64 bytes, RSA modulus-size bytes, ES256 raw R||S
//   (64 bytes — DER is rejected), HS256 32 bytes.
// * Private key files: save_pem_file() writes PKCS#8 PEM with mode 0600 atomically (O_EXCL
//   temp file + rename); load_pem_file() refuses a file that group or others can access.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "enkisys/security/expected.hpp"

namespace enkisys::security {

enum class Alg { kEdDSA, kRS256, kES256, kHS256 };

// "EdDSA", "RS256", "ES256", "HS256".
std::string_view alg_name(Alg alg);
// Exact, case-sensitive JWA name; nullopt for "none" and anything unsupported.
std::optional<Alg> parse_alg(std::string_view name);

namespace detail {
struct KeyData;
}

class VerifyKey {
 public:
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  static Expected<VerifyKey, std::string> from_public_pem(std::string_view pem,
                                                          std::string kid = {});
  // A single JWK object (RFC 7517); kid from the JWK or else its thumbprint. Rejects private
  // members ("d"), use other than "sig", an "alg" that does not fit the key, weak RSA.
  static Expected<VerifyKey, std::string> from_jwk(const boost::json::object& jwk);
  // HS256 shared secret (>= 32 bytes).
  static Expected<VerifyKey, std::string> from_secret(std::string_view secret,
                                                      std::string kid = {});

  Alg alg() const;
  const std::string& kid() const;
  VerifyKey with_kid(std::string kid) const;
  bool is_symmetric() const { return alg() == Alg::kHS256; }

  // True iff `signature` (JWS form, see above) is valid for `signing_input` under this key.
  bool verify(std::string_view signing_input, std::string_view signature) const;

  // PEM of the public key; REQUIRES: !is_symmetric() (throws std::logic_error otherwise).
  std::string public_pem() const;
  // Public JWK: kty, crv/x/y or n/e, kid, alg, use:"sig". HS256 yields kty "oct" WITH the
  // secret in "k" — never publish it (Jwks::serialize refuses symmetric keys).
  boost::json::object to_jwk() const;
  // RFC 7638 thumbprint (base64url SHA-256 of the canonical required members).
  std::string thumbprint() const;

 private:
  friend class SigningKey;
  explicit VerifyKey(std::shared_ptr<const detail::KeyData> d) : d_(std::move(d)) {}
  std::shared_ptr<const detail::KeyData> d_;
};

class SigningKey {
 public:
  // Fresh key: Ed25519, RSA-2048, P-256, or 32 random bytes for HS256.
  static SigningKey generate(Alg alg);
  // PKCS#8 or traditional private key PEM (unencrypted). Alg follows the key type.
  static Expected<SigningKey, std::string> from_private_pem(std::string_view pem,
                                                            std::string kid = {});
  static Expected<SigningKey, std::string> from_secret(std::string_view secret,
                                                       std::string kid = {});
  // Reads a private key PEM file; fails if the file is group/world accessible.
  static Expected<SigningKey, std::string> load_pem_file(const std::filesystem::path& path,
                                                         std::string kid = {});
  // Writes private_pem() to `path` with mode 0600, atomically replacing any old file.
  Status save_pem_file(const std::filesystem::path& path) const;

  Alg alg() const;
  const std::string& kid() const;
  SigningKey with_kid(std::string kid) const;

  // PKCS#8 PEM; REQUIRES: alg() != kHS256 (throws std::logic_error otherwise).
  std::string private_pem() const;
  // The public half (or the same secret for HS256), with the same kid.
  VerifyKey verify_key() const;
  // JWS signature of `signing_input` (see the forms above).
  std::string sign(std::string_view signing_input) const;

 private:
  explicit SigningKey(std::shared_ptr<const detail::KeyData> d) : d_(std::move(d)) {}
  std::shared_ptr<const detail::KeyData> d_;
};

}  // namespace enkisys::security
