// Tool definitions: strict parsing from JSON, serialization, and the OpenAI tool format.
//
// Contract
// * parse_tool_definition() accepts exactly
//     {"name", "kind", "description"?, "parameters"?, "http"?}
//   and for kind "http" an `http` object {"method", "url", "headers"?, "timeout_ms"?,
//   "max_response_bytes"?}. Unknown fields, wrong types and out-of-range values are refused
//   with errc::invalid_request and `field` set to the JSON Pointer of the culprit. A
//   `parameters` value that is not a valid JSON Schema, or not an object schema
//   ("type":"object"), is refused with errc::invalid_schema.
// * Defaults: description "", parameters {"type":"object","properties":{}}, timeout_ms 10000,
//   max_response_bytes 1 MiB, no headers.
// * A ToolDefinition is a plain value; its compiled schema is immutable and shareable, so
//   copies may be used from several threads.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "enkisys/schema/schema.hpp"
#include "enkisys/tools/errors.hpp"

namespace enkisys::tools {

inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::size_t kMaxDescriptionLength = 1024;  // Unicode code points
inline constexpr std::uint32_t kDefaultTimeoutMs = 10000;
inline constexpr std::uint32_t kMaxTimeoutMs = 60000;
inline constexpr std::uint64_t kDefaultMaxResponseBytes = 1024 * 1024;
inline constexpr std::uint64_t kMaxResponseBytesLimit = 10 * 1024 * 1024;

enum class ToolKind { builtin, http };
std::string_view to_string(ToolKind kind);

struct HttpSpec {
  std::string method = "GET";                  // GET POST PUT PATCH DELETE
  std::string url;                             // template, see url_template.hpp
  std::map<std::string, std::string> headers;  // names unique case-insensitively
  std::uint32_t timeout_ms = kDefaultTimeoutMs;
  std::uint64_t max_response_bytes = kDefaultMaxResponseBytes;
};

struct ToolDefinition {
  std::string name;
  std::string description;
  boost::json::object parameters;
  schema::Schema parameters_schema;  // compiled `parameters`
  ToolKind kind = ToolKind::builtin;
  std::optional<HttpSpec> http;  // set iff kind == http
};

// ^[a-zA-Z0-9_-]{1,64}$ (the OpenAI function-name rule).
bool is_valid_tool_name(std::string_view name);

core::Expected<ToolDefinition> parse_tool_definition(const boost::json::value& json);

// The stored/API form; parse_tool_definition(to_json(d)) reproduces d.
boost::json::object to_json(const ToolDefinition& definition);

// {"type":"function","function":{"name","description","parameters"}}
boost::json::object to_openai(const ToolDefinition& definition);

// Validates invocation arguments (must be an object) against the tool's schema.
// Returns nullopt when valid; otherwise errc::invalid_arguments with up to 5 messages joined by
// "; " and `field` = instance path of the first failure.
std::optional<Error> check_arguments(const ToolDefinition& definition,
                                     const boost::json::value& arguments);

}  // namespace enkisys::tools
