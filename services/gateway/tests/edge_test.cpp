// Edge security through a running gateway: JWT, rate limits, CORS, maintenance pause.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "enkisys/security/jwks.hpp"
#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;

std::string config(const FakeUpstream& up, const std::string& secret) {
  return replace_all(replace_all(R"(
jwt: {hs256_secret_file: "SECRET", issuer: test, leeway_s: 0}
rate_limits:
  tight_ip: {per: ip, rate_per_s: 0.001, burst: 3}
  tight_key: {per: api_key, rate_per_s: 0.001, burst: 2}
cors:
  web: {origins: ["https://app.example"], credentials: true, max_age_s: 123}
stages:
  dev:
    cors: web
    routes:
      - {prefix: /api/tools, upstream: "{UP}", jwt: true}
      - {prefix: /api/limited, upstream: "{UP}", rate_limit: tight_ip}
      - {prefix: /api/keyed, upstream: "{UP}", rate_limit: tight_key}
      - {prefix: /, upstream: "{UP}"}
)",
                                 "{UP}", up.url()),
                     "SECRET", secret);
}

std::string hdr(const StringResponse& r, const char* name) {
  const boost::json::value v = boost::json::parse(r.body());
  const auto* h = v.at("headers").as_object().if_contains(name);
  return h ? std::string(h->as_string()) : std::string("<absent>");
}

TEST(JwtTest, MissingOrInvalidTokensAre401) {
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(config(up, secret));
  auto none = get(gw.port(), "/dev/api/tools");
  EXPECT_EQ(none.result_int(), 401);
  EXPECT_NE(none[http::field::www_authenticate].find("Bearer"), std::string::npos);
  EXPECT_NE(none.body().find("\"code\":\"unauthorized\""), std::string::npos);
  const auto other = write_secret_file();
  std::ofstream(other) << "another-secret-that-is-long-enough-1234567890";
  for (const std::string& tok : {hs256_token(secret, "u1", {}, -100),          // expired
                                 hs256_token(secret, "u1", {}, 3600, "evil"),  // wrong issuer
                                 hs256_token(other, "u1", {}, 3600),           // wrong key
                                 std::string("not.a.jwt"), std::string("x")}) {
    EXPECT_EQ(get(gw.port(), "/dev/api/tools", {{"Authorization", "Bearer " + tok}}).result_int(),
              401)
        << tok;
  }
  EXPECT_EQ(up.requests(), 0);
}

TEST(JwtTest, ValidTokenForwardsIdentityAndOverridesClientCopies) {
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(config(up, secret));
  const auto tok = hs256_token(secret, "user-42", {"admin", "editor"});
  for (int i = 0; i < 3; ++i) {  // second and third hit the verification cache
    auto r = get(
        gw.port(), "/dev/api/tools",
        {{"Authorization", "Bearer " + tok}, {"X-User-Id", "root"}, {"X-User-Roles", "superuser"}});
    ASSERT_EQ(r.result_int(), 200) << r.body();
    EXPECT_EQ(hdr(r, "x-user-id"), "user-42");
    EXPECT_EQ(hdr(r, "x-user-roles"), "admin,editor");
  }
  EXPECT_GE(gw.auth()->cache().stats().hits, 2u);
}

TEST(RateLimitTest, PerIpBucketGives429WithRetryAfter) {
  FakeUpstream up;
  Gateway gw(config(up, write_secret_file()));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(gw.port(), "/dev/api/limited").result_int(), 200);
  auto r = get(gw.port(), "/dev/api/limited");
  EXPECT_EQ(r.result_int(), 429);
  EXPECT_FALSE(r[http::field::retry_after].empty());
  EXPECT_GE(std::stoi(std::string(r[http::field::retry_after])), 1);
  EXPECT_NE(r.body().find("rate_limited"), std::string::npos);
  EXPECT_EQ(get(gw.port(), "/dev/other").result_int(), 200);  // other routes unaffected
  EXPECT_EQ(up.requests(), 4);
}

TEST(RateLimitTest, PerApiKeyBuckets) {
  FakeUpstream up;
  Gateway gw(config(up, write_secret_file()));
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(get(gw.port(), "/dev/api/keyed", {{"X-Api-Key", "k1"}}).result_int(), 200);
  EXPECT_EQ(get(gw.port(), "/dev/api/keyed", {{"X-Api-Key", "k1"}}).result_int(), 429);
  EXPECT_EQ(get(gw.port(), "/dev/api/keyed", {{"X-Api-Key", "k2"}}).result_int(), 200);
}

