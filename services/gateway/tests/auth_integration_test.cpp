// The gateway against the real auth service (in process, SQLite): tokens issued by auth are
// accepted through the JWKS, the upstream sees the identity; foreign and expired tokens are not.
#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/json.hpp>

#include "backends.hpp"
#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using enkisys::auth::testing::AuthFixture;

std::string gateway_config(const AuthFixture& auth, const FakeUpstream& up) {
  return replace_all(replace_all(R"(
jwt:
  jwks_url: "http://127.0.0.1:{AUTH}/api/auth/.well-known/jwks.json"
  issuer: enkisys-auth
  audience: enkisys
  leeway_s: 30
stages:
  dev:
    routes:
      - {prefix: /api/tools, upstream: "{UP}", jwt: true}
)",
                                 "{AUTH}", std::to_string(auth.port())),
                     "{UP}", up.url());
}

std::string access_token(AuthFixture& auth, const std::string& email) {
  auto r = auth.user_session(email);
  EXPECT_EQ(r.status, 200) << r.raw;
  return std::string(r.body.at("access_token").as_string());
}

std::string error_message(const StringResponse& r) {
  return std::string(json::parse(r.body()).at("error").at("message").as_string());
}

class AuthIntegrationTest : public ::testing::Test {
 protected:
  AuthFixture auth_{db::Backend::kSqlite};
  FakeUpstream up_;
  Gateway gw_{gateway_config(auth_, up_), 1, &auth_.clock()};
};

TEST_F(AuthIntegrationTest, TokenFromAuthIsAcceptedAndTheUpstreamSeesTheUser) {
  const std::string token = access_token(auth_, "alice@example.com");
  const std::string id =
      std::string(auth_.call_as(token, "GET", "/api/auth/me").body.at("id").as_string());
  ASSERT_FALSE(id.empty());
  auto r = get(gw_.port(), "/dev/api/tools/list",
               {{"Authorization", "Bearer " + token},
                {"X-User-Id", "forged-admin"},
                {"X-User-Roles", "admin"}});
  ASSERT_EQ(r.result_int(), 200) << r.body();
  const auto headers = json::parse(r.body()).at("headers").as_object();
  EXPECT_EQ(headers.at("x-user-id").as_string(), id);
  EXPECT_EQ(headers.at("x-user-roles"), "user");
  EXPECT_EQ(up_.requests(), 1);
  // Without a token the route refuses.
  EXPECT_EQ(get(gw_.port(), "/dev/api/tools/list").result_int(), 401);
}

TEST_F(AuthIntegrationTest, TokenSignedByAnotherAuthInstanceIsRefused) {
  AuthFixture other(db::Backend::kSqlite);  // another stage: its own signing key
  const std::string foreign = access_token(other, "mallory@example.com");
  ASSERT_EQ(other.call_as(foreign, "GET", "/api/auth/me").status, 200);  // valid over there
  auto r = get(gw_.port(), "/dev/api/tools/list", {{"Authorization", "Bearer " + foreign}});
  EXPECT_EQ(r.result_int(), 401) << r.body();
  EXPECT_EQ(error_message(r), "unknown_key");
  EXPECT_EQ(up_.requests(), 0);
  // The gateway's own auth instance still works.
  EXPECT_EQ(get(gw_.port(), "/dev/api/tools/list",
                {{"Authorization", "Bearer " + access_token(auth_, "bob@example.com")}})
                .result_int(),
            200);
}

TEST_F(AuthIntegrationTest, ExpiredTokenIsRefusedAlsoOnAKeptAliveConnection) {
  const std::string token = access_token(auth_, "carol@example.com");
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::seconds(10));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw_.port()));
  beast::flat_buffer buf;
  auto send = [&] {
    http::request<http::empty_body> req{http::verb::get, "/dev/api/tools/x", 11};
    req.set(http::field::host, "gw.test");
    req.set(http::field::authorization, "Bearer " + token);
    http::write(s, req);
    StringResponse res;
    http::read(s, buf, res);
    return res;
  };
  ASSERT_EQ(send().result_int(), 200);
  ASSERT_EQ(send().result_int(), 200);  // the connection's memo of the token
  // Access tokens live 900 s; the gateway allows 30 s of leeway.
  auth_.clock().advance(std::chrono::seconds(900 + 31));
  auto expired = send();
  EXPECT_EQ(expired.result_int(), 401) << expired.body();
  EXPECT_EQ(error_message(expired), "token_expired");
  // And on a fresh connection too (the shared verification cache).
  auto fresh = get(gw_.port(), "/dev/api/tools/x", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(fresh.result_int(), 401);
  EXPECT_EQ(error_message(fresh), "token_expired");
}

// Two stages, each with its own real auth service: the edge verifies each stage's tokens with
// that stage's keys (jwks_url substituted per stage), so a token is good in its stage only.
TEST(PerStageAuthTest, EachStageAcceptsOnlyItsOwnAuthsTokens) {
  AuthFixture dev1(db::Backend::kSqlite);
  AuthFixture prod(db::Backend::kSqlite);
  FakeUpstream up;
  const std::string yaml = replace_all(replace_all(replace_all(R"(
jwt:
  jwks_url: "http://127.0.0.1:${auth_port}/api/auth/.well-known/jwks.json"
  issuer: enkisys-auth
  audience: enkisys
routes:
  - {prefix: /api/tools, upstream: "{UP}", jwt: true}
stages:
  dev1: {variables: {auth_port: "{DEV1}"}}
  prod: {variables: {auth_port: "{PROD}"}}
)",
                                                               "{UP}", up.url()),
                                                   "{DEV1}", std::to_string(dev1.port())),
                                       "{PROD}", std::to_string(prod.port()));
  Gateway gw(yaml, 1, &dev1.clock());  // both fixtures start at the same instant
  const std::string dev1_token = access_token(dev1, "dana@example.com");
  const std::string prod_token = access_token(prod, "pat@example.com");
  auto call = [&](const std::string& stage, const std::string& token) {
    return get(gw.port(), "/" + stage + "/api/tools/list", {{"Authorization", "Bearer " + token}});
  };
  EXPECT_EQ(call("dev1", dev1_token).result_int(), 200);
  EXPECT_EQ(call("prod", prod_token).result_int(), 200);
  auto crossed = call("prod", dev1_token);
  EXPECT_EQ(crossed.result_int(), 401) << crossed.body();
  EXPECT_EQ(error_message(crossed), "unknown_key");
  EXPECT_EQ(call("dev1", prod_token).result_int(), 401);
  EXPECT_EQ(up.requests(), 2);
}

}  // namespace
}  // namespace enkisys::gateway
