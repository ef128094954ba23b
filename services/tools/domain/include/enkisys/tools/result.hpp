// Error values for the tool domain.
//
// Contract: every fallible domain function returns Result<T>: either a value or an Error whose
// `code` is one of the constants in `errc` (stable strings the API maps to HTTP statuses),
// `message` is human readable and `field` is a JSON Pointer to the offending input, or empty.
// Nothing in the domain throws for bad input.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace enkisys::tools {

namespace errc {
inline constexpr const char* invalid_request = "invalid_request";      // malformed definition
inline constexpr const char* invalid_schema = "invalid_schema";        // `parameters` not a schema
inline constexpr const char* invalid_arguments = "invalid_arguments";  // bad invocation input
inline constexpr const char* egress_refused = "egress_refused";        // SSRF policy said no
inline constexpr const char* tool_error = "tool_error";                // tool ran and failed
}  // namespace errc

struct Error {
  std::string code;
  std::string message;
  std::string field;  // JSON Pointer into the input, "" when not about one field
};

inline Error make_error(const char* code, std::string message, std::string field = {}) {
  return Error{code, std::move(message), std::move(field)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace enkisys::tools
