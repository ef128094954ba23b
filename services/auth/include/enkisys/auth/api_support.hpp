// Functions shared by the auth HTTP handlers: strict JSON body fields, the client address, the
// routes' error answers, and the JSON forms of users.
//
// Contract: pure functions of the request; the field checks throw core::ApiError (400
// invalid_request naming the field) for malformed input. Every auth route is added through
// add_route(), so a core::ApiError thrown by a handler — from these checks, core's request
// helpers or core::value_or_throw() of a service error — is answered by error_reply().
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "enkisys/auth/auth_store.hpp"
#include "enkisys/core/http.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"

namespace enkisys::auth::api {

// Throws 400 invalid_request naming the first field not in `allowed`.
void only_fields(const boost::json::object& body, std::initializer_list<std::string_view> allowed);
// The string at `name`: 400 if missing (when required), not a string, longer than
// `max_bytes`, or not valid UTF-8. nullopt when absent and optional.
std::optional<std::string> string_field(const boost::json::object& body, std::string_view name,
                                        std::size_t max_bytes, bool required = true);

// The request bodies of the account routes, checked strictly (only these fields, strings within
// their limits, valid UTF-8). Throw ApiError 400/415 otherwise; the values are not yet
// normalised (normalize_email) nor checked against the password policy.
inline constexpr std::size_t kMaxPasswordBytes = 1024, kMaxTokenBytes = 8192;
struct Credentials {  // signup, login
  std::string email, password;
};
Credentials credentials_of(const core::Request& req);
std::string refresh_token_of(const core::Request& req);  // refresh
struct PasswordChange {                                  // password
  std::string current, next;
};
PasswordChange password_change_of(const core::Request& req);

// The browser's refresh-token cookie (opt-in "web" mode, see README.md): a request is in web
// mode when it carries `X-Enkisys-Client: web` — a custom header a cross-site form cannot send,
// the CSRF guard next to SameSite=Strict. In web mode login and refresh answer the refresh
// token only in an HttpOnly cookie scoped to `<X-Forwarded-Prefix>/api/auth`.
inline constexpr std::string_view kRefreshCookie = "enkisys_refresh";
bool web_client(const core::Request& req);
// The value of cookie `name` in the request's Cookie header(s), or nullopt.
std::optional<std::string> cookie_value(const core::Request& req, std::string_view name);
// A Set-Cookie value carrying `token` (empty with max_age 0: the cookie is cleared):
// HttpOnly; SameSite=Strict; Path=<X-Forwarded-Prefix>/api/auth (a prefix that is not a plain
// path is ignored); Max-Age; Secure when X-Forwarded-Proto is https.
std::string refresh_cookie(const core::Request& req, std::string_view token,
                           std::chrono::seconds max_age);

// The client IP: X-Forwarded-For's first hop when trust_proxy, else the socket address.
std::string client_ip(const core::Request& req, const core::RequestContext& ctx, bool trust_proxy);

// core::error_response() of `e` plus what every auth error carries: Cache-Control: no-store,
// and on 401 a WWW-Authenticate challenge (RFC 6750: error="invalid_token" for a bad token).
core::Response error_reply(const core::ApiError& e, const core::RequestContext& ctx);
// Router::add() of `handler`, answering the ApiErrors it throws with error_reply().
void add_route(core::Router& router, core::http::verb method, std::string_view pattern,
               core::Handler handler);
// A JSON response that no cache may store (tokens, keys).
core::Response no_store(core::http::status status, const boost::json::value& body);

boost::json::object user_json(const User& u);
std::string rfc3339(std::int64_t unix_seconds);

}  // namespace enkisys::auth::api
