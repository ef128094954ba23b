// The ownership model (access.hpp) through the API, on both backends: who sees, changes,
// deletes and invokes which tool, secrets that never follow a new origin, the change history,
// the masking rule, identity from the gateway's headers and the migration of ownerless rows.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>

#include "backends.hpp"
#include "enkisys/db/migrate.hpp"
#include "enkisys/tools/builtins.hpp"

namespace enkisys::tools::testing {
namespace {

namespace json = boost::json;
using db::Backend;

// An upstream that answers with the credential header it received, and remembers it.
class Upstream {
 public:
  Upstream()
      : server_([this](core::Router& r) {
          r.add(boost::beast::http::verb::get, "/{any}",
                [this](core::Request& req,
                       core::RequestContext&) -> boost::asio::awaitable<core::Response> {
                  const std::string key(req["X-Api-Key"]);
                  {
                    std::lock_guard lock(mu_);
                    seen_.push_back(key);
                  }
                  co_return core::json_response(boost::beast::http::status::ok,
                                                json::object{{"key", key}});
                });
        }) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/x"; }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
  core::testing::TestServer server_;
};

std::string http_tool(const std::string& name, const std::string& url,
                      const std::string& headers = R"({"X-Api-Key":"secret-of-a"})",
                      const std::string& extra = "") {
  return R"({"name":")" + name + R"(","kind":"http",)" + extra +
         R"("http":{"method":"GET","url":")" + url + R"(","headers":)" + headers + "}}";
}

class OwnershipTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<ToolsFixture>(GetParam(), "127.0.0.1/32");
  }
  std::vector<std::string> names(const Reply& list) {
    std::vector<std::string> out;
    for (const auto& t : list.body.at("tools").as_array())
      out.emplace_back(t.at("name").as_string());
    return out;
  }
  std::unique_ptr<ToolsFixture> fx_;
  Upstream a_server_, b_server_;
};

TEST_P(OwnershipTest, AnotherUserCannotRepointATool_TheReportedAttack) {
  ASSERT_EQ(fx_->as("a", "POST", "/api/tools", http_tool("mine", a_server_.url())).status, 201);
  // B tries to re-point A's tool at B's server, keeping the secret with "***".
  const std::string repointed = http_tool("mine", b_server_.url(), R"({"X-Api-Key":"***"})");
  EXPECT_EQ(fx_->as("b", "PUT", "/api/tools/mine", repointed).status, 404);
  EXPECT_EQ(fx_->as("b", "POST", "/api/tools/mine/invoke", R"({"arguments":{}})").status, 404);
  EXPECT_EQ(fx_->as("b", "GET", "/api/tools/mine").status, 404);
  EXPECT_EQ(fx_->as("b", "DELETE", "/api/tools/mine").status, 404);
  EXPECT_EQ(fx_->as("b", "GET", "/api/tools/mine/invocations").status, 404);
  EXPECT_EQ(fx_->as("b", "GET", "/api/tools/mine/history").status, 404);
  EXPECT_TRUE(b_server_.seen().empty());
  // Even the owner cannot carry the stored secret to another origin with "***".
  auto moved = fx_->as("a", "PUT", "/api/tools/mine", repointed);
  EXPECT_EQ(moved.status, 422) << moved.raw;
  EXPECT_EQ(moved.body.at("error").at("code"), "secret_required");
  EXPECT_EQ(moved.body.at("error").at("path"), "/http/headers/X-Api-Key");
  // ... nor under another header name.
  auto renamed = fx_->as("a", "PUT", "/api/tools/mine",
                         http_tool("mine", a_server_.url(), R"({"X-Key":"***"})"));
  EXPECT_EQ(renamed.status, 422) << renamed.raw;
  EXPECT_EQ(renamed.body.at("error").at("path"), "/http/headers/X-Key");
  EXPECT_EQ(fx_->as("b", "POST", "/api/tools/mine/invoke", R"({"arguments":{}})").status, 404);
  EXPECT_TRUE(b_server_.seen().empty());
  // The tool is unchanged: A's invocation still reaches A's server with A's secret.
  auto ok = fx_->as("a", "POST", "/api/tools/mine/invoke", R"({"arguments":{}})");
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(a_server_.seen(), std::vector<std::string>{"secret-of-a"});
  // With the secret supplied again, the owner may move it.
  ASSERT_EQ(fx_->as("a", "PUT", "/api/tools/mine",
                    http_tool("mine", b_server_.url(), R"({"X-Api-Key":"new"})"))
                .status,
            200);
}

