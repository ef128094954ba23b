// One test per keyword family: a passing and a failing instance, and the reported error.
#include <thread>

#include "test_util.hpp"

namespace enkisys::schema::testing {
namespace {

TEST(Type, SingleAndArrayOfTypes) {
  auto s = compile_ok(R"({"type":["string","null"]})");
  EXPECT_TRUE(valid(s, R"("x")"));
  EXPECT_TRUE(valid(s, "null"));
  auto e = errors(s, "1");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must be string or null");
  EXPECT_EQ(e[0].schema_path, "/type");
}

TEST(Type, IntegerAcceptsIntegralDoubles) {
  auto s = compile_ok(R"({"type":"integer"})");
  EXPECT_TRUE(valid(s, "2"));
  EXPECT_TRUE(valid(s, "2.0"));
  EXPECT_FALSE(valid(s, "2.5"));
  EXPECT_FALSE(valid(s, R"("2")"));
}

TEST(Type, NumberAcceptsAllNumbersButNotBooleans) {
  auto s = compile_ok(R"({"type":"number"})");
  EXPECT_TRUE(valid(s, "-3"));
  EXPECT_TRUE(valid(s, "0.25"));
  EXPECT_FALSE(valid(s, "true"));
}

TEST(BooleanSchema, TrueAndFalse) {
  EXPECT_TRUE(valid(compile_ok("true"), R"({"a":1})"));
  auto e = errors(compile_ok("false"), "1");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].instance_path, "");
}

TEST(DefaultSchema, AcceptsEverything) {
  EXPECT_TRUE(Schema().is_valid(boost::json::parse("[1]")));
}

TEST(Enum, MatchesByValueIncludingNumbersAcrossRepresentations) {
  auto s = compile_ok(R"({"enum":["a",1,{"k":[true]}]})");
  EXPECT_TRUE(valid(s, R"("a")"));
  EXPECT_TRUE(valid(s, "1.0"));
  EXPECT_TRUE(valid(s, R"({"k":[true]})"));
  auto e = errors(s, R"("b")");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].schema_path, "/enum");
}

TEST(Const, ObjectKeyOrderDoesNotMatter) {
  auto s = compile_ok(R"({"const":{"a":1,"b":2}})");
  EXPECT_TRUE(valid(s, R"({"b":2,"a":1})"));
  EXPECT_FALSE(valid(s, R"({"a":1})"));
}

TEST(Properties, RequiredMissingNamesTheProperty) {
  auto s = compile_ok(R"({"type":"object","properties":{"city":{"type":"string"}},
                         "required":["city"]})");
  EXPECT_TRUE(valid(s, R"({"city":"Madrid"})"));
  auto e = errors(s, "{}");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "missing required property 'city'");
  EXPECT_EQ(e[0].schema_path, "/required");
  e = errors(s, R"({"city":3})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].instance_path, "/city");
  EXPECT_EQ(e[0].schema_path, "/properties/city/type");
}

TEST(Properties, AdditionalPropertiesFalseReportsTheName) {
  auto s = compile_ok(R"({"properties":{"a":{}},"additionalProperties":false})");
  EXPECT_TRUE(valid(s, R"({"a":1})"));
  auto e = errors(s, R"({"a":1,"zz":2})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must not have additional property 'zz'");
  EXPECT_EQ(e[0].instance_path, "");
}

TEST(Properties, AdditionalPropertiesSchema) {
  auto s = compile_ok(R"({"properties":{"a":{}},"additionalProperties":{"type":"integer"}})");
  EXPECT_TRUE(valid(s, R"({"a":"x","b":2})"));
  auto e = errors(s, R"({"a":"x","b":"y"})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].instance_path, "/b");
}

TEST(Properties, PatternPropertiesApplyAndCountAsMatched) {
  auto s =
      compile_ok(R"({"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false})");
  EXPECT_TRUE(valid(s, R"({"x-a":"1"})"));
  EXPECT_FALSE(valid(s, R"({"x-a":1})"));
  EXPECT_FALSE(valid(s, R"({"y":"1"})"));
}

