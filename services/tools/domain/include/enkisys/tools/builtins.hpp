// Definitions of the builtin tools: calculator, current_time, http_get.
//
// The service registers these at start-up (kind "builtin") and dispatches invocations by name:
// calculator -> run_calculator (calculator.hpp), current_time -> run_current_time
// (time_zone.hpp), http_get -> the service's HTTP client after vet() with
// EgressPolicy::for_http_get (egress.hpp). Pure; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <vector>

#include "enkisys/tools/tool_definition.hpp"

namespace enkisys::tools {

// {"url": string (absolute http/https URI)}
boost::json::object http_get_parameters();

// The three builtin definitions, each already validated by parse_tool_definition().
std::vector<ToolDefinition> builtin_tool_definitions();

}  // namespace enkisys::tools