TEST_P(OwnershipTest, UsersSeeBuiltinsStageToolsAndTheirOwn) {
  ASSERT_EQ(fx_->as("a", "POST", "/api/tools", http_tool("a_tool", a_server_.url())).status, 201);
  ASSERT_EQ(fx_->as("b", "POST", "/api/tools", http_tool("b_tool", b_server_.url())).status, 201);
  ASSERT_EQ(fx_->as("root", "POST", "/api/tools",
                    http_tool("shared", a_server_.url(), "{}", R"("scope":"stage",)"), "admin")
                .status,
            201);
  const std::vector<std::string> builtins{"calculator", "current_time", "http_get"};
  auto expect = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), builtins.begin(), builtins.end());
    std::sort(extra.begin(), extra.end());
    return extra;
  };
  EXPECT_EQ(names(fx_->as("a", "GET", "/api/tools")), expect({"a_tool", "shared"}));
  EXPECT_EQ(names(fx_->as("b", "GET", "/api/tools")), expect({"b_tool", "shared"}));
  EXPECT_EQ(names(fx_->as("root", "GET", "/api/tools", "", "user,admin")),
            expect({"a_tool", "b_tool", "shared"}));
  // The OpenAI format follows the same rules.
  auto openai = fx_->as("b", "GET", "/api/tools?format=openai");
  std::vector<std::string> fn;
  for (const auto& t : openai.body.as_array())
    fn.emplace_back(t.at("function").at("name").as_string());
  EXPECT_EQ(fn, expect({"b_tool", "shared"}));
  // Admins filter by owner; users cannot list another user's tools.
  EXPECT_EQ(names(fx_->as("root", "GET", "/api/tools?owner=a", "", "admin")),
            std::vector<std::string>{"a_tool"});
  EXPECT_EQ(fx_->as("b", "GET", "/api/tools?owner=a").status, 403);
  EXPECT_EQ(names(fx_->as("b", "GET", "/api/tools?owner=b")), std::vector<std::string>{"b_tool"});
  // Owner and scope are shown; a name clash on create is the only hint another tool exists.
  auto got = fx_->as("a", "GET", "/api/tools/a_tool");
  EXPECT_EQ(got.body.at("owner"), "a");
  EXPECT_EQ(got.body.at("scope"), "user");
  EXPECT_EQ(fx_->as("a", "GET", "/api/tools/shared").body.at("scope"), "stage");
  EXPECT_TRUE(fx_->as("a", "GET", "/api/tools/shared").body.at("owner").is_null());
  EXPECT_EQ(fx_->as("b", "POST", "/api/tools", http_tool("a_tool", b_server_.url())).status, 409);
}

TEST_P(OwnershipTest, OnlyAdminsChangeStageWideTools) {
  EXPECT_EQ(fx_->as("a", "POST", "/api/tools",
                    http_tool("shared", a_server_.url(), "{}", R"("scope":"stage",)"))
                .status,
            403);
  ASSERT_EQ(fx_->as("root", "POST", "/api/tools",
                    http_tool("shared", a_server_.url(), R"({"X-Api-Key":"stage-key"})",
                              R"("scope":"stage",)"),
                    "admin")
                .status,
            201);
  // Every user invokes it; nobody but admins changes or deletes it.
  auto inv = fx_->as("a", "POST", "/api/tools/shared/invoke", R"({"arguments":{}})");
  ASSERT_EQ(inv.status, 200) << inv.raw;
  EXPECT_EQ(fx_->as("a", "PUT", "/api/tools/shared", http_tool("shared", a_server_.url())).status,
            403);
  EXPECT_EQ(fx_->as("a", "DELETE", "/api/tools/shared").status, 403);
  EXPECT_EQ(fx_->as("a", "GET", "/api/tools/shared/history").status, 403);
  // A user cannot turn their own tool into a stage-wide one either.
  ASSERT_EQ(fx_->as("a", "POST", "/api/tools", http_tool("own", a_server_.url())).status, 201);
  EXPECT_EQ(
      fx_->as("a", "PUT", "/api/tools/own",
              http_tool("own", a_server_.url(), R"({"X-Api-Key":"***"})", R"("scope":"stage",)"))
          .status,
      403);
  // Admins change anyone's tool and delete stage-wide ones; built-ins stay read-only.
  auto edited = fx_->as(
      "root", "PUT", "/api/tools/own",
      http_tool("own", a_server_.url(), R"({"X-Api-Key":"***"})", R"("description":"by admin",)"),
      "admin");
  ASSERT_EQ(edited.status, 200) << edited.raw;
  EXPECT_EQ(edited.body.at("owner"), "a");
  EXPECT_EQ(fx_->as("root", "DELETE", "/api/tools/shared", "", "admin").status, 204);
  EXPECT_EQ(fx_->as("root", "DELETE", "/api/tools/calculator", "", "admin").status, 409);
  EXPECT_EQ(fx_->as("a", "DELETE", "/api/tools/calculator").status, 409);
}