TEST(Properties, PropertyNames) {
  auto s = compile_ok(R"({"propertyNames":{"maxLength":3}})");
  EXPECT_TRUE(valid(s, R"({"abc":1})"));
  auto e = errors(s, R"({"abcd":1})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "property name 'abcd' is invalid");
}

TEST(Properties, MinAndMaxProperties) {
  auto s = compile_ok(R"({"minProperties":1,"maxProperties":2})");
  EXPECT_FALSE(valid(s, "{}"));
  EXPECT_TRUE(valid(s, R"({"a":1,"b":2})"));
  EXPECT_FALSE(valid(s, R"({"a":1,"b":2,"c":3})"));
}

TEST(Properties, KeysWithSlashAndTildeAreEscapedInPaths) {
  auto s = compile_ok(R"({"properties":{"a/b~c":{"type":"string"}}})");
  auto e = errors(s, R"({"a/b~c":1})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].instance_path, "/a~1b~0c");
  EXPECT_EQ(e[0].schema_path, "/properties/a~1b~0c/type");
}

TEST(Items, SchemaAppliesToEveryElementWithIndexInPath) {
  auto s = compile_ok(R"({"type":"array","items":{"type":"object","properties":
                         {"name":{"type":"string"}}}})");
  EXPECT_TRUE(valid(s, R"([{"name":"a"},{}])"));
  auto e = errors(s, R"([{"name":"a"},{"name":"b"},{"name":3}])");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].instance_path, "/2/name");
}

TEST(Items, PrefixItemsThenItems) {
  auto s = compile_ok(R"({"prefixItems":[{"type":"string"},{"type":"integer"}],
                         "items":{"type":"boolean"}})");
  EXPECT_TRUE(valid(s, R"(["a",1,true,false])"));
  EXPECT_FALSE(valid(s, R"(["a",1,3])"));
  EXPECT_FALSE(valid(s, R"([1])"));
}

TEST(Items, Draft07TupleFormWithAdditionalItems) {
  auto s = compile_ok(R"({"items":[{"type":"string"}],"additionalItems":false})");
  EXPECT_TRUE(valid(s, R"(["a"])"));
  EXPECT_FALSE(valid(s, R"(["a",2])"));
}

TEST(Items, MinMaxItems) {
  auto s = compile_ok(R"({"minItems":1,"maxItems":2})");
  EXPECT_FALSE(valid(s, "[]"));
  EXPECT_TRUE(valid(s, "[1,2]"));
  auto e = errors(s, "[1,2,3]");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must have at most 2 items");
}

TEST(Items, UniqueItemsComparesByValue) {
  auto s = compile_ok(R"({"uniqueItems":true})");
  EXPECT_TRUE(valid(s, R"([1,"1",[1],{"a":1}])"));
  auto e = errors(s, R"([{"a":1,"b":2},3,{"b":2,"a":1.0}])");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must not contain duplicate items (items 0 and 2 are equal)");
}

TEST(Items, ContainsWithMinAndMax) {
  auto s = compile_ok(R"({"contains":{"type":"string"},"minContains":2,"maxContains":3})");
  EXPECT_FALSE(valid(s, R"([1,"a"])"));
  EXPECT_TRUE(valid(s, R"(["a","b",1])"));
  EXPECT_FALSE(valid(s, R"(["a","b","c","d"])"));
  EXPECT_FALSE(valid(compile_ok(R"({"contains":{"const":1}})"), "[2]"));
}

TEST(Numbers, InclusiveBoundsWithMessages) {
  auto s = compile_ok(R"({"minimum":1,"maximum":10})");
  EXPECT_TRUE(valid(s, "1"));
  EXPECT_TRUE(valid(s, "10"));
  auto e = errors(s, "0");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must be >= 1");
  e = errors(s, "10.5");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must be <= 10");
}

TEST(Numbers, ExclusiveBounds) {
  auto s = compile_ok(R"({"exclusiveMinimum":0,"exclusiveMaximum":1})");
  EXPECT_FALSE(valid(s, "0"));
  EXPECT_TRUE(valid(s, "0.5"));
  auto e = errors(s, "1");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must be < 1");
}

