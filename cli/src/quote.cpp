#include "enkisys/cli/quote.hpp"

namespace enkisys::cli {

std::string shell_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

bool needs_quoting(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
    if (!plain) return true;
  }
  return false;
}

}  // namespace enkisys::cli