TEST_P(OwnershipTest, EveryApiRouteNeedsAnIdentity) {
  ASSERT_EQ(fx_->as("a", "POST", "/api/tools", http_tool("t", a_server_.url())).status, 201);
  const std::vector<std::pair<std::string, std::string>> routes{
      {"GET", "/api/tools"},           {"POST", "/api/tools"},
      {"POST", "/api/tools/import"},   {"GET", "/api/tools/t"},
      {"PUT", "/api/tools/t"},         {"DELETE", "/api/tools/t"},
      {"POST", "/api/tools/t/invoke"}, {"GET", "/api/tools/t/invocations"},
      {"GET", "/api/tools/t/history"}};
  for (const auto& [method, target] : routes) {
    auto r = fx_->anonymous(method, target, "{}");
    EXPECT_EQ(r.status, 401) << method << " " << target << "\n" << r.raw;
    EXPECT_EQ(r.body.at("error").at("code"), "unauthenticated");
  }
  EXPECT_EQ(fx_->as("a", "GET", "/api/tools/t").status, 200);  // nothing was changed
  auto bad = fx_->call("GET", "/api/tools", "", "X-User-Id: bad\xff\r\n");
  EXPECT_EQ(bad.status, 400) << bad.raw;
}

TEST_P(OwnershipTest, HistoryShowsWhoChangedWhatButNoSecret) {
  ASSERT_EQ(fx_->as("a", "POST", "/api/tools", http_tool("h", a_server_.url())).status, 201);
  ASSERT_EQ(fx_->as("a", "PUT", "/api/tools/h",
                    http_tool("h", a_server_.url(), R"({"X-Api-Key":"rotated-secret"})",
                              R"("description":"v2",)"))
                .status,
            200);
  ASSERT_EQ(
      fx_->as("root", "PUT", "/api/tools/h",
              http_tool("h", a_server_.url(), R"({"X-Api-Key":"***"})", R"("description":"v3",)"),
              "admin")
          .status,
      200);
  auto h = fx_->as("a", "GET", "/api/tools/h/history");
  ASSERT_EQ(h.status, 200) << h.raw;
  const auto& items = h.body.at("items").as_array();
  ASSERT_EQ(items.size(), 3U);
  EXPECT_EQ(items[0].at("actor"), "root");
  EXPECT_EQ(items[0].at("action"), "update");
  EXPECT_EQ(items[0].at("fields"), json::parse(R"(["description"])"));
  EXPECT_EQ(items[1].at("actor"), "a");
  EXPECT_EQ(items[1].at("fields"), json::parse(R"(["description","http.headers.X-Api-Key"])"));
  EXPECT_EQ(items[2].at("action"), "create");
  EXPECT_TRUE(items[2].at("created_at").is_string());
  EXPECT_EQ(h.raw.find("secret"), std::string::npos) << h.raw;
  EXPECT_EQ(fx_->as("b", "GET", "/api/tools/h/history").status, 404);
  // After a delete, admins still read it; a new owner of the name sees only their tool's life.
  ASSERT_EQ(fx_->as("a", "DELETE", "/api/tools/h").status, 204);
  auto gone = fx_->as("root", "GET", "/api/tools/h/history", "", "admin");
  ASSERT_EQ(gone.status, 200);
  EXPECT_EQ(gone.body.at("items").as_array().at(0).at("action"), "delete");
  ASSERT_EQ(fx_->as("b", "POST", "/api/tools", http_tool("h", b_server_.url())).status, 201);
  auto fresh = fx_->as("b", "GET", "/api/tools/h/history");
  ASSERT_EQ(fresh.body.at("items").as_array().size(), 1U);
  EXPECT_EQ(fresh.body.at("items").as_array().at(0).at("actor"), "b");
  EXPECT_EQ(fx_->as("root", "GET", "/api/tools/never/history", "", "admin").status, 404);
}

