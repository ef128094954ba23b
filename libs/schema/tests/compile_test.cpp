// Invalid schemas are rejected with the JSON Pointer of the offending keyword.
#include "test_util.hpp"

namespace enkisys::schema::testing {
namespace {

struct BadSchema {
  const char* schema;
  const char* pointer;
  const char* message_part;
};

void PrintTo(const BadSchema& b, std::ostream* os) {
  *os << b.schema;
}

class InvalidSchema : public ::testing::TestWithParam<BadSchema> {};

TEST_P(InvalidSchema, NamesThePointer) {
  const auto& p = GetParam();
  const auto err = compile_err(p.schema);
  EXPECT_EQ(err.pointer, p.pointer) << err.to_string();
  EXPECT_NE(err.message.find(p.message_part), std::string::npos) << err.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidSchema,
    ::testing::Values(
        BadSchema{R"({"type":"strin"})", "/type", "unknown type 'strin'"},
        BadSchema{R"({"type":["string",3]})", "/type/1", "must be strings"},
        BadSchema{R"({"type":[]})", "/type", "empty"},
        BadSchema{R"({"required":"city"})", "/required", "array of strings"},
        BadSchema{R"({"required":[1]})", "/required", "array of strings"},
        BadSchema{R"({"properties":{"a":{"minLength":-1}}})", "/properties/a/minLength",
                  "non-negative integer"},
        BadSchema{R"({"maxItems":1.5})", "/maxItems", "non-negative integer"},
        BadSchema{R"({"pattern":"(unclosed"})", "/pattern", "invalid regular expression"},
        BadSchema{R"({"pattern":"(a)\\1"})", "/pattern", "invalid regular expression"},
        BadSchema{R"({"patternProperties":{"[":{}}})", "/patternProperties/[",
                  "invalid regular expression"},
        BadSchema{R"({"$ref":"#/$defs/missing"})", "/$ref", "does not resolve"},
        BadSchema{R"({"$ref":"https://example.com/s.json"})", "/$ref", "remote $ref"},
        BadSchema{R"({"$ref":"other.json#/a"})", "/$ref", "not supported"},
        BadSchema{R"({"$ref":"#anchor"})", "/$ref", "anchor"},
        BadSchema{R"({"minimum":"1"})", "/minimum", "must be a number"},
        BadSchema{R"({"multipleOf":0})", "/multipleOf", "greater than 0"},
        BadSchema{R"({"anyOf":[]})", "/anyOf", "non-empty array"},
        BadSchema{R"({"allOf":{}})", "/allOf", "non-empty array"},
        BadSchema{R"({"items":{"type":"nope"}})", "/items/type", "unknown type"},
        BadSchema{R"({"properties":{"a":3}})", "/properties/a", "object or a boolean"},
        BadSchema{R"({"uniqueItems":"yes"})", "/uniqueItems", "boolean"},
        BadSchema{R"({"$defs":{"x":{"enum":3}}})", "/$defs/x/enum", "must be an array"},
        BadSchema{R"({"additionalProperties":{"not":{"format":1}}})",
                  "/additionalProperties/not/format", "must be a string"},
        BadSchema{"[1]", "", "object or a boolean"}));

TEST(Compile, UnreferencedDefsAreStillChecked) {
  EXPECT_EQ(compile_err(R"({"$defs":{"unused":{"type":"bogus"}}})").pointer, "/$defs/unused/type");
}

TEST(Compile, DepthBombIsRejected) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += R"({"items":)";
  deep += "{}";
  for (int i = 0; i < 200; ++i) deep += "}";
  boost::json::parse_options po;
  po.max_depth = 1000;
  auto r = Schema::compile(boost::json::parse(deep, {}, po));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("deeper than 64"), std::string::npos);
}

TEST(Compile, DepthWithinLimitIsAccepted) {
  std::string deep;
  for (int i = 0; i < 30; ++i) deep += R"({"items":)";
  deep += R"({"type":"integer"})";
  for (int i = 0; i < 30; ++i) deep += "}";
  auto s = compile_ok(deep);
  std::string inst(30, '[');
  inst += "\"x\"" + std::string(30, ']');
  auto e = errors(s, inst);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].instance_path.size(), 60u);  // "/0" thirty times
}

TEST(Compile, TooManySubschemasIsRejected) {
  boost::json::object props;
  for (int i = 0; i < 200; ++i) props["p" + std::to_string(i)] = boost::json::object{};
  CompileOptions opts;
  opts.max_nodes = 100;
  auto r = Schema::compile(boost::json::object{{"properties", props}}, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("more than 100"), std::string::npos);
}

TEST(Compile, OverlongOrDeeplyNestedPatternsAreRejected) {
  CompileOptions opts;
  opts.max_pattern_length = 16;
  auto r = Schema::compile(boost::json::parse(R"({"pattern":"aaaaaaaaaaaaaaaaaaaaaa"})"), opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().pointer, "/pattern");
  std::string nested = std::string(40, '(') + "a" + std::string(40, ')');
  EXPECT_EQ(compile_err("{\"pattern\":\"" + nested + "\"}").pointer, "/pattern");
}

TEST(Compile, ExplosiveRepetitionIsRejectedNotExpanded) {
  auto err = compile_err(R"({"pattern":"((a{1000}){1000}){1000}"})");
  EXPECT_EQ(err.pointer, "/pattern");
}

TEST(Compile, DocumentIsKept) {
  auto s = compile_ok(R"({"type":"string"})");
  EXPECT_EQ(s.document().at("type").as_string(), "string");
}

}  // namespace
}  // namespace enkisys::schema::testing
