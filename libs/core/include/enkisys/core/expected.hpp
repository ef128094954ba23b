// The one error idiom of Enkisys: fallible calls return Expected<T> (a value or an Error), or
// Status (nothing or an Error). Every library and service uses these; exceptions are kept for
// broken invariants and, at the HTTP boundary, for ApiError (see http.hpp), which an Error
// becomes through `value_or_throw` / `ApiError(const Error&)`.
//
// Contract:
//  * An Error is a value: a kind (what the caller can do about it — ONE table maps kinds to
//    HTTP statuses, `http_status_of`), a stable machine code for the API ("email_taken"), a
//    message for people (never a secret), an optional JSON Pointer to the offending input field,
//    and an optional retry delay (seconds, 429/503).
//  * Expected<T, E> holds exactly one of T or E (E defaults to Error; libraries with a richer
//    error value — the JWT verifier — use their own E). value()/error() REQUIRE the matching
//    state; the wrong accessor is a broken invariant and throws std::logic_error.
//  * Not thread safe beyond what T and E provide (treat like any value type).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace enkisys::core {

// What went wrong, from the caller's point of view (after absl/gRPC canonical codes, reduced to
// what an HTTP API needs). The one table from kind to HTTP status is http_status_of().
enum class ErrorKind : std::uint8_t {
  kInvalidArgument,       // 400 malformed input
  kUnauthenticated,       // 401 no or bad credentials
  kPermissionDenied,      // 403 authenticated, not allowed
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kConflict,              // 409 already exists, read-only, concurrent change
  kPayloadTooLarge,       // 413
  kUnsupportedMediaType,  // 415
  kUnprocessable,         // 422 well-formed but invalid (schema, arguments, content)
  kResourceExhausted,     // 429 rate limited, throttled, budget spent (retry_after_s)
  kInternal,              // 500 a bug or an environment failure
  kUpstream,              // 502 a service we called failed
  kUnavailable,           // 503 temporarily unable (dependency down, disk full, draining)
  kDeadlineExceeded,      // 504 a service we called did not answer in time
};

// The HTTP status code for a kind (400, 401, ... 504).
unsigned http_status_of(ErrorKind kind);
// Canonical code used when an Error has none ("invalid_request", "not_found", ...).
std::string_view default_code(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;     // stable, snake_case; empty → default_code(kind)
  std::string message;  // for people; never holds a secret
  std::string field;    // JSON Pointer into the input ("/arguments/x"), or ""
  std::int64_t retry_after_s = 0;

  std::string_view code_or_default() const {
    return code.empty() ? default_code(kind) : std::string_view(code);
  }
};

inline Error make_error(ErrorKind kind, std::string code, std::string message,
                        std::string field = {}) {
  return Error{kind, std::move(code), std::move(message), std::move(field), 0};
}

// Tag wrapper so that Expected<std::string, std::string> stays unambiguous.
template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
  return {std::forward<E>(e)};
}

template <class T, class E = Error>
class [[nodiscard]] Expected {
 public:
  // A default E (an unnamed error): what Asio builds as the placeholder result of a coroutine
  // that threw (co_spawn with a completion token needs a default-constructible result).
  Expected() requires std::is_default_constructible_v<E> : v_(std::in_place_index<1>) {}
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  template <class G>
  Expected(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT
  // An Error converts implicitly (return make_error(...) from a function returning Expected).
  Expected(E error)  // NOLINT(google-explicit-constructor)
      requires(!std::is_same_v<T, E>)
      : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return check_value(), std::get<0>(v_); }
  const T& value() const& { return check_value(), std::get<0>(v_); }
  T&& value() && { return check_value(), std::get<0>(std::move(v_)); }
  const E& error() const {
    if (ok()) throw std::logic_error("Expected::error() called on a value");
    return std::get<1>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check_value() const {
    if (!ok()) throw std::logic_error("Expected::value() called on an error");
  }
  std::variant<T, E> v_;
};

// Success, or an error.
template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  Expected() = default;
  template <class G>
  Expected(Unexpected<G> u) : e_(std::move(u.error)) {}  // NOLINT
  Expected(E error) : e_(std::move(error)) {}            // NOLINT(google-explicit-constructor)

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const E& error() const {
    if (ok()) throw std::logic_error("Expected::error() called on a success");
    return *e_;
  }

 private:
  std::optional<E> e_;
};

using Status = Expected<void, Error>;
inline Status ok_status() {
  return {};
}

}  // namespace enkisys::core
