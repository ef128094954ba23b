// Error values of the tool domain, in the one error idiom of Enkisys (enkisys/core/expected.hpp).
//
// Contract: every fallible domain function returns core::Expected<T> (or core::Status): a value
// or a core::Error whose `code` is one of the stable strings below, whose `kind` (and so its
// HTTP status, core::http_status_of) comes with the code, whose `message` is human readable and
// valid UTF-8 and whose `field` is a JSON Pointer to the offending input, or empty. Nothing in
// the domain throws for bad input.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "enkisys/core/expected.hpp"

namespace enkisys::tools {

using core::Error;
using core::ErrorKind;

// A stable error code and the kind it always carries.
struct ErrorCode {
  const char* code;
  ErrorKind kind;
  friend bool operator==(std::string_view a, const ErrorCode& b) { return a == b.code; }
};

namespace errc {
inline constexpr ErrorCode invalid_request{"invalid_request", ErrorKind::kInvalidArgument};
inline constexpr ErrorCode invalid_schema{"invalid_schema", ErrorKind::kUnprocessable};
inline constexpr ErrorCode invalid_arguments{"invalid_arguments", ErrorKind::kUnprocessable};
inline constexpr ErrorCode egress_refused{"egress_refused", ErrorKind::kPermissionDenied};
inline constexpr ErrorCode tool_error{"tool_error", ErrorKind::kUnprocessable};  // tool failed
inline constexpr ErrorCode secret_required{"secret_required", ErrorKind::kUnprocessable};
inline constexpr ErrorCode upstream_error{"upstream_error", ErrorKind::kUpstream};
inline constexpr ErrorCode upstream_timeout{"upstream_timeout", ErrorKind::kDeadlineExceeded};
}  // namespace errc

inline Error make_error(const ErrorCode& code, std::string message, std::string field = {}) {
  return core::make_error(code.kind, code.code, std::move(message), std::move(field));
}

}  // namespace enkisys::tools