TEST(Numbers, MultipleOfIntegersAndDecimals) {
  EXPECT_TRUE(valid(compile_ok(R"({"multipleOf":3})"), "-9"));
  EXPECT_FALSE(valid(compile_ok(R"({"multipleOf":3})"), "10"));
  EXPECT_TRUE(valid(compile_ok(R"({"multipleOf":0.1})"), "0.3"));
  EXPECT_FALSE(valid(compile_ok(R"({"multipleOf":0.1})"), "0.35"));
  EXPECT_TRUE(valid(compile_ok(R"({"multipleOf":0.5})"), "1e308"));
}

TEST(Strings, LengthCountsCodePointsNotBytes) {
  auto s = compile_ok(R"({"minLength":2,"maxLength":3})");
  EXPECT_TRUE(valid(s, "\"\xC3\xB1\xC3\xB1\xC3\xB1\""));  // "ñññ": 3 code points, 6 bytes
  EXPECT_FALSE(valid(s, "\"\xF0\x9F\x98\x80\""));         // one emoji, 4 bytes
  EXPECT_TRUE(valid(s, "\"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\""));
  auto e = errors(s, R"("abcd")");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must be at most 3 characters long");
}

TEST(Strings, PatternIsSearchedNotAnchored) {
  auto s = compile_ok(R"({"pattern":"[0-9]{3}"})");
  EXPECT_TRUE(valid(s, R"("ab123cd")"));
  EXPECT_FALSE(valid(s, R"("ab12")"));
  auto anchored = compile_ok(R"({"pattern":"^[a-z]+$"})");
  EXPECT_FALSE(valid(anchored, R"("abc1")"));
  EXPECT_TRUE(valid(compile_ok(R"({"pattern":"x"})"), "5"));  // non-strings ignored
}

TEST(Strings, PatternRefusesOverlongInputsInsteadOfMatching) {
  auto s = compile_ok(R"({"pattern":"^(a|a)*$"})");
  const std::string lng = "\"" + std::string(5000, 'a') + "\"";
  auto e = errors(s, lng);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("too long"), std::string::npos);
  EXPECT_TRUE(valid(s, "\"" + std::string(4000, 'a') + "\""));  // polynomial, no blow-up
}

TEST(Combinators, AllOfReportsEachFailure) {
  auto s = compile_ok(R"({"allOf":[{"minimum":5},{"multipleOf":2}]})");
  EXPECT_TRUE(valid(s, "6"));
  auto e = errors(s, "3");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].schema_path, "/allOf/0/minimum");
  EXPECT_EQ(e[1].schema_path, "/allOf/1/multipleOf");
}

TEST(Combinators, AnyOf) {
  auto s = compile_ok(R"({"anyOf":[{"type":"string"},{"minimum":3}]})");
  EXPECT_TRUE(valid(s, R"("x")"));
  EXPECT_TRUE(valid(s, "4"));
  auto e = errors(s, "1");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must match at least one schema in anyOf");
}

TEST(Combinators, OneOfCountsMatches) {
  auto s = compile_ok(R"({"oneOf":[{"type":"integer"},{"minimum":2}]})");
  EXPECT_TRUE(valid(s, "1"));
  EXPECT_TRUE(valid(s, "2.5"));
  auto e = errors(s, "3");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must match exactly one schema in oneOf (matched 2)");
}

TEST(Combinators, Not) {
  auto s = compile_ok(R"({"not":{"type":"null"}})");
  EXPECT_TRUE(valid(s, "0"));
  EXPECT_FALSE(valid(s, "null"));
}

TEST(Combinators, IfThenElse) {
  auto s = compile_ok(R"({"if":{"properties":{"kind":{"const":"http"}},"required":["kind"]},
                         "then":{"required":["url"]},"else":{"not":{"required":["url"]}}})");
  EXPECT_TRUE(valid(s, R"({"kind":"http","url":"x"})"));
  EXPECT_FALSE(valid(s, R"({"kind":"http"})"));
  EXPECT_TRUE(valid(s, R"({"kind":"builtin"})"));
  EXPECT_FALSE(valid(s, R"({"kind":"builtin","url":"x"})"));
}

