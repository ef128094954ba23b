// Tool definitions: strict parsing with field paths, round trip, OpenAI format, builtins.
#include "enkisys/tools/tool_definition.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "enkisys/tools/builtins.hpp"

namespace enkisys::tools {
namespace {

namespace json = boost::json;

const char* kHttpTool = R"({"name":"get_weather","description":"Weather for a city","kind":"http",
  "parameters":{"type":"object","properties":{"city":{"type":"string"},"units":{"enum":["c","f"]}},
                "required":["city"]},
  "http":{"method":"GET","url":"https://api.example.com/weather/{city}","headers":{"X-Api-Key":"k"},
          "timeout_ms":5000}})";

Error parse_error(std::string_view text) {
  auto r = parse_tool_definition(json::parse(text));
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? Error{} : r.error();
}

TEST(ToolDefinition, ParsesHttpToolWithDefaults) {
  auto r = parse_tool_definition(json::parse(kHttpTool));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "get_weather");
  EXPECT_EQ(r->kind, ToolKind::http);
  ASSERT_TRUE(r->http.has_value());
  EXPECT_EQ(r->http->timeout_ms, 5000u);
  EXPECT_EQ(r->http->max_response_bytes, 1024u * 1024u);
  EXPECT_EQ(r->http->headers.at("X-Api-Key"), "k");
}

TEST(ToolDefinition, RoundTripsThroughJson) {
  auto r = parse_tool_definition(json::parse(kHttpTool));
  ASSERT_TRUE(r.ok());
  auto again = parse_tool_definition(to_json(*r));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(to_json(*again), to_json(*r));
}

TEST(ToolDefinition, OpenAiFormat) {
  auto r = parse_tool_definition(json::parse(kHttpTool));
  ASSERT_TRUE(r.ok());
  const auto o = to_openai(*r);
  EXPECT_EQ(o.at("type").as_string(), "function");
  EXPECT_EQ(o.at("function").at("name").as_string(), "get_weather");
  EXPECT_EQ(o.at("function").at("parameters").at("required").as_array().size(), 1u);
  EXPECT_FALSE(o.at("function").as_object().contains("http"));
}

TEST(ToolDefinition, MinimalBuiltinGetsDefaultParameters) {
  auto r = parse_tool_definition(json::parse(R"({"name":"noop","kind":"builtin"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->parameters.at("type").as_string(), "object");
  EXPECT_FALSE(r->http.has_value());
}

struct Bad {
  const char* json;
  ErrorCode code;
  const char* field;
};

void PrintTo(const Bad& b, std::ostream* os) {
  *os << b.json;
}

class InvalidDefinition : public ::testing::TestWithParam<Bad> {};

TEST_P(InvalidDefinition, NamesTheField) {
  const auto e = parse_error(GetParam().json);
  EXPECT_EQ(e.code, GetParam().code) << e.message;
  EXPECT_EQ(e.field, GetParam().field) << e.message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidDefinition,
    ::testing::Values(
        Bad{R"({"name":"a","kind":"builtin","extra":1})", errc::invalid_request, "/extra"},
        Bad{R"({"name":"a b","kind":"builtin"})", errc::invalid_request, "/name"},
        Bad{R"({"name":"","kind":"builtin"})", errc::invalid_request, "/name"},
        Bad{R"({"name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","kind":"builtin"})",
            errc::invalid_request, "/name"},
        Bad{R"({"name":7,"kind":"builtin"})", errc::invalid_request, "/name"},
        Bad{R"({"kind":"builtin"})", errc::invalid_request, "/name"},
        Bad{R"({"name":"a"})", errc::invalid_request, "/kind"},
        Bad{R"({"name":"a","kind":"python"})", errc::invalid_request, "/kind"},
        Bad{R"({"name":"a","kind":"builtin","description":5})", errc::invalid_request,
            "/description"},
        Bad{R"({"name":"a","kind":"builtin","parameters":{"type":"object","properties":{"x":{"type":"strnig"}}}})",
            errc::invalid_schema, "/parameters/properties/x/type"},
        Bad{R"({"name":"a","kind":"builtin","parameters":{"type":"string"}})", errc::invalid_schema,
            "/parameters/type"},
        Bad{R"({"name":"a","kind":"builtin","parameters":[]})", errc::invalid_schema,
            "/parameters"},
        Bad{R"({"name":"a","kind":"http"})", errc::invalid_request, "/http"},
        Bad{R"({"name":"a","kind":"builtin","http":{"method":"GET","url":"https://x.example/"}})",
            errc::invalid_request, "/http"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"TRACE","url":"https://x.example/"}})",
            errc::invalid_request, "/http/method"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"file:///etc/passwd"}})",
            errc::invalid_request, "/http/url"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/{nope}"}})",
            errc::invalid_request, "/http/url"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","timeout_ms":0}})",
            errc::invalid_request, "/http/timeout_ms"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","timeout_ms":60001}})",
            errc::invalid_request, "/http/timeout_ms"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","max_response_bytes":10485761}})",
            errc::invalid_request, "/http/max_response_bytes"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","headers":{"X":"a\r\nB: c"}}})",
            errc::invalid_request, "/http/headers/X"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","headers":{"Transfer-Encoding":"chunked"}}})",
            errc::invalid_request, "/http/headers/Transfer-Encoding"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","headers":{"Connection":"close"}}})",
            errc::invalid_request, "/http/headers/Connection"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","headers":{"X":1}}})",
            errc::invalid_request, "/http/headers/X"},
        Bad{R"({"name":"a","kind":"http","http":{"method":"GET","url":"https://x.example/","verb":"x"}})",
            errc::invalid_request, "/http/verb"},
        Bad{"[]", errc::invalid_request, ""}));

TEST(ToolDefinition, DescriptionLimitCountsCharacters) {
  std::string ok;
  for (int i = 0; i < 1024; ++i) ok += "\xC3\xB1";  // 1024 characters, 2048 bytes
  json::object d{{"name", "a"}, {"kind", "builtin"}, {"description", ok}};
  EXPECT_TRUE(parse_tool_definition(d).ok());
  d["description"] = ok + "x";
  EXPECT_FALSE(parse_tool_definition(d).ok());
}

TEST(ToolDefinition, CheckArgumentsReportsPathAndMessage) {
  auto r = parse_tool_definition(json::parse(kHttpTool));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(check_arguments(*r, json::parse(R"({"city":"Madrid"})")).has_value());
  auto e = check_arguments(*r, json::parse(R"({"units":"k"})"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, errc::invalid_arguments);
  EXPECT_NE(e->message.find("missing required property 'city'"), std::string::npos);
  EXPECT_NE(e->message.find("/units: must be equal to one of the allowed values"),
            std::string::npos);
  EXPECT_TRUE(check_arguments(*r, json::parse("[1]")).has_value());
}

TEST(Builtins, DefinitionsAreValidAndNamed) {
  const auto defs = builtin_tool_definitions();
  ASSERT_EQ(defs.size(), 3u);
  EXPECT_EQ(defs[0].name, "calculator");
  EXPECT_EQ(defs[1].name, "current_time");
  EXPECT_EQ(defs[2].name, "http_get");
  EXPECT_FALSE(check_arguments(defs[0], json::parse(R"({"expression":"1+1"})")).has_value());
  EXPECT_TRUE(check_arguments(defs[0], json::parse(R"({"expression":1})")).has_value());
  EXPECT_TRUE(check_arguments(defs[2], json::parse(R"({"url":"not a uri"})")).has_value());
}

}  // namespace
}  // namespace enkisys::tools
