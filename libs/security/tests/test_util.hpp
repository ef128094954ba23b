// Shared fixtures for the security tests: RFC test vectors and token forging functions.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "enkisys/security/encoding.hpp"
#include "enkisys/security/keys.hpp"

namespace enkisys::security {
// Readable parameter names in test output ("EdDSA" instead of a byte dump).
inline void PrintTo(Alg alg, std::ostream* os) {
  *os << alg_name(alg);
}
}  // namespace enkisys::security

namespace enkisys::security::testing {

// RFC 8037 A.1 Ed25519 key.
inline constexpr std::string_view kRfc8037Seed = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
inline constexpr std::string_view kRfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
// RFC 8037 A.4 JWS.
inline constexpr std::string_view kRfc8037SigningInput =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
inline constexpr std::string_view kRfc8037Signature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// PKCS#8 PEM for a raw Ed25519 seed (RFC 8410 §7 layout).
inline std::string ed25519_pem_from_seed(std::string_view seed_b64url) {
  const std::string der =
      std::string("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16) +
      base64url_decode(seed_b64url).value();
  return "-----BEGIN PRIVATE KEY-----\n" + base64_encode(der) + "\n-----END PRIVATE KEY-----\n";
}

// header.payload from raw JSON texts.
inline std::string signing_input(std::string_view header_json, std::string_view payload_json) {
  return base64url_encode(header_json) + "." + base64url_encode(payload_json);
}

// A token with arbitrary header/payload text, signed by `key` (whatever the header says).
inline std::string forge(const SigningKey& key, std::string_view header_json,
                         std::string_view payload_json) {
  const std::string input = signing_input(header_json, payload_json);
  return input + "." + base64url_encode(key.sign(input));
}

}  // namespace enkisys::security::testing
