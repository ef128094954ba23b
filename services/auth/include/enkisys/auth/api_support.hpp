// Functions shared by the auth HTTP handlers: strict JSON body fields, bearer tokens, the client
// address, and AuthError → HTTP response.
//
// Contract: pure functions of the request; throw core::ApiError (400) for malformed input.
#pragma once

#include <boost/json/object.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "enkisys/auth/auth_service.hpp"
#include "enkisys/core/http.hpp"
#include "enkisys/core/server.hpp"

namespace enkisys::auth::api {

// Throws 400 invalid_request naming the first field not in `allowed`.
void only_fields(const boost::json::object& body, std::initializer_list<std::string_view> allowed);
// The string at `name`: 400 if missing (when required), not a string, longer than
// `max_bytes`, or not valid UTF-8. nullopt when absent and optional.
std::optional<std::string> string_field(const boost::json::object& body, std::string_view name,
                                        std::size_t max_bytes, bool required = true);

// The token of "Authorization: Bearer <token>", or "" when absent or of another scheme.
std::string bearer_token(const core::Request& req);
// The client IP: X-Forwarded-For's first hop when trust_proxy, else the socket address.
std::string client_ip(const core::Request& req, const core::RequestContext& ctx, bool trust_proxy);

// The JSON error response for `e` (429 with Retry-After; 401 with WWW-Authenticate).
core::Response error_reply(const AuthError& e, const core::RequestContext& ctx);
// A JSON response that no cache may store (tokens, keys).
core::Response no_store(core::http::status status, const boost::json::value& body);

boost::json::object user_json(const User& u);
std::string rfc3339(std::int64_t unix_seconds);
// ?name=integer in [lo, hi]; `fallback` when absent; 400 otherwise.
std::int64_t int_query(const std::map<std::string, std::string>& q, const std::string& name,
                       std::int64_t fallback, std::int64_t lo, std::int64_t hi);

}  // namespace enkisys::auth::api
