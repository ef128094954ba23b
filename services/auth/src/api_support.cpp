#include "enkisys/auth/api_support.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <ctime>

#include "enkisys/auth/auth_service.hpp"
#include "enkisys/auth/email.hpp"
#include "enkisys/auth/password_policy.hpp"

namespace enkisys::auth::api {

namespace json = boost::json;
namespace http = core::http;
using core::ApiError;

namespace {
[[noreturn]] void bad_field(std::string_view name, std::string message) {
  throw ApiError(core::make_error(core::ErrorKind::kInvalidArgument, "invalid_request",
                                  std::move(message), "/" + std::string(name)));
}

}  // namespace

void only_fields(const json::object& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : body) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
      const std::string key(kv.key().substr(0, 64));
      bad_field(key, "unknown field '" + key + "'");
    }
  }
}

std::optional<std::string> string_field(const json::object& body, std::string_view name,
                                        std::size_t max_bytes, bool required) {
  const json::value* v = body.if_contains(name);
  const std::string n(name);
  if (v == nullptr) {
    if (!required) return std::nullopt;
    bad_field(n, "field '" + n + "' is required");
  }
  if (!v->is_string()) bad_field(n, "field '" + n + "' must be a string");
  const auto& s = v->as_string();
  if (s.size() > max_bytes) {
    bad_field(n, "field '" + n + "' is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!utf8_length(s)) bad_field(n, "field '" + n + "' is not valid UTF-8");
  return std::string(s);
}

Credentials credentials_of(const core::Request& req) {
  const json::object body = core::parse_json_object(req);
  only_fields(body, {"email", "password"});
  return {*string_field(body, "email", kMaxEmailBytes),
          *string_field(body, "password", kMaxPasswordBytes)};
}

std::string refresh_token_of(const core::Request& req) {
  const json::object body = core::parse_json_object(req);
  only_fields(body, {"refresh_token"});
  return *string_field(body, "refresh_token", kMaxTokenBytes);
}

PasswordChange password_change_of(const core::Request& req) {
  const json::object body = core::parse_json_object(req);
  only_fields(body, {"current_password", "new_password"});
  return {*string_field(body, "current_password", kMaxPasswordBytes),
          *string_field(body, "new_password", kMaxPasswordBytes)};
}

bool web_client(const core::Request& req) {
  return req["X-Enkisys-Client"] == "web";
}

std::optional<std::string> cookie_value(const core::Request& req, std::string_view name) {
  for (auto it = req.find(http::field::cookie);
       it != req.end() && it->name() == http::field::cookie; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return std::nullopt;
}

std::string refresh_cookie(const core::Request& req, std::string_view token,
                           std::chrono::seconds max_age) {
  std::string_view prefix = req["X-Forwarded-Prefix"];
  const bool plain_path = prefix.size() <= 128 && (prefix.empty() || prefix.front() == '/') &&
                          std::all_of(prefix.begin(), prefix.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                   (c >= '0' && c <= '9') || c == '/' || c == '-' || c == '_' ||
                                   c == '.';
                          });
  if (!plain_path) prefix = {};
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  std::string out(kRefreshCookie);
  out += "=";
  out += token;
  out += "; HttpOnly; SameSite=Strict; Path=";
  out += prefix;
  out += "/api/auth; Max-Age=";
  out += std::to_string(max_age.count());
  if (req["X-Forwarded-Proto"] == "https") out += "; Secure";
  return out;
}

std::string client_ip(const core::Request& req, const core::RequestContext& ctx, bool trust_proxy) {
  if (trust_proxy) {
    std::string_view xff = req["X-Forwarded-For"];
    xff = xff.substr(0, xff.find(','));
    while (!xff.empty() && xff.front() == ' ') xff.remove_prefix(1);
    while (!xff.empty() && xff.back() == ' ') xff.remove_suffix(1);
    if (!xff.empty() && xff.size() <= 64) return std::string(xff);
  }
  return ctx.client_ip();
}

core::Response no_store(http::status status, const json::value& body) {
  core::Response res = core::json_response(status, body);
  res.set(http::field::cache_control, "no-store");
  return res;
}

std::string rfc3339(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json::object user_json(const User& u) {
  json::array roles;
  for (const auto& r : roles_of(u)) roles.emplace_back(r);
  return {{"id", u.id},
          {"email", u.email},
          {"roles", std::move(roles)},
          {"disabled", u.disabled},
          {"created_at", rfc3339(u.created_at)}};
}

}  // namespace enkisys::auth::api