TEST(CorsTest, PreflightIsAnsweredWithoutTheUpstream) {
  FakeUpstream up;
  Gateway gw(config(up, write_secret_file()));
  auto r = request(gw.port(), http::verb::options, "/dev/api/tools",
                   {{"Origin", "https://app.example"},
                    {"Access-Control-Request-Method", "POST"},
                    {"Access-Control-Request-Headers", "authorization"}});
  EXPECT_EQ(r.result_int(), 204);
  EXPECT_EQ(r[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ(r[http::field::access_control_allow_credentials], "true");
  EXPECT_EQ(r[http::field::access_control_max_age], "123");
  EXPECT_NE(r[http::field::access_control_allow_methods].find("POST"), std::string::npos);
  EXPECT_NE(r[http::field::access_control_allow_headers].find("authorization"), std::string::npos);
  auto bad =
      request(gw.port(), http::verb::options, "/dev/api/tools",
              {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(bad.result_int(), 403);
  EXPECT_EQ(up.requests(), 0);
}

TEST(CorsTest, ActualResponsesCarryCorsHeadersForAllowedOriginsOnly) {
  FakeUpstream up;
  Gateway gw(config(up, write_secret_file()));
  auto ok = get(gw.port(), "/dev/x", {{"Origin", "https://app.example"}});
  EXPECT_EQ(ok[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ(ok[http::field::vary], "Origin");
  auto denied401 = get(gw.port(), "/dev/api/tools", {{"Origin", "https://app.example"}});
  EXPECT_EQ(denied401.result_int(), 401);
  EXPECT_EQ(denied401[http::field::access_control_allow_origin],
            "https://app.example");  // readable by the app
  auto evil = get(gw.port(), "/dev/x", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(evil.count(http::field::access_control_allow_origin), 0u);
}

TEST(PauseTest, PausedStageAnswers503Maintenance) {
  FakeUpstream up;
  Gateway gw(config(up, write_secret_file()));
  ASSERT_FALSE(gw.state().update([](GatewayConfig& c) -> std::optional<std::string> {
    c.stages[0].paused = true;
    return std::nullopt;
  }));
  auto r = get(gw.port(), "/dev/x");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_NE(r.body().find("stage_paused"), std::string::npos);
  EXPECT_EQ(up.requests(), 0);
}

}  // namespace
}  // namespace enkisys::gateway

namespace enkisys::gateway {
namespace {

namespace sec = enkisys::security;

TEST(JwksTest, AsymmetricKeysFromJwksAndRefetchOnUnknownKid) {
  JwtConfig cfg;
  cfg.enabled = true;
  cfg.jwks_url = "http://auth.test/jwks.json";
  cfg.issuer = "enkisys-auth";
  Authenticator auth(cfg);
  const auto k1 = sec::SigningKey::generate(sec::Alg::kEdDSA);
  const auto k2 = sec::SigningKey::generate(sec::Alg::kEdDSA);
  std::vector<sec::VerifyKey> published{k1.verify_key()};
  int fetches = 0;
  JwksRefresher refresher(
      cfg.jwks_url, auth, std::chrono::seconds(30), nullptr,
      [&](const std::string&, std::string*) -> std::optional<std::string> {
        ++fetches;
        return sec::Jwks::serialize(published);
      },
      /*start=*/false);
  int refetch_requests = 0;
  auth.set_unknown_kid_hook([&] { ++refetch_requests; });
  ASSERT_EQ(refresher.refresh_now(), "");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const boost::json::object claims{
      {"sub", "u7"}, {"iss", "enkisys-auth"}, {"exp", now + 600}, {"roles", {"user"}}};
  const char* why = nullptr;
  auto ok = auth.authenticate("Bearer " + sec::sign(k1, claims), &why);
  ASSERT_TRUE(ok) << why;
  EXPECT_EQ(ok->sub, "u7");
  // A rotated key: unknown kid → refused and a refetch is requested; after it, accepted.
  const auto rotated = sec::sign(k2, claims);
  EXPECT_FALSE(auth.authenticate("Bearer " + rotated, &why));
  EXPECT_STREQ(why, "unknown_key");
  EXPECT_EQ(refetch_requests, 1);
  published.push_back(k2.verify_key());
  ASSERT_EQ(refresher.refresh_now(), "");
  EXPECT_TRUE(auth.authenticate("Bearer " + rotated, &why)) << why;
  EXPECT_EQ(fetches, 2);
  // HS256 tokens are never accepted against a JWKS-only configuration.
  const auto hs = sec::SigningKey::from_secret("0123456789abcdef0123456789abcdef-x", "hs256");
  EXPECT_FALSE(auth.authenticate("Bearer " + sec::sign(hs.value(), claims), &why));
}

}  // namespace
}  // namespace enkisys::gateway
