#include "enkisys/auth/email.hpp"

#include <algorithm>
#include <cstring>

namespace enkisys::auth {

namespace {

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+/=?^_`{|}~-", c) != nullptr && c != '\0';
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

core::Error fail(std::string why) {
  return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_email", std::move(why),
                          "/email");
}

}  // namespace

core::Expected<std::string> normalize_email(std::string_view raw) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const auto first = raw.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return fail("email is empty");
  raw = raw.substr(first, raw.find_last_not_of(kSpace) - first + 1);
  if (raw.size() > kMaxEmailBytes) {
    return fail("email is longer than " + std::to_string(kMaxEmailBytes) + " characters");
  }
  std::string s;
  s.reserve(raw.size());
  for (const char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80)
      return fail("email must be ASCII (internationalised addresses are not supported)");
    if (u < 0x21 || u == 0x7f) return fail("email must not contain spaces or control characters");
    s += static_cast<char>(u >= 'A' && u <= 'Z' ? u + ('a' - 'A') : u);
  }
  const auto at = s.find('@');
  if (at == std::string::npos || s.find('@', at + 1) != std::string::npos) {
    return fail("email must contain exactly one '@'");
  }
  const std::string_view local = std::string_view(s).substr(0, at);
  const std::string_view domain = std::string_view(s).substr(at + 1);
  if (local.empty() || local.size() > 64)
    return fail("the part before '@' must be 1 to 64 characters");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return fail("the part before '@' has a misplaced dot");
  }
  if (!std::all_of(local.begin(), local.end(), [](char c) { return c == '.' || is_atext(c); })) {
    return fail("the part before '@' has a character not allowed in an address");
  }
  if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string_view::npos) {
    return fail("the domain must be a name like example.com");
  }
  std::size_t start = 0;
  while (start <= domain.size()) {
    auto dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    if (!valid_label(domain.substr(start, dot - start))) {
      return fail("the domain must be a name like example.com");
    }
    start = dot + 1;
  }
  return s;
}

}  // namespace enkisys::auth