TEST_P(OwnershipTest, EveryHeaderValueIsMaskedButPublicOnes) {
  const std::string headers =
      R"({"X-Credential":"cred-value-1","X-Signature":"sig-value-1","X-Custom":"v",
    "Accept":"application/json","User-Agent":"enkisys","Content-Type":"application/json"})";
  auto c = fx_->as("a", "POST", "/api/tools", http_tool("m", a_server_.url(), headers));
  ASSERT_EQ(c.status, 201) << c.raw;
  for (const auto& r :
       {c, fx_->as("a", "GET", "/api/tools/m"), fx_->as("a", "GET", "/api/tools")}) {
    EXPECT_EQ(r.raw.find("cred-value-1"), std::string::npos);
    EXPECT_EQ(r.raw.find("sig-value-1"), std::string::npos);
  }
  const Reply got = fx_->as("a", "GET", "/api/tools/m");
  const auto& shown = got.body.at("http").at("headers");
  EXPECT_EQ(shown.at("X-Credential"), "***");
  EXPECT_EQ(shown.at("X-Signature"), "***");
  EXPECT_EQ(shown.at("X-Custom"), "***");
  EXPECT_EQ(shown.at("Accept"), "application/json");
  EXPECT_EQ(shown.at("User-Agent"), "enkisys");
  EXPECT_EQ(shown.at("Content-Type"), "application/json");
}

TEST_P(OwnershipTest, AnswersAreValidUtf8WhateverTheInput) {
  // Boost.JSON refuses invalid UTF-8, so a parsed body proves the answer is valid.
  for (const std::string e : {"\uFF11+\uFF11", "\u03C0*2", "1+\U0001F600", "\u00BD", "1\u00A0+1"}) {
    auto r = fx_->as("a", "POST", "/api/tools/calculator/invoke",
                     R"({"arguments":{"expression":")" + e + "\"}}");
    EXPECT_EQ(r.status, 422) << e;
    ASSERT_TRUE(r.body.is_object()) << r.raw;
  }
  auto zone = fx_->as("a", "POST", "/api/tools/current_time/invoke",
                      R"({"arguments":{"timezone":"Europe/M\u00E4drid\uFF11"}})");
  EXPECT_EQ(zone.status, 422);
  EXPECT_TRUE(zone.body.is_object()) << zone.raw;
  auto named = fx_->as("a", "POST", "/api/tools",
                       R"({"name":"caf\u00E9","kind":"builtin","description":"\uD83D\uDE00"})");
  EXPECT_EQ(named.status, 400);
  EXPECT_TRUE(named.body.is_object()) << named.raw;
}

TEST_P(OwnershipTest, RowsWithoutOwnerBecomeStageWide) {
  // A database as the service left it before owners existed: migration 1 and one tool.
  db::testing::TestStore old_store(GetParam());
  auto database = old_store.open();
  const std::string v1 =
      "CREATE TABLE tools (name TEXT PRIMARY KEY, kind TEXT NOT NULL, definition TEXT NOT NULL, "
      "builtin BIGINT NOT NULL DEFAULT 0, etag TEXT NOT NULL, created_at TEXT NOT NULL, "
      "updated_at TEXT NOT NULL)";
  const std::vector<db::Migration> before{{1, "tools and invocation audit", v1, v1}};
  db::migrate(*database, before);
  database->query(
      "INSERT INTO tools (name, kind, definition, builtin, etag, created_at, updated_at) VALUES "
      "('legacy', 'http', $1, 0, 'e1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
      {json::serialize(json::parse(http_tool("legacy", "https://api.example.com/x", "{}")))});

  ToolStore store(*database);
  store.migrate(builtin_tool_definitions());
  auto legacy = store.get("legacy");
  ASSERT_NE(legacy, nullptr);
  EXPECT_EQ(legacy->scope(), "stage");
  EXPECT_TRUE(can_see(*legacy, Actor{"anyone", false}));
  auto refused = store.remove("legacy", Actor{"anyone", false});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, core::ErrorKind::kPermissionDenied);
  EXPECT_TRUE(store.remove("legacy", Actor{"root", true}).ok());
}

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

INSTANTIATE_TEST_SUITE_P(Backends, OwnershipTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), backend_name);

}  // namespace
}  // namespace enkisys::tools::testing
