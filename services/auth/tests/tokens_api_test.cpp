// Access tokens, JWKS, key rotation and introspection over HTTP, on both backends.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "backends.hpp"
#include "enkisys/security/encoding.hpp"
#include "enkisys/security/jwks.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::auth::testing {
namespace {

namespace json = boost::json;
using db::Backend;
using std::chrono::seconds;

std::string str(const json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

json::object header_of(const std::string& jwt) {
  auto h = security::base64url_decode(jwt.substr(0, jwt.find('.')));
  return json::parse(*h).as_object();
}

json::object payload_of(const std::string& jwt) {
  const auto a = jwt.find('.'), b = jwt.rfind('.');
  return json::parse(*security::base64url_decode(jwt.substr(a + 1, b - a - 1))).as_object();
}

// A compact JWS with any header and payload, signed by `sign` over "header.payload".
std::string forge(const json::object& header, const json::object& payload,
                  const std::function<std::string(const std::string&)>& sign) {
  const std::string input = security::base64url_encode(json::serialize(header)) + "." +
                            security::base64url_encode(json::serialize(payload));
  return input + "." + security::base64url_encode(sign(input));
}

class TokensApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ENKISYS_SKIP_WITHOUT_BACKEND(GetParam());
    fx_ = std::make_unique<AuthFixture>(GetParam(), options());
    auto l = fx_->user_session("ann@example.com");
    ASSERT_EQ(l.status, 200) << l.raw;
    access_ = str(l.body, "access_token");
  }
  virtual FixtureOptions options() { return {}; }
  int me_status(const std::string& token) {
    return fx_->call_as(token, "GET", "/api/auth/me").status;
  }
  std::unique_ptr<AuthFixture> fx_;
  std::string access_;
};

TEST_P(TokensApiTest, AccessTokensCarryTheContractClaims) {
  const auto h = header_of(access_);
  EXPECT_EQ(h.at("alg"), "EdDSA");
  EXPECT_EQ(h.at("kid").as_string(), fx_->keys().active().kid());
  const auto p = payload_of(access_);
  for (const char* claim : {"iss", "aud", "sub", "exp", "iat", "nbf", "jti", "roles", "sid"}) {
    EXPECT_TRUE(p.contains(claim)) << claim;
  }
  EXPECT_EQ(p.at("iss"), "enkisys-auth");
  EXPECT_EQ(p.at("aud"), "enkisys");
  EXPECT_EQ(p.at("exp").to_number<std::int64_t>() - p.at("iat").to_number<std::int64_t>(), 900);
  EXPECT_EQ(p.at("iat").to_number<std::int64_t>(), kStart);
  EXPECT_EQ(p.at("roles"), json::parse(R"(["user"])"));
}

TEST_P(TokensApiTest, ExpiryNeedsNoSleep) {
  EXPECT_EQ(me_status(access_), 200);
  fx_->clock().advance(seconds(900 + 29));
  EXPECT_EQ(me_status(access_), 200);  // within the 30 s leeway
  fx_->clock().advance(seconds(2));
  auto r = fx_->call_as(access_, "GET", "/api/auth/me");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(str(r.body.at("error"), "message").find("expired"), std::string::npos);
}

