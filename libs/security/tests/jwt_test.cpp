#include "enkisys/security/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "enkisys/security/secrets.hpp"
#include "test_util.hpp"

namespace enkisys::security {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using testing::forge;

constexpr std::int64_t kNow = 1'700'000'000;

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() : clock_(std::chrono::sys_seconds(seconds(kNow))) {
    opts_.issuers = {"https://auth.enkisys"};
    opts_.audiences = {"enkisys-api"};
    opts_.allowed_algs = {Alg::kEdDSA, Alg::kRS256, Alg::kES256, Alg::kHS256};
  }

  static json::object claims(std::int64_t exp_offset = 600) {
    return json::object{{"sub", "user-1"},
                        {"iss", "https://auth.enkisys"},
                        {"aud", "enkisys-api"},
                        {"exp", kNow + exp_offset},
                        {"iat", kNow},
                        {"jti", "t-1"},
                        {"roles", json::array{"user", "admin"}}};
  }
  std::string payload(const json::object& c) const { return json::serialize(c); }
  std::string header(const SigningKey& k, std::string_view alg = {}) const {
    return json::serialize(json::object{
        {"alg", alg.empty() ? alg_name(k.alg()) : alg}, {"typ", "JWT"}, {"kid", k.kid()}});
  }
  VerifyResult check(std::string_view token, const KeySet& keys) const {
    return verify(token, keys, opts_, clock_);
  }
  VerifyError::Code code(std::string_view token, const KeySet& keys) const {
    auto r = check(token, keys);
    EXPECT_FALSE(r.ok()) << "token unexpectedly accepted";
    return r.ok() ? VerifyError::kMalformed : r.error().code;
  }

  ManualClock clock_;
  VerifyOptions opts_;
};

// ---- per algorithm ----

class JwtByAlg : public JwtTest, public ::testing::WithParamInterface<Alg> {};

TEST_P(JwtByAlg, SignVerifyRoundTrip) {
  const SigningKey key = SigningKey::generate(GetParam());
  const KeySet keys({key.verify_key()});
  const std::string token = sign(key, claims());
  auto r = check(token, keys);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sub, "user-1");
  EXPECT_EQ(r->iss, "https://auth.enkisys");
  EXPECT_EQ(r->jti, "t-1");
  EXPECT_EQ(r->aud, std::vector<std::string>{"enkisys-api"});
  EXPECT_EQ(r->roles, (std::vector<std::string>{"user", "admin"}));
  EXPECT_EQ(r->exp, kNow + 600);
  EXPECT_EQ(r->iat, kNow);
  EXPECT_FALSE(r->has_nbf);
  EXPECT_EQ(r->alg, GetParam());
  EXPECT_EQ(r->key_id, key.kid());
  EXPECT_EQ(r->raw.at("sub"), "user-1");

  const json::object hdr =
      json::parse(base64url_decode(token.substr(0, token.find('.'))).value()).as_object();
  EXPECT_EQ(hdr, (json::object{{"alg", alg_name(GetParam())}, {"typ", "JWT"}, {"kid", key.kid()}}));
}

TEST_P(JwtByAlg, TamperedHeaderPayloadOrSignatureIsRejected) {
  const SigningKey key = SigningKey::generate(GetParam());
  const KeySet keys({key.verify_key()});
  const std::string token = sign(key, claims());
  const std::size_t d1 = token.find('.'), d2 = token.rfind('.');

  json::object elevated = claims();
  elevated["roles"] = json::array{"admin", "root"};
  const std::string bad_payload =
      token.substr(0, d1 + 1) + base64url_encode(payload(elevated)) + token.substr(d2);
  EXPECT_EQ(code(bad_payload, keys), VerifyError::kBadSignature);

  const std::string hdr = json::serialize(
      json::object{{"alg", alg_name(key.alg())}, {"typ", "JWT"}, {"kid", key.kid()}, {"x", 1}});
  const std::string bad_header = base64url_encode(hdr) + token.substr(d1);
  EXPECT_EQ(code(bad_header, keys), VerifyError::kBadSignature);

  std::string sig = base64url_decode(token.substr(d2 + 1)).value();
  sig[0] = static_cast<char>(sig[0] ^ 0x01);
  EXPECT_EQ(code(token.substr(0, d2 + 1) + base64url_encode(sig), keys),
            VerifyError::kBadSignature);

  // Signed by another key of the same alg and kid.
  const SigningKey other = SigningKey::generate(GetParam()).with_kid(key.kid());
  EXPECT_EQ(code(sign(other, claims()), keys), VerifyError::kBadSignature);
}

