// OpenAPI 3 import of a small petstore-like document shipped as a fixture.
#include "enkisys/tools/openapi_import.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>

#include "enkisys/tools/url_template.hpp"

namespace enkisys::tools {
namespace {

namespace json = boost::json;

json::value petstore() {
  std::ifstream in(std::string(ENKISYS_TOOLS_FIXTURES) + "/petstore.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

const ToolDefinition* find(const ImportResult& r, std::string_view name) {
  for (const auto& t : r.tools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

TEST(OpenApiImport, OneToolPerOperationWithSanitisedUniqueNames) {
  auto r = import_openapi(petstore());
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> names;
  for (const auto& t : r->tools) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"listPets", "create_pet", "get_pets_petId",
                                             "listPets_2", "updateTree"}));
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0], "PUT /pets/{petId}: request body is not JSON");
}

TEST(OpenApiImport, QueryParametersAndServerVariables) {
  auto r = import_openapi(petstore());
  ASSERT_TRUE(r.ok());
  const auto* t = find(*r, "listPets");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->description, "List all pets");
  EXPECT_EQ(t->http->method, "GET");
  EXPECT_EQ(t->http->url, "https://api.petstore.example/v1/pets?limit={limit}&tag={tag}");
  const auto& props = t->parameters.at("properties").as_object();
  EXPECT_FALSE(props.contains("X-Request-Id"));  // header parameters are not exposed
  EXPECT_EQ(props.at("limit").at("exclusiveMinimum").as_int64(), 0);  // 3.0 boolean form translated
  EXPECT_FALSE(props.at("limit").as_object().contains("minimum"));
  EXPECT_TRUE(t->parameters_schema.is_valid(json::parse(R"({"tag":null,"limit":5})")));
  EXPECT_FALSE(t->parameters_schema.is_valid(json::parse(R"({"limit":0})")));
  auto req =
      expand_request(t->http->method, t->http->url, json::parse(R"({"limit":5})").as_object());
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->url.buffer(), "https://api.petstore.example/v1/pets?limit=5");
}

TEST(OpenApiImport, PathParametersAreRequiredAndInherited) {
  auto r = import_openapi(petstore());
  ASSERT_TRUE(r.ok());
  const auto* t = find(*r, "get_pets_petId");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->http->url, "https://api.petstore.example/v1/pets/{petId}");
  EXPECT_EQ(t->parameters.at("required"), json::parse(R"(["petId"])"));
  EXPECT_EQ(t->parameters.at("properties").at("petId").at("description").as_string(), "The pet id");
  EXPECT_FALSE(t->parameters_schema.is_valid(json::parse("{}")));
  EXPECT_EQ(find(*r, "listPets_2")->http->method, "DELETE");
}

TEST(OpenApiImport, JsonBodyPropertiesAreMergedWithComponentRefsAsDefs) {
  auto r = import_openapi(petstore());
  ASSERT_TRUE(r.ok());
  const auto* t = find(*r, "create_pet");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->description, "Create a pet");
  EXPECT_EQ(t->parameters.at("required"), json::parse(R"(["name"])"));
  EXPECT_EQ(t->parameters.at("properties").at("owner").at("$ref").as_string(), "#/$defs/Owner");
  EXPECT_TRUE(t->parameters.at("$defs").as_object().contains("Owner"));
  EXPECT_TRUE(t->parameters_schema.is_valid(
      json::parse(R"({"name":"Rex","owner":{"email":"a@b.example"}})")));
  EXPECT_FALSE(
      t->parameters_schema.is_valid(json::parse(R"({"name":"Rex","owner":{"email":"nope"}})")));
}

TEST(OpenApiImport, RecursiveComponentSchemasWork) {
  auto r = import_openapi(petstore());
  ASSERT_TRUE(r.ok());
  const auto* t = find(*r, "updateTree");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->parameters_schema.is_valid(json::parse(
      R"({"ownerId":"o1","root":{"value":1,"children":[{"value":2,"children":[]}]}})")));
  EXPECT_FALSE(t->parameters_schema.is_valid(
      json::parse(R"({"ownerId":"o1","root":{"value":1,"children":[{"value":"x"}]}})")));
}

TEST(OpenApiImport, RejectsNonOpenApi3Documents) {
  EXPECT_NE(import_openapi(json::parse(R"({"swagger":"2.0","paths":{}})"))
                .error()
                .message.find("Swagger 2.0"),
            std::string::npos);
  EXPECT_EQ(import_openapi(json::parse(R"({"openapi":"4.0.0","paths":{}})")).error().field,
            "/openapi");
  EXPECT_EQ(import_openapi(json::parse(R"({"openapi":"3.1.0"})")).error().field, "/paths");
  EXPECT_FALSE(import_openapi(json::parse("[]")).ok());
  EXPECT_FALSE(
      import_openapi(json::parse(R"({"openapi":"3.1.0","paths":{},"servers":[{"url":"/v1"}]})"))
          .ok());
}

TEST(OpenApiImport, BaseUrlOverrideAndNamePrefix) {
  OpenApiImportOptions opts;
  opts.base_url = "http://localhost:8080/";
  opts.name_prefix = "pets.";
  auto r = import_openapi(petstore(), opts);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tools[0].name, "pets_listPets");
  EXPECT_EQ(r->tools[0].http->url.substr(0, 26), "http://localhost:8080/pets");
}

TEST(OpenApiImport, OperationCountIsCapped) {
  json::object paths;
  for (int i = 0; i < 20; ++i)
    paths["/p" + std::to_string(i)] = json::object{{"get", json::object{}}};
  json::object doc{{"openapi", "3.0.0"},
                   {"servers", json::array{json::object{{"url", "https://x.example"}}}},
                   {"paths", paths}};
  OpenApiImportOptions opts;
  opts.max_operations = 10;
  auto r = import_openapi(doc, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("more than 10 operations"), std::string::npos);
  EXPECT_EQ(import_openapi(doc)->tools.size(), 20u);
}

TEST(OpenApiImport, RemoteRefsAndRecursiveInlineRefsAreSkippedNotFatal) {
  auto doc = json::parse(R"({"openapi":"3.0.0","servers":[{"url":"https://x.example"}],"paths":{
    "/a":{"get":{"operationId":"a","parameters":[{"name":"q","in":"query","schema":{"$ref":"https://evil/s.json"}}]}},
    "/b":{"get":{"operationId":"b","parameters":[{"name":"q","in":"query","schema":{"$ref":"#/paths/~1b/get/parameters/0/schema"}}]}},
    "/c":{"get":{"operationId":"c"}}}})");
  auto r = import_openapi(doc);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->tools.size(), 1u);
  EXPECT_EQ(r->tools[0].name, "c");
  ASSERT_EQ(r->skipped.size(), 2u);
  EXPECT_NE(r->skipped[0].find("remote $ref"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::tools
