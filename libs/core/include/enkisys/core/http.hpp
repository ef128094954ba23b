// Request/response types shared by the server, the router and the handlers, and the one error
// shape of the platform: {"error":{"code","message","request_id"}}.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "enkisys/core/expected.hpp"

namespace enkisys::core {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Thrown by handlers (and the helpers below) to answer with an error. Caught once, at the
// session boundary, and turned into the JSON error shape. `details` is optional extra JSON
// placed next to code/message (e.g. {"path":"/arguments/x"}).
class ApiError : public std::runtime_error {
 public:
  ApiError(http::status status, std::string code, const std::string& message,
           boost::json::value details = nullptr)
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        details_(std::move(details)) {}
  // The answer for an Error value: status from http_status_of(kind), {"path": field} as
  // details when the error names a field, Retry-After when it carries a delay.
  explicit ApiError(const Error& e);
  http::status status() const { return status_; }
  const std::string& code() const { return code_; }
  const boost::json::value& details() const { return details_; }
  std::int64_t retry_after_s() const { return retry_after_s_; }

 private:
  http::status status_;
  std::string code_;
  boost::json::value details_;
  std::int64_t retry_after_s_ = 0;
};

// Builds the error response (JSON body, content-type, X-Request-Id).
Response error_response(http::status status, std::string_view code, std::string_view message,
                        std::string_view request_id, unsigned version = 11, bool keep_alive = true,
                        const boost::json::value& details = nullptr);

// The error response for `e` (adds Retry-After when the error carries a delay).
Response error_response(const ApiError& e, std::string_view request_id, unsigned version = 11,
                        bool keep_alive = true);
// The error response for an Error value.
Response error_response(const Error& e, std::string_view request_id, unsigned version = 11,
                        bool keep_alive = true);

// A JSON response with the given status.
Response json_response(http::status status, const boost::json::value& body, unsigned version = 11,
                       bool keep_alive = true);

// Parses a request body as a JSON object. Throws ApiError 415 when the content type is not
// JSON, 400 "invalid_json" on malformed JSON / invalid UTF-8 / duplicate-free violations,
// 400 "invalid_request" when the top level is not an object. Limits nesting depth.
boost::json::object parse_json_object(const Request& req);

// Percent-decodes a query string into a map (last value wins). Throws ApiError 400 on bad
// escapes.
std::map<std::string, std::string> parse_query(std::string_view query);

// True if `id` is an acceptable client-provided request id: 1..128 chars of [A-Za-z0-9._:-].
bool valid_request_id(std::string_view id);
// A new random request id (32 hex chars).
std::string new_request_id();

}  // namespace enkisys::core