INSTANTIATE_TEST_SUITE_P(AllAlgs, JwtByAlg,
                         ::testing::Values(Alg::kEdDSA, Alg::kRS256, Alg::kES256, Alg::kHS256),
                         [](const auto& p) { return std::string(alg_name(p.param)); });

// ---- algorithm rules ----

TEST_F(JwtTest, AlgNoneIsAlwaysRejected) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  const KeySet keys({key.verify_key()});
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    const std::string input = testing::signing_input(
        json::serialize(json::object{{"alg", alg}, {"typ", "JWT"}}), payload(claims()));
    EXPECT_EQ(code(input + ".", keys), VerifyError::kMalformed) << alg;  // empty signature
    EXPECT_EQ(code(input + "." + base64url_encode("x"), keys), VerifyError::kAlgNotAllowed) << alg;
  }
}

TEST_F(JwtTest, Hs256TokenMacedWithTheRsaPublicKeyIsRejected) {
  // Classic confusion: the attacker uses the published RSA public key PEM as an HMAC secret.
  const SigningKey rsa = SigningKey::generate(Alg::kRS256);
  const KeySet keys({rsa.verify_key()});
  const std::string pem = rsa.verify_key().public_pem();
  for (const bool with_kid : {true, false}) {
    json::object h{{"alg", "HS256"}, {"typ", "JWT"}};
    if (with_kid) {
      h["kid"] = rsa.kid();
    }
    const std::string input = testing::signing_input(json::serialize(h), payload(claims()));
    const std::string token = input + "." + base64url_encode(hmac_sha256(pem, input));
    auto r = check(token, keys);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, with_kid ? VerifyError::kAlgNotAllowed : VerifyError::kUnknownKid)
        << r.error().message;
  }
}

TEST_F(JwtTest, HeaderAlgMustMatchTheKeyAlg) {
  const SigningKey ed = SigningKey::generate(Alg::kEdDSA);
  const KeySet keys({ed.verify_key()});
  // An Ed25519 signature presented under another alg name.
  EXPECT_EQ(code(forge(ed, header(ed, "ES256"), payload(claims())), keys),
            VerifyError::kAlgNotAllowed);
  EXPECT_EQ(code(forge(ed, header(ed, "RS256"), payload(claims())), keys),
            VerifyError::kAlgNotAllowed);
}

TEST_F(JwtTest, AlgOutsideAllowedAlgsIsRejected) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  const KeySet keys({key.verify_key()});
  const std::string token = sign(key, claims());
  opts_.allowed_algs = {Alg::kEdDSA, Alg::kRS256};
  EXPECT_EQ(code(token, keys), VerifyError::kAlgNotAllowed);
  opts_.allowed_algs.clear();
  EXPECT_EQ(code(token, keys), VerifyError::kAlgNotAllowed);
  EXPECT_EQ(
      code(forge(key, R"({"alg":"HS512","kid":")" + key.kid() + "\"}", payload(claims())), keys),
      VerifyError::kAlgNotAllowed);
}

