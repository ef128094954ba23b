#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "backends.hpp"

namespace enkisys::tools::testing {
namespace {

namespace json = boost::json;
using db::Backend;

const std::string kWeather = R"({"name":"weather","description":"Weather for a city","kind":"http",
  "parameters":{"type":"object","properties":{"city":{"type":"string","minLength":1}},"required":["city"]},
  "http":{"method":"GET","url":"https://api.example.com/weather/{city}","timeout_ms":2000}})";

class ToolsApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<ToolsFixture>(GetParam());
  }
  std::size_t tool_count() {
    return fx_->call("GET", "/api/tools").body.at("count").to_number<std::size_t>();
  }
  std::unique_ptr<ToolsFixture> fx_;
};

TEST_P(ToolsApiTest, ListsBuiltinsAndOpenAiFormat) {
  auto r = fx_->call("GET", "/api/tools");
  ASSERT_EQ(r.status, 200) << r.raw;
  std::vector<std::string> names;
  for (const auto& t : r.body.at("tools").as_array()) names.emplace_back(t.at("name").as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"calculator", "current_time", "http_get"}));
  auto o = fx_->call("GET", "/api/tools?format=openai");
  ASSERT_EQ(o.status, 200);
  const auto& first = o.body.as_array().at(0);
  EXPECT_EQ(first.at("type"), "function");
  EXPECT_EQ(first.at("function").at("name"), "calculator");
  EXPECT_TRUE(first.at("function").at("parameters").is_object());
  EXPECT_EQ(fx_->call("GET", "/api/tools?format=xml").status, 400);
}

TEST_P(ToolsApiTest, CreateGetReplaceDelete) {
  auto c = fx_->call("POST", "/api/tools", kWeather);
  ASSERT_EQ(c.status, 201) << c.raw;
  EXPECT_NE(c.raw.find("Location: /api/tools/weather"), std::string::npos);
  EXPECT_EQ(c.body.at("builtin"), false);
  auto dup = fx_->call("POST", "/api/tools", kWeather);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.body.at("error").at("code"), "already_exists");
  auto g = fx_->call("GET", "/api/tools/weather");
  ASSERT_EQ(g.status, 200);
  // Conditional GET: the ETag changes with every write.
  const auto etag_at = g.raw.find("ETag: ");
  ASSERT_NE(etag_at, std::string::npos);
  const std::string etag = g.raw.substr(etag_at + 6, g.raw.find("\r\n", etag_at) - etag_at - 6);
  EXPECT_EQ(fx_->call("GET", "/api/tools/weather", "", "If-None-Match: " + etag + "\r\n").status,
            304);
  EXPECT_EQ(g.body.at("http").at("url"), "https://api.example.com/weather/{city}");
  auto updated = json::parse(kWeather).as_object();
  updated["description"] = "Updated";
  auto p = fx_->call("PUT", "/api/tools/weather", json::serialize(updated));
  ASSERT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(fx_->call("GET", "/api/tools/weather").body.at("description"), "Updated");
  EXPECT_EQ(fx_->call("GET", "/api/tools/weather", "", "If-None-Match: " + etag + "\r\n").status,
            200);
  EXPECT_EQ(fx_->call("PUT", "/api/tools/other", json::serialize(updated)).status,
            400);  // name mismatch
  EXPECT_EQ(fx_->call("DELETE", "/api/tools/weather").status, 204);
  EXPECT_EQ(fx_->call("GET", "/api/tools/weather").status, 404);
  EXPECT_EQ(fx_->call("DELETE", "/api/tools/weather").status, 404);
  updated.erase("name");
  EXPECT_EQ(fx_->call("PUT", "/api/tools/weather", json::serialize(updated)).status, 404);
}

