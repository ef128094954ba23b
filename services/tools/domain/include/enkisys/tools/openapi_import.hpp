// OpenAPI 3.x (JSON) -> http tool definitions, one per operation.
//
// Contract
// * Accepts an OpenAPI 3.0/3.1 document already parsed as JSON (YAML is not supported).
//   Refuses (errc::invalid_request) non-objects, documents without an "openapi": "3.x" field
//   (Swagger 2.0 is named as such), a missing or non-object `paths`, a base URL that is not
//   absolute http(s), and more than Options::max_operations operations.
// * For each get/post/put/patch/delete operation: name = operationId sanitised to
//   ^[a-zA-Z0-9_-]{1,64}$ (else "<method>_<path>"), made unique with a numeric suffix;
//   description = summary, else description (cut to 1024 code points); parameters = an object
//   schema of the path and query parameters (path parameters always required) merged with the
//   properties of an application/json request body object schema; url = servers[0].url (server
//   variables replaced by their defaults) + path, with query parameters added as optional
//   `name={name}` template pairs. Local `$ref`s are resolved: references to
//   #/components/schemas/X become #/$defs/X inside the tool schema (so recursive schemas work),
//   other local references are inlined. OpenAPI 3.0 `nullable` and boolean
//   exclusiveMinimum/Maximum are translated to JSON Schema.
// * Operations that cannot be represented faithfully (header/cookie-only inputs are simply
//   ignored, but non-object or form bodies, name clashes between body and parameters, remote
//   $refs) are skipped and listed in ImportResult::skipped with the reason.
// * Every produced definition has passed parse_tool_definition(). Pure and thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "enkisys/tools/errors.hpp"
#include "enkisys/tools/tool_definition.hpp"

namespace enkisys::tools {

struct OpenApiImportOptions {
  std::size_t max_operations = 500;
  std::string base_url;     // overrides servers[0].url when non-empty
  std::string name_prefix;  // prepended to every tool name (still subject to the name rule)
};

struct ImportResult {
  std::vector<ToolDefinition> tools;
  std::vector<std::string> skipped;  // "<METHOD> <path>: <reason>"
};

core::Expected<ImportResult> import_openapi(const boost::json::value& document,
                                            const OpenApiImportOptions& options = {});

}  // namespace enkisys::tools
