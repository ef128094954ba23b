// UTF-8 helpers for everything the Tool Manager puts into a JSON answer.
//
// Contract: pure functions, thread-safe. Every string a tools answer carries (error messages,
// text bodies of upstream services) passes through valid_utf8(), so no answer holds invalid
// UTF-8 whatever the input or the upstream sent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace enkisys::tools {

// Length in bytes of the well-formed UTF-8 sequence starting at s[at] (1-4), or 0 when the bytes
// there are not one (stray continuation byte, truncated, overlong, surrogate, > U+10FFFF).
// REQUIRES: at < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t at);

// True when `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD; `s` itself when it is valid.
std::string valid_utf8(std::string_view s);

// The character starting at s[at] for a message: itself when printable ASCII or a well-formed
// multi-byte sequence ("'１' (U+FF11)"), else its code point or byte value ("U+0007", "0xEF").
// REQUIRES: at < s.size().
std::string describe_char_at(std::string_view s, std::size_t at);

}  // namespace enkisys::tools
