#include "enkisys/core/expected.hpp"

namespace enkisys::core {

unsigned http_status_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return 400;  // bad_request
    case ErrorKind::kUnauthenticated:
      return 401;  // unauthorized
    case ErrorKind::kPermissionDenied:
      return 403;  // forbidden
    case ErrorKind::kNotFound:
      return 404;  // not_found
    case ErrorKind::kMethodNotAllowed:
      return 405;  // method_not_allowed
    case ErrorKind::kConflict:
      return 409;  // conflict
    case ErrorKind::kPayloadTooLarge:
      return 413;  // payload_too_large
    case ErrorKind::kUnsupportedMediaType:
      return 415;  // unsupported_media_type
    case ErrorKind::kUnprocessable:
      return 422;  // unprocessable_entity
    case ErrorKind::kResourceExhausted:
      return 429;  // too_many_requests
    case ErrorKind::kInternal:
      return 500;  // internal_server_error
    case ErrorKind::kUpstream:
      return 502;  // bad_gateway
    case ErrorKind::kUnavailable:
      return 503;  // service_unavailable
    case ErrorKind::kDeadlineExceeded:
      return 504;  // gateway_timeout
  }
  return 500;  // internal_server_error
}

std::string_view default_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return "invalid_request";
    case ErrorKind::kUnauthenticated:
      return "unauthorized";
    case ErrorKind::kPermissionDenied:
      return "forbidden";
    case ErrorKind::kNotFound:
      return "not_found";
    case ErrorKind::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorKind::kUnsupportedMediaType:
      return "unsupported_media_type";
    case ErrorKind::kUnprocessable:
      return "unprocessable";
    case ErrorKind::kResourceExhausted:
      return "too_many_requests";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kUpstream:
      return "upstream_error";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kDeadlineExceeded:
      return "upstream_timeout";
  }
  return "internal";
}

}  // namespace enkisys::core
