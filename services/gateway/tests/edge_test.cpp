// Edge security through a running gateway: JWT, rate limits, CORS, maintenance pause.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>

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

// A route with `roles` (the monitoring page): no token 401, a token without the role 403 JSON
// `forbidden` (the upstream never sees it), a token with the role passes. A `jwt_stage` stage
// takes the tokens its named stage takes.
TEST(JwtTest, RouteRolesRequireOneOfTheRoles) {
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(replace_all(replace_all(R"(
jwt: {hs256_secret_file: "SECRET", issuer: test, leeway_s: 0}
stages:
  dev:
    routes:
      - {prefix: /api/tools, upstream: "{UP}", jwt: true}
  monitoring:
    jwt_stage: dev
    routes:
      - {prefix: /, upstream: "{UP}", roles: [admin], strip_prefix: true}
)",
                                     "{UP}", up.url()),
                         "SECRET", secret));
  EXPECT_EQ(get(gw.port(), "/monitoring/").result_int(), 401);
  const auto user = hs256_token(secret, "u1", {"user"});
  const auto denied =
      get(gw.port(), "/monitoring/api/status", {{"Authorization", "Bearer " + user}});
  EXPECT_EQ(denied.result_int(), 403);
  EXPECT_NE(denied.body().find("\"code\":\"forbidden\""), std::string::npos) << denied.body();
  EXPECT_EQ(up.requests(), 0);
  // The same user token still passes a jwt route without roles.
  EXPECT_EQ(get(gw.port(), "/dev/api/tools", {{"Authorization", "Bearer " + user}}).result_int(),
            200);
  const auto admin = hs256_token(secret, "a1", {"user", "admin"});
  for (int i = 0; i < 2; ++i) {  // the second request hits the connection's token memo
    auto r = get(gw.port(), "/monitoring/api/status", {{"Authorization", "Bearer " + admin}});
    ASSERT_EQ(r.result_int(), 200) << r.body();
    EXPECT_EQ(hdr(r, "x-user-roles"), "user,admin");
  }
}

TEST(JwtTest, RolesAndJwtStageAreValidated) {
  const auto secret = write_secret_file();
  const std::string head = "jwt: {hs256_secret_file: \"" + secret + "\"}\n";
  EXPECT_FALSE(load_config_text(head +
                                "stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: "
                                "\"http://a:1\", roles: []}\n")
                   .ok());
  EXPECT_FALSE(load_config_text(head +
                                "stages:\n  dev:\n    routes:\n      - {prefix: /, upstream: "
                                "\"http://a:1\", roles: [admin], jwt: false}\n")
                   .ok());
  const auto r = load_config_text(head +
                                  "routes:\n  - {prefix: /, upstream: \"http://a:1\"}\n"
                                  "stages:\n  dev: {jwt_stage: nope}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("jwt_stage"), std::string::npos);
  EXPECT_FALSE(load_config_text(head + "routes:\n  - {prefix: /, upstream: \"http://a:1\"}\n"
                                       "stages:\n  dev: {jwt_stage: dev}\n")
                   .ok());
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
      cfg.jwks_url, auth, JwksRefresher::Schedule{}, nullptr,
      [&](const std::string&, std::string*) -> std::optional<std::string> {
        ++fetches;
        return sec::Jwks::serialize(published);
      },
      /*start=*/false);
  int refetch_requests = 0;
  auth.set_unknown_kid_hook([&] {
    ++refetch_requests;
    return false;  // rate limited: refused at once
  });
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

// A JWKS server stand-in: per URL, the keys it publishes (or an outage); thread-safe.
class FakeJwks {
 public:
  void publish(const std::string& url, std::vector<sec::VerifyKey> keys) {
    std::lock_guard lock(mu_);
    keys_[url] = std::move(keys);
  }
  void take_down(const std::string& url) {
    std::lock_guard lock(mu_);
    keys_.erase(url);
  }
  int fetches(const std::string& url) {
    std::lock_guard lock(mu_);
    return fetches_[url];
  }
  JwksRefresher::Fetch fetch() {
    return [this](const std::string& url, std::string* error) -> std::optional<std::string> {
      std::lock_guard lock(mu_);
      ++fetches_[url];
      const auto it = keys_.find(url);
      if (it == keys_.end()) {
        *error = "connection refused";
        return std::nullopt;
      }
      return sec::Jwks::serialize(it->second);
    };
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<sec::VerifyKey>> keys_;
  std::map<std::string, int> fetches_;
};

std::string bearer(const sec::SigningKey& key, const std::string& sub) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return "Bearer " + sec::sign(key, boost::json::object{{"sub", sub},
                                                        {"iss", "enkisys-auth"},
                                                        {"exp", now + 600},
                                                        {"roles", {"user"}}});
}

// Blocks (at most 10 s) until `auth` has finished `n` key fetch attempts.
bool wait_for_attempts(Authenticator& auth, std::uint64_t n) {
  std::mutex mu;
  std::condition_variable cv;
  const auto id = auth.on_refresh([&] {
    std::lock_guard lock(mu);
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  const bool ok =
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return auth.refresh_attempts() >= n; });
  lock.unlock();
  auth.forget(id);
  return ok;
}

std::string stage_keys_config(const FakeUpstream& up, const std::string& extra = "") {
  return replace_all(R"(
jwt:
  jwks_url: "http://auth.${stage}-${color}:5002/api/auth/.well-known/jwks.json"
  issuer: enkisys-auth
)" + extra + R"(
routes:
  - {prefix: /api/tools, upstream: "{UP}", jwt: true}
stages:
  dev1: {variables: {color: blue}}
  prod: {variables: {color: blue}}
)",
                     "{UP}", up.url());
}

