// UTF-8 checks for text that reaches a JSON answer or a log line.
//
// Contract: pure functions, thread safe, never throw. "Valid" is RFC 3629: no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
#pragma once

#include <string>
#include <string_view>

namespace enkisys::core {

bool valid_utf8(std::string_view s);
// `s` with every invalid or truncated sequence replaced by U+FFFD (one per maximal bad prefix,
// as the WHATWG decoder does). Returns `s` unchanged when it is valid.
std::string to_valid_utf8(std::string_view s);

}  // namespace enkisys::core
