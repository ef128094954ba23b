// The web widget channel in process over both backends: the script, CORS only for the site's
// origins, sessions, messages and replies through the relay, one visitor never seeing another's
// messages, rate limits per visitor and per site.
#include "enkisys/router/web.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "db_fixture.hpp"
#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/fakes.hpp"
#include "enkisys/router/relay.hpp"

namespace enkisys::router {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using core::testing::JsonReply;
using db::testing::DbTest;

constexpr const char* kSite = "pk_site_one";
constexpr const char* kOrigin = "https://shop.example";

class WebTest : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (IsSkipped()) return;
    store_ = std::make_unique<RouterStore>(*db_, "web-test");
    store_->migrate();
    config_.web_sites[kSite] = {kOrigin, "http://localhost:3000"};
    config_.web_sites["pk_site_two"] = {"https://other.example"};
    config_.agent_url = "http://agent";
    http_.respond("http://agent/api/chat/conversations/conv_1/messages", 200,
                  R"({"message":{"role":"assistant","content":"Hi <b>visitor</b>."}})");
    http_.respond("http://agent/api/chat/conversations", 201, R"({"id":"conv_1"})");
    start({});
  }
  void TearDown() override {
    server_.reset();
    web_.reset();
    DbTest::TearDown();
  }
  void start(WebOptions o) {
    server_.reset();
    web_ = std::make_unique<WebApi>(*store_, config_, clock_, o);
    server_ = std::make_unique<core::testing::TestServer>(
        [this](core::Router& r) { web_->add_routes(r); });
  }
  JsonReply call(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& headers) {
    return core::testing::json_reply(
        core::testing::http_request(server_->port(), method, target, body, headers));
  }
  std::string session(const std::string& site = kSite, const std::string& origin = kOrigin) {
    const JsonReply r =
        call("POST", "/channels/web/" + site + "/sessions", "", "Origin: " + origin + "\r\n");
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.status == 201 ? std::string(r.body.at("token").as_string()) : "";
  }
  JsonReply post(const std::string& token, const std::string& text,
                 const std::string& site = kSite) {
    return call("POST", "/channels/web/" + site + "/messages",
                json::serialize(json::object{{"text", text}}),
                "Origin: " + std::string(kOrigin) + "\r\nAuthorization: Bearer " + token + "\r\n");
  }
  JsonReply list(const std::string& token, std::int64_t after = 0,
                 const std::string& site = kSite) {
    return call("GET", "/channels/web/" + site + "/messages?after=" + std::to_string(after), "",
                "Origin: " + std::string(kOrigin) + "\r\nAuthorization: Bearer " + token + "\r\n");
  }
  bool relay_once() {
    Relay relay(*store_, config_, http_, clock_, log_, metrics_, pool_);
    asio::io_context ioc;
    auto f = asio::co_spawn(ioc, relay.inbox_once(), asio::use_future);
    ioc.run();
    return f.get();
  }

  std::unique_ptr<RouterStore> store_;
  RouterConfig config_;
  core::testing::FakeClock clock_;
  core::testing::FakeHttpClient http_;
  core::Logger log_{"web-test", core::LogLevel::kError};
  core::MetricsRegistry metrics_;
  asio::thread_pool pool_{2};
  std::unique_ptr<WebApi> web_;
  std::unique_ptr<core::testing::TestServer> server_;
};

TEST_P(WebTest, WidgetIsAScriptThatBuildsItsOwnShadowDom) {
  const std::string raw =
      core::testing::http_request(server_->port(), "GET", "/channels/web/widget.js");
  EXPECT_EQ(core::testing::status_of(raw), 200);
  const JsonReply r = core::testing::json_reply(raw);
  EXPECT_EQ(r.header("Content-Type").rfind("application/javascript", 0), 0u);
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  const std::string js = core::testing::body_of(raw);
  EXPECT_NE(js.find("attachShadow"), std::string::npos);
  EXPECT_NE(js.find("data-site"), std::string::npos);
  EXPECT_EQ(js.find("innerHTML"), std::string::npos);  // text only, never HTML
}

TEST_P(WebTest, CorsOnlyForTheSitesOrigins) {
  const std::string pre = "OPTIONS /channels/web/" + std::string(kSite) +
                          "/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          "Access-Control-Request-Method: POST\r\nOrigin: ";
  const JsonReply ok = core::testing::json_reply(
      core::testing::raw_exchange(server_->port(), pre + kOrigin + "\r\n\r\n"));
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(ok.header("Access-Control-Allow-Origin"), kOrigin);
  EXPECT_NE(ok.header("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  const JsonReply evil = core::testing::json_reply(
      core::testing::raw_exchange(server_->port(), pre + "https://evil.example\r\n\r\n"));
  EXPECT_EQ(evil.status, 403);
  EXPECT_EQ(evil.header("Access-Control-Allow-Origin"), "");
  // The other site's origin is not this site's.
  const JsonReply s = call("POST", "/channels/web/" + std::string(kSite) + "/sessions", "",
                           "Origin: https://other.example\r\n");
  EXPECT_EQ(s.status, 403);
  EXPECT_EQ(s.body.at("error").at("code"), "origin_not_allowed");
  EXPECT_EQ(call("POST", "/channels/web/" + std::string(kSite) + "/sessions", "", "").status,
            403);  // no Origin at all
  EXPECT_EQ(call("POST", "/channels/web/pk_unknown_site/sessions", "",
                 "Origin: " + std::string(kOrigin) + "\r\n")
                .status,
            404);
}

TEST_P(WebTest, AVisitorTalksToTheAgentAndReadsTheReply) {
  const std::string token = session();
  const JsonReply sent = post(token, "hello <script>alert(1)</script>");
  ASSERT_EQ(sent.status, 202) << sent.raw;
  EXPECT_EQ(sent.header("Access-Control-Allow-Origin"), kOrigin);
  ASSERT_TRUE(relay_once());
  const auto reqs = http_.requests();
  ASSERT_EQ(reqs.size(), 2u);  // no typing indicator on the web
  const JsonReply r = list(token);
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& lines = r.body.at("messages").as_array();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("role"), "user");
  EXPECT_EQ(lines[0].at("text"), "hello <script>alert(1)</script>");  // data, as sent
  EXPECT_EQ(lines[1].at("role"), "assistant");
  EXPECT_EQ(lines[1].at("text"), "Hi <b>visitor</b>.");
  // Nothing new after the cursor; the reply is not left in the outbox for a sender.
  EXPECT_TRUE(list(token, r.body.at("after").as_int64()).body.at("messages").as_array().empty());
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM router_outbox WHERE status <> 'sent'").one().i64(0),
            0);
}