TEST_F(JwtTest, Es256DerOrWrongLengthSignatureIsRejected) {
  const SigningKey key = SigningKey::generate(Alg::kES256);
  const KeySet keys({key.verify_key()});
  const std::string input = testing::signing_input(header(key), payload(claims()));
  const std::string raw = key.sign(input);
  ASSERT_TRUE(check(input + "." + base64url_encode(raw), keys).ok());

  // The same signature DER-encoded (what OpenSSL produces natively) must not be accepted.
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ASSERT_GT(len, 0);
  const std::string der_sig(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  EXPECT_EQ(code(input + "." + base64url_encode(der_sig), keys), VerifyError::kBadSignature);
  EXPECT_EQ(code(input + "." + base64url_encode(raw.substr(0, 63)), keys),
            VerifyError::kBadSignature);
  EXPECT_EQ(code(input + "." + base64url_encode(raw + '\0'), keys), VerifyError::kBadSignature);
}

// ---- key selection ----

TEST_F(JwtTest, UnknownKidIsRejected) {
  const SigningKey key = SigningKey::generate(Alg::kEdDSA);
  const SigningKey stranger = SigningKey::generate(Alg::kEdDSA);
  EXPECT_EQ(code(sign(stranger, claims()), KeySet({key.verify_key()})), VerifyError::kUnknownKid);
  EXPECT_EQ(code(sign(key, claims()), KeySet()), VerifyError::kUnknownKid);
}

TEST_F(JwtTest, TokenWithoutKidUsesTheOnlyKeyOfItsAlg) {
  const SigningKey ed = SigningKey::generate(Alg::kEdDSA);
  const SigningKey rsa = SigningKey::generate(Alg::kRS256);
  const std::string token = forge(ed, R"({"alg":"EdDSA","typ":"JWT"})", payload(claims()));
  auto r = check(token, KeySet({ed.verify_key(), rsa.verify_key()}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->key_id, ed.kid());
  // Two EdDSA keys: ambiguous without a kid.
  const SigningKey ed2 = SigningKey::generate(Alg::kEdDSA);
  EXPECT_EQ(code(token, KeySet({ed.verify_key(), ed2.verify_key()})), VerifyError::kUnknownKid);
}

TEST_F(JwtTest, KeyRotationAcceptsBothKeysInTheSet) {
  const SigningKey old_key = SigningKey::generate(Alg::kES256);
  const SigningKey new_key = SigningKey::generate(Alg::kES256);
  const KeySet keys({old_key.verify_key(), new_key.verify_key()});
  EXPECT_TRUE(check(sign(old_key, claims()), keys).ok());
  EXPECT_TRUE(check(sign(new_key, claims()), keys).ok());
}

// ---- time rules ----

TEST_F(JwtTest, ExpiryHonoursLeewayEdges) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  const KeySet keys({key.verify_key()});
  EXPECT_TRUE(check(sign(key, claims(-29)), keys).ok());  // within 30 s leeway
  EXPECT_EQ(code(sign(key, claims(-30)), keys), VerifyError::kExpired);
  EXPECT_EQ(code(sign(key, claims(-3600)), keys), VerifyError::kExpired);
  opts_.leeway = seconds(0);
  EXPECT_TRUE(check(sign(key, claims(1)), keys).ok());
  EXPECT_EQ(code(sign(key, claims(0)), keys), VerifyError::kExpired);
}

TEST_F(JwtTest, InjectedClockDecidesExpiry) {
  const SigningKey key = SigningKey::generate(Alg::kEdDSA);
  const KeySet keys({key.verify_key()});
  const std::string token = sign(key, claims(60));
  EXPECT_TRUE(check(token, keys).ok());
  clock_.advance(seconds(89));
  EXPECT_TRUE(check(token, keys).ok());
  clock_.advance(seconds(1));
  EXPECT_EQ(code(token, keys), VerifyError::kExpired);
}

TEST_F(JwtTest, NotBeforeAndIssuedAtInTheFutureAreRejected) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  const KeySet keys({key.verify_key()});
  json::object c = claims();
  c["nbf"] = kNow + 30;
  EXPECT_TRUE(check(sign(key, c), keys).ok());
  c["nbf"] = kNow + 31;
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kNotYetValid);
  c.erase("nbf");
  c["iat"] = kNow + 3600;
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kNotYetValid);
}

TEST_F(JwtTest, ExpIsRequiredUnlessDisabled) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  const KeySet keys({key.verify_key()});
  json::object c = claims();
  c.erase("exp");
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kMissingClaim);
  opts_.require_exp = false;
  EXPECT_TRUE(check(sign(key, c), keys).ok());
  c["exp"] = 0;  // present and in 1970: still expired
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kExpired);
}

