#include "enkisys/security/password.hpp"

#include <sodium.h>

#include <stdexcept>

#include "enkisys/security/secrets.hpp"

namespace enkisys::security {

PasswordHasher::PasswordHasher()
    : PasswordHasher(crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) {}

PasswordHasher::PasswordHasher(unsigned long long ops_limit, std::size_t mem_limit)
    : ops_limit_(ops_limit), mem_limit_(mem_limit) {
  if (ops_limit < crypto_pwhash_OPSLIMIT_MIN || ops_limit > crypto_pwhash_OPSLIMIT_MAX ||
      mem_limit < crypto_pwhash_MEMLIMIT_MIN || mem_limit > crypto_pwhash_MEMLIMIT_MAX) {
    throw std::invalid_argument("PasswordHasher: ops/mem limits outside libsodium's range");
  }
}

PasswordHasher PasswordHasher::interactive() {
  return {};
}
PasswordHasher PasswordHasher::moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}
PasswordHasher PasswordHasher::for_tests() {
  // argon2id needs at least one pass (OPSLIMIT_MIN) and 8 KiB (MEMLIMIT_MIN).
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

std::string PasswordHasher::hash(std::string_view password) const {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops_limit_, mem_limit_,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id: out of memory while hashing a password");
  }
  return std::string(out);
}

bool PasswordHasher::verify(std::string_view hash, std::string_view password) const {
  ensure_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) {
    return false;
  }
  char buf[crypto_pwhash_STRBYTES] = {};
  hash.copy(buf, hash.size());  // libsodium needs a NUL-terminated string
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

bool PasswordHasher::needs_rehash(std::string_view hash) const {
  ensure_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) {
    return true;
  }
  char buf[crypto_pwhash_STRBYTES] = {};
  hash.copy(buf, hash.size());
  // 0: same parameters; 1: other parameters; -1: not an argon2id string.
  return crypto_pwhash_argon2id_str_needs_rehash(buf, ops_limit_, mem_limit_) != 0;
}

}  // namespace enkisys::security
