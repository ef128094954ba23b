// Request helpers shared by every service: credentials, query parameters, error answers.
//
// Contract: pure functions of the request; those that validate throw ApiError (400) with a
// message naming the parameter; none of them logs or echoes a credential.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "enkisys/core/expected.hpp"
#include "enkisys/core/http.hpp"

namespace enkisys::core {

// The credential of an "Authorization: Bearer <token>" value: the scheme is matched without
// regard to case (RFC 9110 §11.1), one or more spaces may follow it, surrounding spaces are
// trimmed. nullopt when the value is empty, of another scheme, has no token, holds a control
// character or space inside the token, or is longer than 8 KiB.
std::optional<std::string_view> parse_bearer(std::string_view authorization);
// parse_bearer() of the request's Authorization header, or nullopt. A request with more than
// one Authorization header has no bearer token (ambiguous).
std::optional<std::string_view> bearer_token(const Request& req);

// The user a request acts for, as the gateway sets it from a verified token: X-User-Id, and
// X-User-Roles (comma-separated; "admin" makes an admin). Services behind the gateway trust
// these headers (the gateway strips them from clients); internal callers pass them on.
struct Actor {
  std::string id;
  bool admin = false;
};
// Errors: 401 unauthenticated without X-User-Id; 400 invalid_request when it is longer than 128
// bytes, not UTF-8 or holds a control character.
Expected<Actor> actor_of(const Request& req);

// ?name=<integer in [lo, hi]>: `fallback` when absent; throws ApiError 400 invalid_query naming
// the parameter and the range otherwise.
std::int64_t query_int(const std::map<std::string, std::string>& query, const std::string& name,
                       std::int64_t fallback, std::int64_t lo, std::int64_t hi);

// Throws ApiError(error) when `e` holds one; otherwise returns its value.
template <class T>
requires(!std::is_void_v<T>) T value_or_throw(Expected<T>&& e) {
  if (!e.ok()) throw ApiError(e.error());
  return std::move(e).value();
}
inline void value_or_throw(const Status& s) {
  if (!s.ok()) throw ApiError(s.error());
}

}  // namespace enkisys::core