const std::string kDev1Blue = "http://auth.dev1-blue:5002/api/auth/.well-known/jwks.json";
const std::string kProdBlue = "http://auth.prod-blue:5002/api/auth/.well-known/jwks.json";
const std::string kProdGreen = "http://auth.prod-green:5002/api/auth/.well-known/jwks.json";

TEST(StageKeysTest, EachStageVerifiesWithItsOwnKeysAndForeignTokensAreRefused) {
  FakeUpstream up;
  FakeJwks jwks;
  const auto dev1_key = sec::SigningKey::generate(sec::Alg::kEdDSA);
  const auto prod_key = sec::SigningKey::generate(sec::Alg::kEdDSA);
  jwks.publish(kDev1Blue, {dev1_key.verify_key()});
  jwks.publish(kProdBlue, {prod_key.verify_key()});
  Gateway gw(stage_keys_config(up), GatewayOptions{1, nullptr, jwks.fetch(), true});
  ASSERT_NE(gw.auth("dev1"), nullptr);
  EXPECT_NE(gw.auth("dev1"), gw.auth("prod"));  // one verifier (and key cache) per stage
  EXPECT_EQ(gw.auth("dev1")->config().jwks_url, kDev1Blue);
  const auto dev1_token = bearer(dev1_key, "d1");
  const auto prod_token = bearer(prod_key, "p1");
  EXPECT_EQ(get(gw.port(), "/dev1/api/tools", {{"Authorization", dev1_token}}).result_int(), 200);
  EXPECT_EQ(get(gw.port(), "/prod/api/tools", {{"Authorization", prod_token}}).result_int(), 200);
  // Crossed: refused by the other stage, at once (its keys are fresh: no wait, no refetch
  // beyond the rate limit however many foreign tokens arrive).
  const int prod_fetches = jwks.fetches(kProdBlue);
  for (int i = 0; i < 20; ++i) {
    auto r = get(gw.port(), "/prod/api/tools", {{"Authorization", dev1_token}});
    ASSERT_EQ(r.result_int(), 401) << r.body();
    EXPECT_NE(r.body().find("unknown_key"), std::string::npos);
  }
  EXPECT_LE(jwks.fetches(kProdBlue), prod_fetches + 1);
  EXPECT_EQ(get(gw.port(), "/dev1/api/tools", {{"Authorization", prod_token}}).result_int(), 401);
  EXPECT_EQ(up.requests(), 2);
}

