#include "enkisys/core/request.hpp"

#include <algorithm>
#include <charconv>

#include "enkisys/core/utf8.hpp"

namespace enkisys::core {

std::optional<std::string_view> parse_bearer(std::string_view h) {
  constexpr std::string_view kScheme = "bearer";
  if (h.size() > 8192) return std::nullopt;
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (h.size() <= kScheme.size() + 1) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != kScheme[i]) return std::nullopt;
  }
  if (h[kScheme.size()] != ' ') return std::nullopt;
  std::string_view t = h.substr(kScheme.size());
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  if (t.empty()) return std::nullopt;
  for (const char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  return t;
}

std::optional<std::string_view> bearer_token(const Request& req) {
  const auto range = req.equal_range(http::field::authorization);
  if (range.first == range.second || std::next(range.first) != range.second) return std::nullopt;
  return parse_bearer(range.first->value());
}

std::int64_t query_int(const std::map<std::string, std::string>& query, const std::string& name,
                       std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
  const auto it = query.find(name);
  if (it == query.end()) return fallback;
  std::int64_t v = 0;
  const auto& s = it->second;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) {
    throw ApiError(
        http::status::bad_request, "invalid_query",
        name + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return v;
}

Expected<Actor> actor_of(const Request& req) {
  const std::string_view id = req["X-User-Id"];
  if (id.empty()) {
    return make_error(ErrorKind::kUnauthenticated, "unauthenticated",
                      "no user identity (X-User-Id)");
  }
  const bool printable = std::none_of(id.begin(), id.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
  });
  if (id.size() > 128 || !printable || !valid_utf8(id)) {
    return make_error(ErrorKind::kInvalidArgument, "invalid_request",
                      "X-User-Id must be 1-128 bytes of printable UTF-8");
  }
  Actor a{std::string(id), false};
  std::string_view roles = req["X-User-Roles"];
  while (!roles.empty()) {
    const auto comma = std::min(roles.find(','), roles.size());
    std::string_view role = roles.substr(0, comma);
    while (!role.empty() && role.front() == ' ') role.remove_prefix(1);
    while (!role.empty() && role.back() == ' ') role.remove_suffix(1);
    if (role == "admin") a.admin = true;
    roles.remove_prefix(std::min(comma + 1, roles.size()));
  }
  return a;
}

}  // namespace enkisys::core
