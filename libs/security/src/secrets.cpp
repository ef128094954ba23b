#include "enkisys/security/secrets.hpp"

#include <openssl/crypto.h>
#include <sodium.h>

#include <stdexcept>

#include "enkisys/security/encoding.hpp"
#include "key_data.hpp"

namespace enkisys::security {

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) {
      throw std::runtime_error("libsodium could not be initialised");
    }
    return true;
  }();
  (void)ready;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  if (a.empty()) {
    return true;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  ensure_sodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string random_token(std::size_t bytes) {
  std::string raw = random_bytes(bytes);
  std::string token = base64url_encode(raw);
  sodium_memzero(raw.data(), raw.size());
  return token;
}

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 ossl::sha256_md(), nullptr) != 1 ||
      len != 32) {
    throw std::runtime_error(ossl::last_error("OpenSSL: SHA-256 failed"));
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  const ossl::MacCtxPtr keyed = ossl::hmac_sha256_keyed(key);
  std::string out(32, '\0');
  if (!keyed ||
      !ossl::hmac_sha256_with(keyed.get(), data, reinterpret_cast<unsigned char*>(out.data()))) {
    throw std::runtime_error(ossl::last_error("OpenSSL: HMAC-SHA256 failed"));
  }
  return out;
}

}  // namespace enkisys::security
