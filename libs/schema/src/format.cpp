// `format` assertions and UTF-8 length.
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

#include "internal.hpp"

namespace enkisys::schema::detail {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// full-date = YYYY-MM-DD
bool full_date(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d)) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const int max = kDays[m - 1] + (m == 2 && leap(y) ? 1 : 0);
  return d <= max;
}

// full-time = HH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
bool full_time(std::string_view s) {
  int h, mi, se;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return false;
  if (!digits(s, 0, 2, h) || !digits(s, 3, 2, mi) || !digits(s, 6, 2, se)) return false;
  if (h > 23 || mi > 59 || se > 60) return false;
  std::size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i >= s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  int oh, om;
  if (s.size() != i + 6 || s[i + 3] != ':') return false;
  if (!digits(s, i + 1, 2, oh) || !digits(s, i + 4, 2, om)) return false;
  return oh <= 23 && om <= 59;
}

bool date_time(std::string_view s) {
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't')) return false;
  return full_date(s.substr(0, 10)) && full_time(s.substr(11));
}

bool hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : s) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

bool email(std::string_view s) {
  const auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  const auto local = s.substr(0, at);
  const auto domain = s.substr(at + 1);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  static constexpr std::string_view kSpecial = "!#$%&'*+/=?^_`{|}~-.";
  for (char c : local) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        kSpecial.find(c) == std::string_view::npos) {
      return false;
    }
  }
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    return boost::urls::parse_ipv4_address(domain.substr(1, domain.size() - 2)).has_value();
  }
  return hostname(domain) && domain.find('.') != std::string_view::npos;
}

bool uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<Format> format_from_name(std::string_view name) {
  if (name == "date-time") return Format::date_time;
  if (name == "date") return Format::date;
  if (name == "time") return Format::time;
  if (name == "email") return Format::email;
  if (name == "uri") return Format::uri;
  if (name == "uuid") return Format::uuid;
  if (name == "ipv4") return Format::ipv4;
  if (name == "ipv6") return Format::ipv6;
  return std::nullopt;
}

bool check_format(Format f, std::string_view s) {
  switch (f) {
    case Format::none:
      return true;
    case Format::date_time:
      return date_time(s);
    case Format::date:
      return full_date(s);
    case Format::time:
      return full_time(s);
    case Format::email:
      return email(s);
    case Format::uri:
      return boost::urls::parse_uri(s).has_value();
    case Format::uuid:
      return uuid(s);
    case Format::ipv4:
      return boost::urls::parse_ipv4_address(s).has_value();
    case Format::ipv6:
      return boost::urls::parse_ipv6_address(s).has_value();
  }
  return true;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace enkisys::schema::detail
