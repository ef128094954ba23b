#include "enkisys/auth/api_support.hpp"

#include <boost/json/array.hpp>
#include <charconv>
#include <ctime>

#include "enkisys/auth/password_policy.hpp"

namespace enkisys::auth::api {

namespace json = boost::json;
namespace http = core::http;
using core::ApiError;

void only_fields(const json::object& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : body) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known) {
      std::string key(kv.key().substr(0, 64));
      throw ApiError(http::status::bad_request, "invalid_request", "unknown field '" + key + "'");
    }
  }
}

std::optional<std::string> string_field(const json::object& body, std::string_view name,
                                        std::size_t max_bytes, bool required) {
  const json::value* v = body.if_contains(name);
  const std::string n(name);
  if (v == nullptr) {
    if (!required) return std::nullopt;
    throw ApiError(http::status::bad_request, "invalid_request", "field '" + n + "' is required");
  }
  if (!v->is_string()) {
    throw ApiError(http::status::bad_request, "invalid_request",
                   "field '" + n + "' must be a string");
  }
  const auto& s = v->as_string();
  if (s.size() > max_bytes) {
    throw ApiError(http::status::bad_request, "invalid_request",
                   "field '" + n + "' is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!utf8_length(s)) {
    throw ApiError(http::status::bad_request, "invalid_request",
                   "field '" + n + "' is not valid UTF-8");
  }
  return std::string(s);
}

std::string bearer_token(const core::Request& req) {
  const std::string_view h = req[http::field::authorization];
  constexpr std::string_view kScheme = "Bearer ";
  if (h.size() <= kScheme.size() || h.size() > 8192) return "";
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return "";
    }
  }
  std::string_view t = h.substr(kScheme.size());
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return std::string(t);
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

core::Response error_reply(const AuthError& e, const core::RequestContext& ctx) {
  http::status st = http::status::bad_request;
  std::string_view code = "invalid_request";
  switch (e.kind) {
    case AuthError::kInvalidRequest:
      break;
    case AuthError::kInvalidEmail:
      code = "invalid_email";
      break;
    case AuthError::kWeakPassword:
      code = "weak_password";
      break;
    case AuthError::kEmailTaken:
      st = http::status::conflict;
      code = "email_taken";
      break;
    case AuthError::kInvalidCredentials:
      st = http::status::unauthorized;
      code = "invalid_credentials";
      break;
    case AuthError::kInvalidToken:
      st = http::status::unauthorized;
      code = "invalid_token";
      break;
    case AuthError::kDisabled:
      st = http::status::forbidden;
      code = "account_disabled";
      break;
    case AuthError::kForbidden:
      st = http::status::forbidden;
      code = "forbidden";
      break;
    case AuthError::kNotFound:
      st = http::status::not_found;
      code = "not_found";
      break;
    case AuthError::kConflict:
      st = http::status::conflict;
      code = "conflict";
      break;
    case AuthError::kThrottled:
      st = http::status::too_many_requests;
      code = "too_many_attempts";
      break;
    case AuthError::kSignupClosed:
      st = http::status::forbidden;
      code = "signup_closed";
      break;
  }
  core::Response res = core::error_response(st, code, e.message, ctx.request_id());
  if (e.kind == AuthError::kThrottled) {
    res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(e.retry_after, 1)));
  }
  if (e.kind == AuthError::kInvalidToken) {
    res.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
  }
  res.set(http::field::cache_control, "no-store");
  return res;
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

std::int64_t int_query(const std::map<std::string, std::string>& q, const std::string& name,
                       std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
  auto it = q.find(name);
  if (it == q.end()) return fallback;
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

}  // namespace enkisys::auth::api