TEST_F(JwtTest, FractionalNumericDatesAreAccepted) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  json::object c = claims();
  c["exp"] = static_cast<double>(kNow) + 100.5;
  auto r = check(sign(key, c), KeySet({key.verify_key()}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exp, kNow + 100);
}

// ---- issuer / audience ----

TEST_F(JwtTest, IssuerAndAudienceMustMatch) {
  const SigningKey key = SigningKey::generate(Alg::kEdDSA);
  const KeySet keys({key.verify_key()});
  json::object c = claims();
  c["iss"] = "https://evil.example";
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kBadIssuer);
  c = claims();
  c["aud"] = "other-api";
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kBadAudience);
  c["aud"] = json::array{"other-api", "enkisys-api"};
  EXPECT_TRUE(check(sign(key, c), keys).ok());
  c.erase("aud");
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kMissingClaim);
  c = claims();
  c.erase("iss");
  EXPECT_EQ(code(sign(key, c), keys), VerifyError::kMissingClaim);
  opts_.issuers.clear();
  opts_.audiences.clear();
  c.erase("aud");
  EXPECT_TRUE(check(sign(key, c), keys).ok());
}

// ---- structure ----

TEST_F(JwtTest, MalformedTokensAreRejectedAsMalformed) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  const KeySet keys({key.verify_key()});
  const std::string token = sign(key, claims());
  const std::string h = header(key);
  EXPECT_EQ(code("", keys), VerifyError::kMalformed);
  EXPECT_EQ(code(token.substr(0, token.rfind('.')), keys), VerifyError::kMalformed);
  EXPECT_EQ(code(token + ".x", keys), VerifyError::kMalformed);
  EXPECT_EQ(code("." + token, keys), VerifyError::kMalformed);
  EXPECT_EQ(code(token + "=", keys), VerifyError::kMalformed);  // padded signature
  EXPECT_EQ(code(forge(key, "[1,2]", payload(claims())), keys), VerifyError::kMalformed);
  EXPECT_EQ(code(forge(key, "{not json", payload(claims())), keys), VerifyError::kMalformed);
  EXPECT_EQ(code(forge(key, h, "[1]"), keys), VerifyError::kMalformed);
  EXPECT_EQ(code(forge(key, R"({"typ":"JWT"})", payload(claims())), keys), VerifyError::kMalformed);
  const std::string crit = R"({"alg":"HS256","kid":")" + key.kid() + R"(","crit":["b64"]})";
  EXPECT_EQ(code(forge(key, crit, payload(claims())), keys), VerifyError::kMalformed);
  for (const auto& [name, value] :
       std::vector<std::pair<const char*, json::value>>{{"exp", "soon"},
                                                        {"nbf", true},
                                                        {"aud", 7},
                                                        {"roles", json::array{"a", 1}},
                                                        {"roles", "admin"},
                                                        {"sub", 1},
                                                        {"exp", 18446744073709551615ull}}) {
    json::object c = claims();
    c[name] = value;
    EXPECT_EQ(code(sign(key, c), keys), VerifyError::kMalformed) << name;
  }
}

TEST_F(JwtTest, OversizedTokenIsRejectedBeforeAnyWork) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  const KeySet keys({key.verify_key()});
  json::object c = claims();
  c["pad"] = std::string(7000, 'x');
  const std::string big = sign(key, c);
  ASSERT_GT(big.size(), 8192u);
  auto r = check(big, keys);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, VerifyError::kMalformed);
  EXPECT_NE(r.error().message.find("8192"), std::string::npos);
  opts_.max_token_bytes = 16384;
  EXPECT_TRUE(check(big, keys).ok());
}

TEST(VerifyErrorCode, NamesAreStable) {
  EXPECT_EQ(code_name(VerifyError::kExpired), "expired");
  EXPECT_EQ(code_name(VerifyError::kAlgNotAllowed), "alg_not_allowed");
}

}  // namespace
}  // namespace enkisys::security
