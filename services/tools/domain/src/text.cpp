#include "enkisys/tools/text.hpp"

#include <cstdint>
#include <cstdio>

namespace enkisys::tools {

namespace {
std::uint8_t byte(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}
bool continuation(std::string_view s, std::size_t i) {
  return i < s.size() && (byte(s, i) & 0xC0U) == 0x80U;
}
}  // namespace

std::size_t utf8_sequence_length(std::string_view s, std::size_t at) {
  const std::uint8_t b = byte(s, at);
  if (b < 0x80) return 1;
  std::size_t n = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  for (std::size_t i = 1; i < n; ++i) {
    if (!continuation(s, at + i)) return 0;
  }
  if (n >= 3) {
    const std::uint8_t b1 = byte(s, at + 1);
    if (b == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b == 0xED && b1 >= 0xA0) return 0;  // surrogate
    if (b == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
  }
  return n;
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string describe_char_at(std::string_view s, std::size_t at) {
  const std::uint8_t b = byte(s, at);
  char buf[16];
  if (b >= 0x20 && b < 0x7F) return "'" + std::string(1, static_cast<char>(b)) + "'";
  const std::size_t n = utf8_sequence_length(s, at);
  if (n == 0) {
    std::snprintf(buf, sizeof buf, "byte 0x%02X", b);
    return buf;
  }
  std::uint32_t cp = n == 1 ? b : (b & (0xFFU >> (n + 1)));
  for (std::size_t i = 1; i < n; ++i) cp = (cp << 6) | (byte(s, at + i) & 0x3FU);
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  if (n == 1) return buf;  // a control character: its code point only
  return "'" + std::string(s.substr(at, n)) + "' (" + buf + ")";
}

}  // namespace enkisys::tools
