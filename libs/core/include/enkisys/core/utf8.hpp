// UTF-8 checks for text that reaches a JSON answer or a log line.
//
// Contract: pure functions, thread safe, never throw. "Valid" is RFC 3629: no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace enkisys::core {

// Length in bytes of the well-formed sequence starting at s[at] (1-4), or 0 when the bytes there
// are not one (stray continuation byte, truncated, overlong, surrogate, > U+10FFFF).
// REQUIRES: at < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t at);
bool valid_utf8(std::string_view s);
// `s` with one U+FFFD for every byte that does not begin a well-formed sequence. Returns `s`
// unchanged when it is valid.
std::string to_valid_utf8(std::string_view s);

}  // namespace enkisys::core