TEST(Ref, RecursiveTreeSchema) {
  auto s = compile_ok(R"({"$ref":"#/$defs/node","$defs":{"node":{"type":"object",
      "properties":{"value":{"type":"integer"},
                    "children":{"type":"array","items":{"$ref":"#/$defs/node"}}},
      "required":["value"]}}})");
  EXPECT_TRUE(valid(s, R"({"value":1,"children":[{"value":2,"children":[{"value":3}]}]})"));
  auto e = errors(s, R"({"value":1,"children":[{"value":2,"children":[{"value":"x"}]}]})");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].instance_path, "/children/0/children/0/value");
  EXPECT_EQ(e[0].schema_path, "/$defs/node/properties/value/type");
}

TEST(Ref, RootAndDefinitionsAndEscapedPointers) {
  auto s = compile_ok(R"({"properties":{"next":{"$ref":"#"},"v":{"$ref":"#/definitions/a~1b"}},
                         "definitions":{"a/b":{"type":"string"}}})");
  EXPECT_TRUE(valid(s, R"({"next":{"next":{"v":"x"}}})"));
  EXPECT_FALSE(valid(s, R"({"next":{"next":{"v":1}}})"));
}

TEST(Ref, SiblingKeywordsStillApply) {
  auto s = compile_ok(R"({"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":2})");
  EXPECT_TRUE(valid(s, R"("ab")"));
  EXPECT_FALSE(valid(s, R"("abc")"));
  EXPECT_FALSE(valid(s, "1"));
}

TEST(Ref, SelfLoopAbortsInsteadOfOverflowingTheStack) {
  auto s = compile_ok(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},
                         "$ref":"#/$defs/a"})");
  auto e = errors(s, "1");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("validation aborted"), std::string::npos);
}

TEST(Budget, ExponentialAnyOfIsCutOff) {
  std::string defs;
  for (int i = 0; i < 40; ++i) {
    defs += "\"d" + std::to_string(i) + "\":{\"anyOf\":[{\"$ref\":\"#/$defs/d" +
            std::to_string(i + 1) + "\"},{\"$ref\":\"#/$defs/d" + std::to_string(i + 1) + "\"}]},";
  }
  defs += "\"d40\":false";
  auto s = compile_ok("{\"$ref\":\"#/$defs/d0\",\"$defs\":{" + defs + "}}");
  ValidateOptions opts;
  opts.max_steps = 100000;
  auto e = s.validate(boost::json::parse("1"), opts);
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e.back().message.find("budget"), std::string::npos);
}

TEST(Errors, CapAndDeterministicOrder) {
  auto s = compile_ok(R"({"items":{"type":"string"}})");
  std::string many = "[";
  for (int i = 0; i < 500; ++i) many += (i ? ",1" : "1");
  many += "]";
  ValidateOptions opts;
  opts.max_errors = 10;
  auto e = s.validate(boost::json::parse(many), opts);
  ASSERT_EQ(e.size(), 10u);
  for (std::size_t i = 0; i < e.size(); ++i) EXPECT_EQ(e[i].instance_path, "/" + std::to_string(i));
  EXPECT_EQ(s.validate(boost::json::parse(many), opts)[3].instance_path, "/3");
}

TEST(Errors, MultipleFailuresInOneObjectInDocumentOrder) {
  auto s = compile_ok(R"({"properties":{"a":{"type":"string"},"b":{"minimum":1}},
                         "required":["c"]})");
  auto e = errors(s, R"({"b":0,"a":1})");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].message, "missing required property 'c'");
  EXPECT_EQ(e[1].instance_path, "/b");
  EXPECT_EQ(e[2].instance_path, "/a");
}

TEST(Unknown, KeywordsAreIgnored) {
  auto s = compile_ok(R"({"title":"t","description":"d","default":3,"examples":[1],
                         "x-vendor":{"type":"nonsense"},"format":"hostname"})");
  EXPECT_TRUE(valid(s, R"("anything")"));
}

TEST(Concurrency, OneCompiledSchemaManyThreads) {
  auto s = compile_ok(R"({"type":"object","properties":{"n":{"type":"integer","minimum":0}},
                         "required":["n"]})");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const bool ok = s.is_valid(boost::json::value{{"n", i % 2 == 0 ? i : -i}});
        if (ok != (i % 2 == 0 || i == 0)) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace enkisys::schema::testing
