// Base64 (RFC 4648 §4) and base64url (§5, no padding) codecs plus hex. Encoding uses
// libsodium; decoding is a strict table-driven parser (not constant time: meant for public
// data such as JWT segments and JWKs, not for comparing secrets).
//
// Contract: pure functions, thread safe. Decoders are strict and return std::nullopt on any
// deviation from the canonical encoding: base64url rejects '=' padding, characters outside
// [A-Za-z0-9-_], whitespace, a dangling 1-character group and non-zero trailing bits;
// base64 requires correct '=' padding and the standard alphabet. Never throw on bad input.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace enkisys::security {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// Lower-case hex.
std::string hex_encode(std::string_view bytes);

}  // namespace enkisys::security
