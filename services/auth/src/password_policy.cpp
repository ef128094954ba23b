#include "enkisys/auth/password_policy.hpp"

#include <algorithm>
#include <cstdint>

namespace enkisys::auth {

namespace detail {
extern const unsigned char kCommonPasswords[];
extern const std::size_t kCommonPasswordsSize;
}  // namespace detail

namespace {
std::string lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return out;
}
}  // namespace

namespace {
// Calls on_code_point(cp) for each code point of `s`; false for invalid UTF-8.
template <class Fn>
bool decode_utf8(std::string_view s, Fn on_code_point) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    on_code_point(cp);
    i += len;
  }
  return true;
}

// The Unicode White_Space property (PropList.txt).
bool is_white_space(std::uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}
}  // namespace

std::optional<std::size_t> utf8_length(std::string_view s) {
  std::size_t n = 0;
  if (!decode_utf8(s, [&n](std::uint32_t) { ++n; })) return std::nullopt;
  return n;
}

std::optional<std::size_t> visible_length(std::string_view s) {
  std::size_t n = 0;
  if (!decode_utf8(s, [&n](std::uint32_t cp) { n += is_white_space(cp) ? 0 : 1; })) {
    return std::nullopt;
  }
  return n;
}

PasswordPolicy::PasswordPolicy(std::size_t min_chars, std::size_t max_bytes,
                               std::size_t min_visible)
    : min_chars_(min_chars), max_bytes_(max_bytes), min_visible_(min_visible) {
  const std::string_view all(reinterpret_cast<const char*>(detail::kCommonPasswords),
                             detail::kCommonPasswordsSize);
  std::size_t start = 0;
  while (start < all.size()) {
    auto end = all.find('\n', start);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) common_.insert(lower_ascii(line));
    start = end + 1;
  }
}

bool PasswordPolicy::is_common(std::string_view password) const {
  return common_.contains(lower_ascii(password));
}

core::Status PasswordPolicy::check(std::string_view password, std::string_view email,
                                   std::string field) const {
  const auto weak = [&field](std::string message) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "weak_password", std::move(message),
                            std::move(field));
  };
  if (password.size() > max_bytes_) {
    return weak("password must be at most " + std::to_string(max_bytes_) + " bytes");
  }
  const auto chars = utf8_length(password);
  if (!chars) return weak("password must be valid UTF-8");
  if (*chars < min_chars_) {
    return weak("password must be at least " + std::to_string(min_chars_) + " characters");
  }
  if (visible_length(password).value_or(0) < min_visible_) {
    return weak("password must have at least " + std::to_string(min_visible_) +
                " characters that are not spaces");
  }
  if (is_common(password)) {
    return weak("password is too common; choose one that is harder to guess");
  }
  const std::string lower = lower_ascii(password);
  const auto at = email.find('@');
  if (!email.empty() &&
      (lower == email || (at != std::string_view::npos && lower == email.substr(0, at)))) {
    return weak("password must not be the email address");
  }
  return core::ok_status();
}

}  // namespace enkisys::auth