TEST(StageKeysTest, SwitchingColorVerifiesWithTheNewColorsKeysWithoutRefusals) {
  FakeUpstream up;
  FakeJwks jwks;
  const auto blue = sec::SigningKey::generate(sec::Alg::kEdDSA);
  const auto green = sec::SigningKey::generate(sec::Alg::kEdDSA);
  const auto dev1 = sec::SigningKey::generate(sec::Alg::kEdDSA);
  jwks.publish(kDev1Blue, {dev1.verify_key()});
  jwks.publish(kProdBlue, {blue.verify_key()});
  jwks.publish(kProdGreen, {green.verify_key()});
  Gateway gw(stage_keys_config(up), GatewayOptions{1, nullptr, jwks.fetch(), true});
  Authenticator* const dev1_auth = gw.auth("dev1");
  ASSERT_EQ(get(gw.port(), "/prod/api/tools", {{"Authorization", bearer(blue, "b")}}).result_int(),
            200);
  // The deploy's switch: prod → green. The new verifier fetches green's keys; the first
  // request does not race it into a 401 but waits for that fetch.
  ASSERT_EQ(gw.state().update([](GatewayConfig& c) -> std::optional<std::string> {
    for (auto& st : c.stages) {
      if (st.name == "prod") st.variables["color"] = "green";
    }
    return std::nullopt;
  }),
            std::nullopt);
  EXPECT_EQ(gw.auth("prod")->config().jwks_url, kProdGreen);
  auto r = get(gw.port(), "/prod/api/tools", {{"Authorization", bearer(green, "g")}});
  EXPECT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(get(gw.port(), "/prod/api/tools", {{"Authorization", bearer(blue, "b")}}).result_int(),
            401);
  EXPECT_EQ(gw.auth("dev1"), dev1_auth);  // other stages keep their verifier and cache
}

TEST(StageKeysTest, GatewayStartedBeforeTheStagesAuthWaitsForTheKeysInsteadOfRefusing) {
  FakeUpstream up;
  FakeJwks jwks;  // nothing published yet: auth is not up
  Gateway gw(stage_keys_config(up, "  jwks_retry_min_ms: 0\n"),
             GatewayOptions{1, nullptr, jwks.fetch(), /*fetch_keys_first=*/false});
  Authenticator* auth = gw.auth("dev1");
  ASSERT_TRUE(wait_for_attempts(*auth, 1));  // the first fetch failed
  EXPECT_EQ(auth->status().fetches_ok, 0u);
  EXPECT_EQ(auth->status().last_error, "connection refused");
  const auto key = sec::SigningKey::generate(sec::Alg::kEdDSA);
  jwks.publish(kDev1Blue, {key.verify_key()});  // the stage's auth comes up
  auto r = get(gw.port(), "/dev1/api/tools", {{"Authorization", bearer(key, "u")}});
  EXPECT_EQ(r.result_int(), 200) << r.body();
  EXPECT_EQ(auth->status().keys, 1u);
  // Auth down again and a token with a kid never published: refused within the wait bound.
  jwks.take_down(kDev1Blue);
  const auto stranger = sec::SigningKey::generate(sec::Alg::kEdDSA);
  auto refused = get(gw.port(), "/dev1/api/tools", {{"Authorization", bearer(stranger, "x")}});
  EXPECT_EQ(refused.result_int(), 401);
  EXPECT_NE(refused.body().find("unknown_key"), std::string::npos);
  EXPECT_EQ(up.requests(), 1);
}

TEST(StageKeysTest, JwtSettingsAreSubstitutedPerStageAndValidated) {
  FakeUpstream up;
  auto bad = load_config_text(replace_all(R"(
jwt: {jwks_url: "http://auth.${stage}-${colour}:5002/jwks"}
routes:
  - {prefix: /api/tools, upstream: "{UP}", jwt: true}
stages:
  dev1: {variables: {color: blue}}
)",
                                          "{UP}", up.url()));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 6"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("colour"), std::string::npos) << bad.error().message;
  auto not_http = load_config_text(R"(
jwt: {jwks_url: "ftp://auth/jwks"}
routes:
  - {prefix: /a, upstream: "http://a:1", jwt: true}
stages:
  dev1: {}
)");
  EXPECT_FALSE(not_http.ok());
  auto per_stage = load_config_text(R"(
jwt: {jwks_url: "http://auth.${stage}:5002/jwks", issuer: "enkisys-${stage}", audience: "${aud}"}
routes:
  - {prefix: /a, upstream: "http://a:1", jwt: true}
stages:
  dev1: {variables: {aud: web}}
)");
  ASSERT_TRUE(per_stage.ok()) << per_stage.error().message;
  auto j = stage_jwt(per_stage->jwt, per_stage->stages.at(0));
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(j->jwks_url, "http://auth.dev1:5002/jwks");
  EXPECT_EQ(j->issuer, "enkisys-dev1");
  EXPECT_EQ(j->audience, "web");
}

}  // namespace
}  // namespace enkisys::gateway
