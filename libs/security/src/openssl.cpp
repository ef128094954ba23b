// OpenSSL plumbing shared by the key code: error text, memory BIOs, pre-fetched algorithms.
#include <openssl/core_names.h>
#include <openssl/err.h>

#include <stdexcept>

#include "key_data.hpp"

namespace enkisys::security {
namespace ossl {

std::string last_error(std::string_view fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return std::string(fallback);
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return std::string(fallback) + ": " + buf;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  return len > 0 && data ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!md) {
    throw std::runtime_error("OpenSSL: SHA256 is not available");
  }
  return md;
}

MacCtxPtr hmac_sha256_keyed(std::string_view key) {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) {
    return nullptr;
  }
  MacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  static const unsigned char kEmpty = 0;
  const auto* k = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (!ctx || EVP_MAC_init(ctx.get(), k, key.size(), params) != 1) {
    return nullptr;
  }
  return ctx;
}

bool hmac_sha256_with(const EVP_MAC_CTX* keyed, std::string_view data, unsigned char* out) {
  MacCtxPtr ctx(EVP_MAC_CTX_dup(keyed));
  std::size_t len = 0;
  return ctx &&
         EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                        data.size()) == 1 &&
         EVP_MAC_final(ctx.get(), out, &len, 32) == 1 && len == 32;
}

}  // namespace ossl

}  // namespace enkisys::security
