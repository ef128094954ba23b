#include "enkisys/tools/builtins.hpp"

#include <boost/json/parse.hpp>
#include <stdexcept>

#include "enkisys/tools/calculator.hpp"
#include "enkisys/tools/time_zone.hpp"

namespace enkisys::tools {
namespace {

namespace json = boost::json;

ToolDefinition make(const char* name, const char* description, json::object parameters) {
  auto d = parse_tool_definition(json::object{{"name", name},
                                              {"description", description},
                                              {"kind", "builtin"},
                                              {"parameters", std::move(parameters)}});
  if (!d)
    throw std::logic_error("builtin tool definition is invalid: " +
                           d.error().message);  // invariant
  return std::move(*d);
}

}  // namespace

json::object http_get_parameters() {
  return json::parse(R"({"type":"object","properties":{"url":{"type":"string","format":"uri",
    "maxLength":2048,"description":"Absolute http or https URL on an allowlisted host"}},
    "required":["url"],"additionalProperties":false})")
      .as_object();
}

std::vector<ToolDefinition> builtin_tool_definitions() {
  std::vector<ToolDefinition> out;
  out.push_back(make("calculator",
                     "Evaluate an arithmetic expression: + - * / % ^, parentheses, sqrt, sin, cos, "
                     "tan, ln, log, exp, abs, floor, ceil, round, min, max, pow, pi, e.",
                     calculator_parameters()));
  out.push_back(
      make("current_time",
           "Current date and time in an IANA time zone (default UTC), ISO 8601 with offset.",
           current_time_parameters()));
  out.push_back(make("http_get", "Fetch a URL with HTTP GET (only allowlisted hosts).",
                     http_get_parameters()));
  return out;
}

core::Expected<json::value> run_current_time(const json::value& arguments, const TimeZoneDb& db,
                                             const Clock& clock) {
  const auto* obj = arguments.if_object();
  if (!obj) return make_error(errc::invalid_arguments, "arguments must be a JSON object");
  std::string_view name = "UTC";
  if (const auto* tz = obj->if_contains("timezone")) {
    if (!tz->is_string())
      return make_error(errc::invalid_arguments, "timezone must be a string", "/timezone");
    name = tz->get_string();
  }
  auto zone = db.find(name);
  if (!zone) return zone.error();
  const auto now = std::chrono::floor<std::chrono::seconds>(clock());
  const LocalTimeInfo info = (*zone)->at(now);
  return json::value(json::object{{"timezone", std::string(name)},
                                  {"iso8601", format_iso8601(now, info.utc_offset_seconds)},
                                  {"unix", now.time_since_epoch().count()},
                                  {"utc_offset_seconds", info.utc_offset_seconds},
                                  {"abbreviation", info.abbreviation}});
}

json::object current_time_parameters() {
  return json::parse(R"({"type":"object","properties":{"timezone":{"type":"string","maxLength":128,
    "default":"UTC","description":"IANA time zone name, e.g. Europe/Madrid"}},
    "additionalProperties":false})")
      .as_object();
}

}  // namespace enkisys::tools