TEST_P(WebTest, AVisitorNeverSeesAnotherVisitorsMessages) {
  const std::string alice = session();
  const std::string bob = session();
  ASSERT_EQ(post(alice, "alice's secret").status, 202);
  ASSERT_EQ(post(bob, "bob's question").status, 202);
  const JsonReply bobs = list(bob);
  const auto& mine = bobs.body.at("messages").as_array();
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].at("text"), "bob's question");
  EXPECT_EQ(list("").status, 401);
  EXPECT_EQ(list("forged-token").status, 401);
  EXPECT_EQ(post("forged-token", "x").status, 401);
  // A token of one site is nothing on another.
  const JsonReply other =
      call("GET", "/channels/web/pk_site_two/messages", "",
           "Origin: https://other.example\r\nAuthorization: Bearer " + alice + "\r\n");
  EXPECT_EQ(other.status, 401);
  EXPECT_EQ(count("router_web_visitors"), 2);
  EXPECT_EQ(db_->query("SELECT COUNT(*) FROM router_web_visitors WHERE token_hash = $1", {alice})
                .one()
                .i64(0),
            0);  // the token itself is never stored
}

TEST_P(WebTest, TheWidgetsSimpleRequestsCarryTheTokenInTheBody) {
  // text/plain JSON bodies and no Authorization header: no CORS preflight in a browser.
  const std::string simple = "Origin: " + std::string(kOrigin) + "\r\n";
  const auto raw = [&](const std::string& target, const std::string& body) {
    return core::testing::json_reply(core::testing::raw_exchange(
        server_->port(), "POST " + target +
                             " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                             "text/plain;charset=UTF-8\r\n" +
                             simple + "Content-Length: " + std::to_string(body.size()) +
                             "\r\n\r\n" + body));
  };
  const std::string site = "/channels/web/" + std::string(kSite);
  const JsonReply s = raw(site + "/sessions", "{}");
  ASSERT_EQ(s.status, 201) << s.raw;
  const std::string token(s.body.at("token").as_string());
  const JsonReply m = raw(site + "/messages",
                          json::serialize(json::object{{"token", token}, {"text", "simple hi"}}));
  EXPECT_EQ(m.status, 202) << m.raw;
  ASSERT_TRUE(relay_once());
  const JsonReply p = raw(site + "/poll", json::serialize(json::object{{"token", token}}));
  ASSERT_EQ(p.status, 200) << p.raw;
  EXPECT_EQ(p.header("Access-Control-Allow-Origin"), kOrigin);
  EXPECT_EQ(p.body.at("messages").as_array().size(), 2u);
  const std::int64_t after = p.body.at("after").as_int64();
  EXPECT_TRUE(raw(site + "/poll", json::serialize(json::object{{"token", token}, {"after", after}}))
                  .body.at("messages")
                  .as_array()
                  .empty());
  // Another visitor's token polls its own, empty chat; a made-up token nothing.
  const std::string other(raw(site + "/sessions", "").body.at("token").as_string());
  EXPECT_TRUE(raw(site + "/poll", json::serialize(json::object{{"token", other}}))
                  .body.at("messages")
                  .as_array()
                  .empty());
  EXPECT_EQ(raw(site + "/poll", R"({"token":"made-up"})").status, 401);
  EXPECT_EQ(raw(site + "/poll", "{}").status, 401);
  EXPECT_EQ(raw(site + "/poll", "not json").status, 400);
}

TEST_P(WebTest, RateLimitsPerVisitorAndPerSite) {
  WebOptions o;
  o.visitor_per_min = 3;
  o.site_per_min = 6;
  start(o);
  const std::string a = session();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(post(a, "m" + std::to_string(i)).status, 202);
  const JsonReply limited = post(a, "one too many");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body.at("error").at("code"), "rate_limited");
  EXPECT_FALSE(limited.header("Retry-After").empty());
  EXPECT_EQ(limited.header("Access-Control-Allow-Origin"), kOrigin);  // the page can read it
  const std::string b = session();
  EXPECT_EQ(post(b, "b1").status, 202);  // sessions a, b + 3 + this = 6 for the site
  EXPECT_EQ(post(b, "b2").status, 429);  // the site's minute is spent
  clock_.advance(std::chrono::minutes(1));
  EXPECT_EQ(post(b, "next minute").status, 202);
  EXPECT_EQ(post(a, std::string(5000, 'x')).status, 413);
}

TEST_P(WebTest, OffWithoutSites) {
  config_.web_sites.clear();
  start({});
  EXPECT_EQ(core::testing::status_of(
                core::testing::http_request(server_->port(), "GET", "/channels/web/widget.js")),
            404);
}

ENKISYS_DB_ON_BOTH_BACKENDS(WebTest);

}  // namespace
}  // namespace enkisys::router
