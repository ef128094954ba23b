// Password hashing with Argon2id (libsodium crypto_pwhash_str, ALG_ARGON2ID13).
//
// Contract: a PasswordHasher is an immutable value; all methods are const and thread safe.
// hash() produces a self-describing PHC string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash")
// with a fresh random salt. verify() is constant time in the password (libsodium) and returns
// false for any malformed hash string. needs_rehash() is true when the stored hash uses other
// limits than this hasher (or is not an argon2id string) — rehash on the next successful login.
// hash() throws std::runtime_error only when the memory limit cannot be allocated.
// Cost: interactive limits are ~64 MiB and tens of milliseconds per call; run it off the
// I/O threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace enkisys::security {

class PasswordHasher {
 public:
  // libsodium's "interactive" limits (ops 2, 64 MiB).
  PasswordHasher();
  PasswordHasher(unsigned long long ops_limit, std::size_t mem_limit);

  static PasswordHasher interactive();
  static PasswordHasher moderate();
  // Smallest limits libsodium accepts: for tests only, never for stored user passwords.
  static PasswordHasher for_tests();

  std::string hash(std::string_view password) const;
  bool verify(std::string_view hash, std::string_view password) const;
  bool needs_rehash(std::string_view hash) const;

  unsigned long long ops_limit() const { return ops_limit_; }
  std::size_t mem_limit() const { return mem_limit_; }

 private:
  unsigned long long ops_limit_;
  std::size_t mem_limit_;
};

}  // namespace enkisys::security
