#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "enkisys/security/jwks.hpp"
#include "enkisys/security/jwt.hpp"
#include "test_util.hpp"

namespace enkisys::security {
namespace {

namespace json = boost::json;

constexpr std::string_view kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

TEST(Jwk, Rfc7638ThumbprintOfTheExampleRsaKey) {
  json::object jwk{{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"alg", "RS256"}};
  auto key = VerifyKey::from_jwk(jwk);
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(key->thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(key->kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");  // no kid → thumbprint
  jwk["kid"] = "2011-04-29";
  EXPECT_EQ(VerifyKey::from_jwk(jwk)->kid(), "2011-04-29");
}

TEST(Jwk, Rfc8037ThumbprintOfTheExampleEd25519Key) {
  auto key = VerifyKey::from_jwk(
      json::object{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", testing::kRfc8037X}});
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(key->thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

TEST(Jwk, Rfc8037JwsSignatureVerifies) {
  auto key = VerifyKey::from_jwk(
      json::object{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", testing::kRfc8037X}});
  ASSERT_TRUE(key.ok());
  const std::string sig = base64url_decode(testing::kRfc8037Signature).value();
  EXPECT_TRUE(key->verify(testing::kRfc8037SigningInput, sig));
  EXPECT_FALSE(key->verify("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmd", sig));

  // Through the JWT verifier the signature passes; the payload ("Example of Ed25519 signing")
  // is not a claims object, so the token is rejected as malformed, not as badly signed.
  const std::string token =
      std::string(testing::kRfc8037SigningInput) + "." + std::string(testing::kRfc8037Signature);
  VerifyOptions opts;
  opts.allowed_algs = {Alg::kEdDSA};
  const KeySet keys({*key});
  auto r = verify(token, keys, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, VerifyError::kMalformed) << r.error().message;
  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(tampered, keys, opts).error().code, VerifyError::kBadSignature);
}

class JwkByAlg : public ::testing::TestWithParam<Alg> {};

TEST_P(JwkByAlg, ExportImportRoundTrip) {
  const SigningKey key = SigningKey::generate(GetParam());
  const json::object jwk = key.verify_key().to_jwk();
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("alg").as_string(), alg_name(GetParam()));
  EXPECT_EQ(jwk.at("kid").as_string(), key.kid());
  EXPECT_FALSE(jwk.contains("d"));
  auto back = VerifyKey::from_jwk(jwk);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->kid(), key.kid());
  EXPECT_EQ(back->thumbprint(), key.verify_key().thumbprint());
  EXPECT_TRUE(back->verify("m", key.sign("m")));
}

INSTANTIATE_TEST_SUITE_P(Asym, JwkByAlg, ::testing::Values(Alg::kEdDSA, Alg::kRS256, Alg::kES256),
                         [](const auto& p) { return std::string(alg_name(p.param)); });

TEST(Jwk, MembersFollowTheKeyType) {
  const json::object ec = SigningKey::generate(Alg::kES256).verify_key().to_jwk();
  EXPECT_EQ(ec.at("kty"), "EC");
  EXPECT_EQ(ec.at("crv"), "P-256");
  EXPECT_EQ(base64url_decode(ec.at("x").as_string()).value().size(), 32u);
  EXPECT_EQ(base64url_decode(ec.at("y").as_string()).value().size(), 32u);
  const json::object rsa = SigningKey::generate(Alg::kRS256).verify_key().to_jwk();
  EXPECT_EQ(rsa.at("kty"), "RSA");
  EXPECT_EQ(rsa.at("e"), "AQAB");
  EXPECT_EQ(base64url_decode(rsa.at("n").as_string()).value().size(), 256u);
  const json::object okp = SigningKey::generate(Alg::kEdDSA).verify_key().to_jwk();
  EXPECT_EQ(okp.at("kty"), "OKP");
  EXPECT_EQ(okp.at("crv"), "Ed25519");
}

TEST(Jwk, RejectsUnsafeOrMismatchedKeys) {
  const json::object good = SigningKey::generate(Alg::kES256).verify_key().to_jwk();
  auto with = [&](std::string_view k, json::value v) {
    json::object o = good;
    o[k] = std::move(v);
    return VerifyKey::from_jwk(o);
  };
  EXPECT_TRUE(VerifyKey::from_jwk(good).ok());
  EXPECT_FALSE(with("use", "enc").ok());
  EXPECT_FALSE(with("alg", "RS256").ok());
  EXPECT_FALSE(with("alg", "ES384").ok());
  EXPECT_FALSE(with("d", "AAAA").ok());
  EXPECT_FALSE(with("crv", "P-384").ok());
  EXPECT_FALSE(with("x", "AAAA").ok());
  EXPECT_FALSE(with("key_ops", json::array{"encrypt"}).ok());
  EXPECT_TRUE(with("key_ops", json::array{"verify"}).ok());
  // A point that is not on the curve.
  std::string x = base64url_decode(good.at("x").as_string()).value();
  x[31] = static_cast<char>(x[31] ^ 1);
  EXPECT_FALSE(with("x", json::string(base64url_encode(x))).ok());
  EXPECT_FALSE(VerifyKey::from_jwk(obj(R"({"kty":"RSA","n":"AQAB","e":"AQAB"})")).ok());
  EXPECT_FALSE(VerifyKey::from_jwk(obj(R"({"kty":"XYZ"})")).ok());
}

TEST(Jwks, SerializeParseRoundTripSkipsUnsupportedKeysWithReasons) {
  const SigningKey a = SigningKey::generate(Alg::kEdDSA);
  const SigningKey b = SigningKey::generate(Alg::kRS256);
  const SigningKey c = SigningKey::generate(Alg::kES256).with_kid("ec-1");
  const std::string doc = Jwks::serialize({a.verify_key(), b.verify_key(), c.verify_key()});
  json::object root = json::parse(doc).as_object();
  json::array& keys = root["keys"].as_array();
  ASSERT_EQ(keys.size(), 3u);
  keys.push_back(json::object{
      {"kty", "RSA"}, {"use", "enc"}, {"kid", "enc-1"}, {"n", kRfc7638N}, {"e", "AQAB"}});
  keys.push_back(json::object{{"kty", "oct"}, {"k", base64url_encode(std::string(32, 'k'))}});
  keys.push_back(json::object{{"kty", "EC"}, {"crv", "P-521"}, {"x", "AA"}, {"y", "AA"}});
  keys.push_back(keys[0]);  // duplicate kid
  keys.push_back(42);

  auto parsed = Jwks::parse(json::serialize(root));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->keys().size(), 3u);
  EXPECT_TRUE(parsed->keys().contains(a.kid()));
  EXPECT_TRUE(parsed->keys().contains("ec-1"));
  ASSERT_EQ(parsed->skipped().size(), 5u);
  EXPECT_NE(parsed->skipped()[0].find("enc"), std::string::npos) << parsed->skipped()[0];
  EXPECT_NE(parsed->skipped()[1].find("symmetric"), std::string::npos);
  EXPECT_NE(parsed->skipped()[3].find("duplicate"), std::string::npos);

  const KeySet set = parsed->key_set();
  EXPECT_TRUE(set.find(b.kid())->verify("m", b.sign("m")));
  EXPECT_EQ(set.find("enc-1"), nullptr);
}

TEST(Jwks, RejectsDocumentsWithoutKeysArray) {
  EXPECT_FALSE(Jwks::parse("").ok());
  EXPECT_FALSE(Jwks::parse("[]").ok());
  EXPECT_FALSE(Jwks::parse(R"({"keys":{}})").ok());
  EXPECT_TRUE(Jwks::parse(R"({"keys":[]})").ok());
}

TEST(Jwks, RefusesToPublishSymmetricSecrets) {
  EXPECT_THROW(Jwks::serialize({SigningKey::generate(Alg::kHS256).verify_key()}),
               std::invalid_argument);
}

TEST(KeySet, RejectsDuplicateKids) {
  const VerifyKey k = SigningKey::generate(Alg::kEdDSA).verify_key();
  EXPECT_THROW(KeySet({k, k}), std::invalid_argument);
}

}  // namespace
}  // namespace enkisys::security