TEST_P(ToolsApiTest, SeesWritesOfAnotherProcessDespiteItsCache) {
  ASSERT_EQ(fx_->call("POST", "/api/tools", kWeather).status, 201);
  ASSERT_EQ(fx_->call("GET", "/api/tools/weather").body.at("description"), "Weather for a city");
  // A second replica on the same database changes the tool.
  auto other_db = fx_->store().open();
  ToolStore other(*other_db);
  auto edited = json::parse(kWeather).as_object();
  edited["description"] = "changed elsewhere";
  ASSERT_TRUE(other.update(parse_tool_definition(edited).value(), Actor{"tester", false}).ok());
  EXPECT_EQ(fx_->call("GET", "/api/tools/weather").body.at("description"), "changed elsewhere");
}

TEST_P(ToolsApiTest, BuiltinsAreReadOnly) {
  EXPECT_EQ(fx_->call("DELETE", "/api/tools/calculator").status, 409);
  auto body = R"({"kind":"builtin","description":"mine"})";
  EXPECT_EQ(fx_->call("PUT", "/api/tools/calculator", body).status, 409);
  EXPECT_EQ(fx_->call("GET", "/api/tools/calculator").body.at("builtin"), true);
}

TEST_P(ToolsApiTest, InvalidSchemaIs422AndNothingIsWritten) {
  const auto before = tool_count();
  auto bad =
      R"({"name":"bad","kind":"http","parameters":{"type":"object","properties":{"x":{"type":"strnig"}}},
                 "http":{"method":"GET","url":"https://a.example/x"}})";
  auto r = fx_->call("POST", "/api/tools", bad);
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(r.body.at("error").at("code"), "invalid_schema");
  EXPECT_NE(std::string(r.body.at("error").at("path").as_string()).find("/parameters"),
            std::string::npos);
  EXPECT_EQ(tool_count(), before);
}

