// Text helpers of the Tool Manager's messages. UTF-8 validity is libs/core's
// (enkisys/core/utf8.hpp): every string a tools answer carries (error messages, text bodies of
// upstream services) passes through core::to_valid_utf8(), so no answer holds invalid UTF-8
// whatever the input or the upstream sent.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace enkisys::tools {

// The character starting at s[at] for a message: itself when printable ASCII or a well-formed
// multi-byte sequence ("'１' (U+FF11)"), else its code point or byte value ("U+0007", "0xEF").
// REQUIRES: at < s.size().
std::string describe_char_at(std::string_view s, std::size_t at);

}  // namespace enkisys::tools