TEST_P(TokensApiTest, TamperedTokensAre401) {
  const auto key = fx_->keys().active();
  auto sign_ok = [&](const std::string& in) { return key.sign(in); };
  const json::object header{{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", key.kid()}};
  json::object claims = payload_of(access_);

  std::vector<std::pair<std::string, std::string>> bad;
  // Signature of another payload.
  std::string flipped = access_;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  bad.emplace_back("bad signature", flipped);
  json::object admin = claims;
  admin["roles"] = json::array{"admin"};
  const std::string sig = access_.substr(access_.rfind('.'));
  bad.emplace_back(
      "payload swapped",
      forge(header, admin, sign_ok).substr(0, forge(header, admin, sign_ok).rfind('.')) + sig);
  bad.emplace_back("alg none", forge({{"alg", "none"}, {"typ", "JWT"}}, claims,
                                     [](const std::string&) { return std::string(); }));
  bad.emplace_back("alg none with kid", forge({{"alg", "none"}, {"kid", key.kid()}}, claims,
                                              [](const std::string&) { return std::string("x"); }));
  // HS256 keyed with the public key (the classic HS/RS confusion).
  const std::string pub_pem = key.verify_key().public_pem();
  bad.emplace_back(
      "HS256 with the public key",
      forge({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", key.kid()}}, claims,
            [&](const std::string& in) { return security::hmac_sha256(pub_pem, in); }));
  json::object other_aud = claims;
  other_aud["aud"] = "someone-else";
  bad.emplace_back("wrong aud", forge(header, other_aud, sign_ok));
  json::object other_iss = claims;
  other_iss["iss"] = "evil";
  bad.emplace_back("wrong iss", forge(header, other_iss, sign_ok));
  json::object future = claims;
  future["nbf"] = kStart + 3600;
  bad.emplace_back("future nbf", forge(header, future, sign_ok));
  json::object expired = claims;
  expired["exp"] = kStart - 3600;
  bad.emplace_back("expired", forge(header, expired, sign_ok));
  json::object no_exp = claims;
  no_exp.erase("exp");
  bad.emplace_back("no exp", forge(header, no_exp, sign_ok));
  const auto stranger = security::SigningKey::generate(security::Alg::kEdDSA);
  bad.emplace_back("unknown key", forge({{"alg", "EdDSA"}, {"kid", stranger.kid()}}, claims,
                                        [&](const std::string& in) { return stranger.sign(in); }));
  bad.emplace_back("garbage", "not.a.jwt");
  bad.emplace_back("empty segments", "..");
  const auto events = fx_->count("audit_events");
  for (const auto& [what, token] : bad) {
    auto r = fx_->call_as(token, "GET", "/api/auth/me");
    EXPECT_EQ(r.status, 401) << what << "\n" << r.raw;
    EXPECT_EQ(str(r.body.at("error"), "code"), "invalid_token") << what;
    auto in =
        fx_->call("POST", "/api/auth/introspect", json::serialize(json::object{{"token", token}}));
    EXPECT_EQ(in.body.at("active"), false) << what;
  }
  EXPECT_EQ(fx_->count("audit_events"), events);            // nothing written
  EXPECT_EQ(fx_->call("GET", "/api/auth/me").status, 401);  // no token at all
  EXPECT_EQ(me_status(access_), 200);                       // the genuine one still works
}

TEST_P(TokensApiTest, JwksPublishesTheVerificationKeysWithCaching) {
  auto r = fx_->call("GET", "/api/auth/.well-known/jwks.json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Cache-Control"), "public, max-age=300");
  auto jwks = security::Jwks::parse(core::testing::body_of(r.raw));
  ASSERT_TRUE(jwks.ok());
  EXPECT_TRUE(jwks->skipped().empty());
  for (const auto& [kid, key] : jwks->keys()) {
    EXPECT_EQ(key.to_jwk().count("d"), 0U) << "private member published";
  }
  // A verifier holding only the JWKS accepts our token.
  security::VerifyOptions vo;
  vo.audiences = {"enkisys"};
  vo.issuers = {"enkisys-auth"};
  vo.allowed_algs = {security::Alg::kEdDSA};
  security::ManualClock clock{std::chrono::sys_seconds(seconds(kStart))};
  EXPECT_TRUE(security::verify(access_, jwks->key_set(), vo, clock).ok());
}

TEST_P(TokensApiTest, RotationKeepsOldTokensValidUntilTheyExpire) {
  const std::string admin = fx_->admin_token();
  const std::string old_kid = fx_->keys().active().kid();
  EXPECT_EQ(fx_->call_as(access_, "POST", "/api/auth/keys/rotate").status, 403);  // not admin
  fx_->clock().advance(seconds(60));
  auto rot = fx_->call_as(admin, "POST", "/api/auth/keys/rotate");
  ASSERT_EQ(rot.status, 201) << rot.raw;
  const std::string new_kid = str(rot.body, "kid");
  EXPECT_NE(new_kid, old_kid);
  EXPECT_EQ(me_status(access_), 200);  // signed by the old key, still valid
  auto fresh = fx_->login("ann@example.com", "a long passphrase");
  EXPECT_EQ(header_of(str(fresh.body, "access_token")).at("kid").as_string(), new_kid);
  auto jwks = security::Jwks::parse(
      core::testing::body_of(fx_->call("GET", "/api/auth/.well-known/jwks.json").raw));
  EXPECT_EQ(jwks->keys().size(), 2U);
  // Once every token of the old key has expired, the key leaves the JWKS.
  fx_->clock().advance(seconds(900 + 30 + 1));
  jwks = security::Jwks::parse(
      core::testing::body_of(fx_->call("GET", "/api/auth/.well-known/jwks.json").raw));
  EXPECT_EQ(jwks->keys().size(), 1U);
  EXPECT_TRUE(jwks->keys().contains(new_kid));
  auto audit = fx_->service().audit(std::nullopt, 10, "key_rotated");
  ASSERT_EQ(audit.items.size(), 1U);
  EXPECT_EQ(audit.items[0].detail.at("kid").as_string(), new_kid);
}

TEST_P(TokensApiTest, IntrospectionCoversAccessTokensAndApiKeys) {
  auto in =
      fx_->call("POST", "/api/auth/introspect", json::serialize(json::object{{"token", access_}}));
  ASSERT_EQ(in.status, 200) << in.raw;
  EXPECT_EQ(in.body.at("active"), true);
  EXPECT_EQ(in.body.at("roles"), json::parse(R"(["user"])"));
  EXPECT_EQ(in.body.at("exp").to_number<std::int64_t>(), kStart + 900);
  EXPECT_FALSE(str(in.body, "sub").empty());

  const std::string admin = fx_->admin_token();
  auto key = fx_->call_as(admin, "POST", "/api/auth/api-keys",
                          R"({"name":"telegram","scopes":["channel:telegram","tools:invoke"]})");
  ASSERT_EQ(key.status, 201) << key.raw;
  const std::string secret = str(key.body, "key");
  auto ik =
      fx_->call("POST", "/api/auth/introspect", json::serialize(json::object{{"token", secret}}));
  EXPECT_EQ(ik.body.at("active"), true);
  EXPECT_EQ(ik.body.at("scopes"), json::parse(R"(["channel:telegram","tools:invoke"])"));
  EXPECT_EQ(str(ik.body, "sub"), "apikey:" + str(key.body, "id"));
  // One character off: inactive.
  std::string wrong = secret;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(
      fx_->call("POST", "/api/auth/introspect", json::serialize(json::object{{"token", wrong}}))
          .body.at("active"),
      false);
  ASSERT_EQ(fx_->call_as(admin, "DELETE", "/api/auth/api-keys/" + str(key.body, "id")).status, 204);
  EXPECT_EQ(
      fx_->call("POST", "/api/auth/introspect", json::serialize(json::object{{"token", secret}}))
          .body.at("active"),
      false);
  EXPECT_EQ(fx_->call("POST", "/api/auth/introspect", R"({"token":"x","extra":1})").status, 400);
}

TEST_P(TokensApiTest, DisabledUsersLoseAccessAtOnce) {
  const std::string admin = fx_->admin_token();
  const std::string id = str(fx_->call_as(access_, "GET", "/api/auth/me").body, "id");
  ASSERT_EQ(fx_->call_as(admin, "POST", "/api/auth/users/" + id + "/disable").status, 200);
  EXPECT_EQ(me_status(access_), 403);
  EXPECT_EQ(fx_->login("ann@example.com", "a long passphrase").status, 403);
  EXPECT_EQ(
      fx_->call("POST", "/api/auth/introspect", json::serialize(json::object{{"token", access_}}))
          .body.at("active"),
      false);
  ASSERT_EQ(fx_->call_as(admin, "POST", "/api/auth/users/" + id + "/enable").status, 200);
  EXPECT_EQ(fx_->login("ann@example.com", "a long passphrase").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, TokensApiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

class Rs256TokensTest : public TokensApiTest {
  FixtureOptions options() override {
    FixtureOptions o;
    o.alg = security::Alg::kRS256;
    return o;
  }
};

TEST_P(Rs256TokensTest, SignsWithRs256AndRefusesHs256KeyedWithThePublicKey) {
  EXPECT_EQ(header_of(access_).at("alg"), "RS256");
  EXPECT_EQ(me_status(access_), 200);
  const auto key = fx_->keys().active();
  const std::string pub_pem = key.verify_key().public_pem();
  const std::string forged =
      forge({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", key.kid()}}, payload_of(access_),
            [&](const std::string& in) { return security::hmac_sha256(pub_pem, in); });
  EXPECT_EQ(me_status(forged), 401);
}

INSTANTIATE_TEST_SUITE_P(Backends, Rs256TokensTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

class ProtectedIntrospectionTest : public TokensApiTest {
  FixtureOptions options() override {
    FixtureOptions o;
    o.config.introspect_token = "gateway-shared-secret-0123456789";
    return o;
  }
};

TEST_P(ProtectedIntrospectionTest, NeedsTheBearerSecret) {
  const std::string body = json::serialize(json::object{{"token", access_}});
  EXPECT_EQ(fx_->call("POST", "/api/auth/introspect", body).status, 401);
  EXPECT_EQ(
      fx_->call("POST", "/api/auth/introspect", body, "Authorization: Bearer wrong\r\n").status,
      401);
  auto ok = fx_->call("POST", "/api/auth/introspect", body,
                      "Authorization: Bearer gateway-shared-secret-0123456789\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body.at("active"), true);
}

INSTANTIATE_TEST_SUITE_P(Backends, ProtectedIntrospectionTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         db::testing::backend_name);

}  // namespace
}  // namespace enkisys::auth::testing
