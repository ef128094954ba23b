// Secret-handling functions: constant-time comparison, CSPRNG tokens, SHA-256 and HMAC-SHA256.
//
// Contract: thread safe. All randomness comes from libsodium's randombytes_buf (the OS CSPRNG);
// SHA-256 and HMAC use OpenSSL's EVP interfaces (hardware SHA extensions where present).
// Digests are returned as raw bytes unless the name says _hex. Throw std::runtime_error only if
// libsodium or OpenSSL cannot initialise — a broken environment.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace enkisys::security {

// Initialises libsodium once; every function here calls it. Safe to call repeatedly.
void ensure_sodium();

// Compares contents in time independent of where they differ (only the length leaks).
bool constant_time_equal(std::string_view a, std::string_view b);

std::string random_bytes(std::size_t n);
// base64url (unpadded) of `bytes` random bytes; 32 bytes → 43 characters, 256 bits of entropy.
std::string random_token(std::size_t bytes = 32);

std::string sha256(std::string_view data);                             // 32 raw bytes
std::string sha256_hex(std::string_view data);                         // 64 hex characters
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes

}  // namespace enkisys::security
