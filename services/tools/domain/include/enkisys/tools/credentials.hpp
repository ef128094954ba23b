// Header values of http tools are credentials unless known to be public.
//
// Contract:
//  * The masking rule: the value of every header is write-only — answers show "***" — except the
//    headers in kPublicHeaders (compared without regard to case), whose values are shown.
//  * keep_stored_secrets() lets a client send "***" back to keep a stored value, but a stored
//    value never follows a change of the URL's origin (scheme, host, port) nor of the header's
//    name: the change must supply the secret again.
//  * Pure functions; thread-safe.
#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/tools/errors.hpp"
#include "enkisys/tools/tool_definition.hpp"

namespace enkisys::tools {

inline constexpr std::string_view kRedacted = "***";
inline constexpr std::array<std::string_view, 7> kPublicHeaders{
    "Accept",       "Accept-Encoding", "Accept-Language", "Content-Language",
    "Content-Type", "User-Agent",      "Cache-Control"};

bool is_public_header(std::string_view name);

// to_json(definition) with the value of every non-public header replaced by "***".
boost::json::object to_masked_json(const ToolDefinition& definition);

// Replaces each "***" header value of `next` by the value `current` stores under the same name.
// `current` is null when there is no stored tool. Errors: errc::secret_required (422), field
// "/http/headers/<name>", when there is no stored value of that name, or when the origin of
// next's URL differs from current's.
core::Status keep_stored_secrets(ToolDefinition& next, const ToolDefinition* current);

// Names of what differs between two versions (never values): "kind", "description",
// "parameters", "http.method", "http.url", "http.timeout_ms", "http.max_response_bytes",
// "http.headers.<name>". With no `before` (a creation), the fields `after` sets.
std::vector<std::string> changed_fields(const ToolDefinition* before, const ToolDefinition& after);

}  // namespace enkisys::tools