TEST_P(ToolsApiTest, BadInputGetsClearJson4xxAndWritesNothing) {
  const auto before = tool_count();
  struct Case {
    std::string body;
    int status;
  };
  const std::vector<Case> cases{
      {"{\"name\":", 400},                                       // malformed JSON
      {"[]", 400},                                               // not an object
      {R"({"name":"x","kind":"builtin","colour":"red"})", 400},  // unknown field
      {R"({"name":42,"kind":"http"})", 400},                     // wrong type
      {R"({"name":"bad name!","kind":"http"})", 400},            // name rule
      {"{\"name\":\"x\xff\",\"kind\":\"http\"}", 400},           // invalid UTF-8
      {R"({"name":"x","kind":"http","http":{"method":"GET","url":"https://a.example/","timeout_ms":1e999}})",
       400},
      {R"({"name":"x","kind":"http","http":{"method":"GET","url":"https://a.example/","timeout_ms":99999999}})",
       400},
      {R"({"name":"x","kind":"http","http":{"method":"GET","url":"file:///etc/passwd"}})", 400},
      {R"({"name":"x","kind":"http"})", 400},  // http spec missing
  };
  for (const auto& c : cases) {
    auto r = fx_->call("POST", "/api/tools", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << "\n" << r.raw;
    ASSERT_TRUE(r.body.is_object()) << r.raw;
    EXPECT_TRUE(r.body.at("error").at("message").is_string());
    EXPECT_FALSE(r.body.at("error").at("request_id").as_string().empty());
  }
  EXPECT_EQ(tool_count(), before);
}

TEST_P(ToolsApiTest, InvokesCalculatorAndValidatesArguments) {
  auto ok =
      fx_->call("POST", "/api/tools/calculator/invoke", R"({"arguments":{"expression":"1+2*3"}})");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body.at("result").to_number<double>(), 7.0);
  auto missing = fx_->call("POST", "/api/tools/calculator/invoke", R"({"arguments":{}})");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(missing.body.at("error").at("code"), "invalid_arguments");
  EXPECT_EQ(missing.body.at("error").at("path"), "/arguments");
  auto wrong_type =
      fx_->call("POST", "/api/tools/calculator/invoke", R"({"arguments":{"expression":5}})");
  EXPECT_EQ(wrong_type.status, 422);
  EXPECT_EQ(wrong_type.body.at("error").at("path"), "/arguments/expression");
  auto div0 =
      fx_->call("POST", "/api/tools/calculator/invoke", R"({"arguments":{"expression":"1/0"}})");
  EXPECT_EQ(div0.status, 422);
  EXPECT_EQ(div0.body.at("error").at("code"), "invalid_arguments");
  auto code = fx_->call("POST", "/api/tools/calculator/invoke",
                        R"J({"arguments":{"expression":"__import__('os').system('id')"}})J");
  EXPECT_EQ(code.status, 422);
  EXPECT_EQ(fx_->call("POST", "/api/tools/calculator/invoke", R"({"args":{}})").status, 400);
  EXPECT_EQ(fx_->call("POST", "/api/tools/nope/invoke", R"({"arguments":{}})").status, 404);
}

TEST_P(ToolsApiTest, CurrentTimeUsesIanaZones) {
  auto r = fx_->call("POST", "/api/tools/current_time/invoke",
                     R"({"arguments":{"timezone":"Europe/Madrid"}})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("result").at("iso8601"), "2024-07-01T14:00:00+02:00");
  EXPECT_EQ(r.body.at("result").at("abbreviation"), "CEST");
  auto bad = fx_->call("POST", "/api/tools/current_time/invoke",
                       R"({"arguments":{"timezone":"Mars/Base"}})");
  EXPECT_EQ(bad.status, 422);
}

TEST_P(ToolsApiTest, HttpGetBuiltinRefusesHostsOutsideItsAllowlist) {
  auto r = fx_->call("POST", "/api/tools/http_get/invoke",
                     R"({"arguments":{"url":"http://169.254.169.254/latest/meta-data/"}})");
  EXPECT_EQ(r.status, 403) << r.raw;
  EXPECT_EQ(r.body.at("error").at("code"), "egress_refused");
}

TEST_P(ToolsApiTest, RecordsEveryInvocationWithoutTheArguments) {
  for (const char* e : {"1+1", "2*3", "1/0"}) {
    fx_->call("POST", "/api/tools/calculator/invoke",
              std::string(R"({"arguments":{"expression":")") + e + "\"}}", "X-User-Id: alice\r\n");
  }
  auto page = fx_->as("alice", "GET", "/api/tools/calculator/invocations?limit=2");
  ASSERT_EQ(page.status, 200) << page.raw;
  const auto& items = page.body.at("items").as_array();
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[0].at("status"), "error");  // newest first: 1/0
  EXPECT_EQ(items[0].at("error_code"), "invalid_arguments");
  EXPECT_EQ(items[0].at("caller"), "alice");
  EXPECT_EQ(items[0].at("arguments_sha256").as_string().size(), 64U);
  EXPECT_EQ(page.raw.find("1/0"), std::string::npos);  // arguments are never stored
  ASSERT_TRUE(page.body.at("next_before").is_int64());
  auto next = fx_->as("alice", "GET",
                      "/api/tools/calculator/invocations?limit=2&before=" +
                          std::to_string(page.body.at("next_before").as_int64()));
  ASSERT_EQ(next.body.at("items").as_array().size(), 1U);
  EXPECT_TRUE(next.body.at("next_before").is_null());
  EXPECT_EQ(fx_->call("GET", "/api/tools/calculator/invocations?limit=abc").status, 400);
  EXPECT_EQ(fx_->call("GET", "/api/tools/ghost/invocations").status, 404);
}

TEST_P(ToolsApiTest, ImportsOpenApiAllOrNothing) {
  const std::string doc = R"({"openapi":"3.0.3","info":{"title":"Pets","version":"1"},
    "servers":[{"url":"https://pets.example.com/v1"}],
    "paths":{"/pets/{petId}":{"get":{"operationId":"getPet","summary":"Get a pet",
      "parameters":[{"name":"petId","in":"path","required":true,"schema":{"type":"integer"}}]}},
     "/pets":{"post":{"operationId":"createPet","requestBody":{"content":{"application/json":
      {"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}}}}}})";
  auto r = fx_->call("POST", "/api/tools/import", doc);
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body.at("created").as_array().size(), 2U);
  auto pet = fx_->call("GET", "/api/tools/getPet");
  ASSERT_EQ(pet.status, 200);
  EXPECT_EQ(pet.body.at("http").at("url"), "https://pets.example.com/v1/pets/{petId}");
  const auto before = tool_count();
  auto again = fx_->call("POST", "/api/tools/import", doc);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(tool_count(), before);
  EXPECT_EQ(fx_->call("POST", "/api/tools/import", R"({"swagger":"2.0"})").status, 400);
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

INSTANTIATE_TEST_SUITE_P(Backends, ToolsApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

// http tools against a real upstream on loopback: refused by default, allowed by allowlist.
class HttpToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_ = std::make_unique<core::testing::TestServer>([](core::Router& r) {
      r.add(boost::beast::http::verb::get, "/items/{id}",
            [](core::Request& req,
               core::RequestContext& ctx) -> boost::asio::awaitable<core::Response> {
              co_return core::json_response(boost::beast::http::status::ok,
                                            json::object{{"id", ctx.param("id")},
                                                         {"target", req.target()},
                                                         {"auth", req["Authorization"]}});
            });
    });
  }
  std::string definition() const {
    return R"({"name":"item","kind":"http","parameters":{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]},
      "http":{"method":"GET","url":"http://127.0.0.1:)" +
           std::to_string(upstream_->port()) +
           R"(/items/{id}","headers":{"Authorization":"Bearer upstream-secret"}}})";
  }
  std::unique_ptr<core::testing::TestServer> upstream_;
};

TEST_F(HttpToolTest, LoopbackIsRefusedUnlessAllowlisted) {
  ToolsFixture closed(Backend::kSqlite);
  ASSERT_EQ(closed.call("POST", "/api/tools", definition()).status, 201);
  auto refused = closed.call("POST", "/api/tools/item/invoke", R"({"arguments":{"id":"7"}})");
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.body.at("error").at("code"), "egress_refused");
  // The refusal says the destination is not allowed, never what it resolves to.
  EXPECT_EQ(refused.raw.find("loopback"), std::string::npos) << refused.raw;

  ToolsFixture open(Backend::kSqlite, "127.0.0.1/32");
  ASSERT_EQ(open.call("POST", "/api/tools", definition()).status, 201);
  auto ok = open.call("POST", "/api/tools/item/invoke", R"({"arguments":{"id":"7"}})");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body.at("result").at("id"), "7");
  EXPECT_EQ(ok.body.at("result").at("auth"), "Bearer upstream-secret");
  // An argument cannot change the path structure.
  auto sneaky =
      open.call("POST", "/api/tools/item/invoke", R"({"arguments":{"id":"../admin?x=1"}})");
  ASSERT_EQ(sneaky.status, 200) << sneaky.raw;
  EXPECT_EQ(sneaky.body.at("result").at("target"), "/items/..%2Fadmin%3Fx%3D1");
  // Credentials are write-only: never shown, not in the audit, and kept by a PUT that echoes "***".
  auto audit = open.call("GET", "/api/tools/item/invocations");
  EXPECT_EQ(audit.raw.find("upstream-secret"), std::string::npos);
  auto shown = open.call("GET", "/api/tools/item");
  EXPECT_EQ(shown.raw.find("upstream-secret"), std::string::npos);
  EXPECT_EQ(shown.body.at("http").at("headers").at("Authorization"), "***");
  auto echoed = shown.body.as_object();
  for (const char* k : {"builtin", "owner", "created_at", "updated_at"}) echoed.erase(k);
  echoed["description"] = "edited";
  ASSERT_EQ(open.call("PUT", "/api/tools/item", json::serialize(echoed)).status, 200);
  auto after = open.call("POST", "/api/tools/item/invoke", R"({"arguments":{"id":"8"}})");
  ASSERT_EQ(after.status, 200) << after.raw;
  EXPECT_EQ(after.body.at("result").at("auth"), "Bearer upstream-secret");
}

}  // namespace
}  // namespace enkisys::tools::testing
