#include "enkisys/tools/text.hpp"

#include <cstdint>
#include <cstdio>

#include "enkisys/core/utf8.hpp"

namespace enkisys::tools {

namespace {
std::uint8_t byte(std::string_view s, std::size_t i) {
  return static_cast<std::uint8_t>(s[i]);
}
}  // namespace

std::string describe_char_at(std::string_view s, std::size_t at) {
  const std::uint8_t b = byte(s, at);
  char buf[16];
  if (b >= 0x20 && b < 0x7F) return "'" + std::string(1, static_cast<char>(b)) + "'";
  const std::size_t n = core::utf8_sequence_length(s, at);
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
