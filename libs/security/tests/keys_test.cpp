#include "enkisys/security/keys.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "enkisys/security/secrets.hpp"
#include "test_util.hpp"

namespace enkisys::security {
namespace {

namespace fs = std::filesystem;

class KeysByAlg : public ::testing::TestWithParam<Alg> {};

TEST_P(KeysByAlg, SignatureVerifiesAndTamperingIsDetected) {
  const SigningKey key = SigningKey::generate(GetParam());
  const VerifyKey pub = key.verify_key();
  EXPECT_EQ(pub.alg(), GetParam());
  EXPECT_EQ(pub.kid(), key.kid());
  const std::string sig = key.sign("message");
  EXPECT_TRUE(pub.verify("message", sig));
  EXPECT_FALSE(pub.verify("messagf", sig));
  std::string bad = sig;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
  EXPECT_FALSE(pub.verify("message", bad));
  EXPECT_FALSE(pub.verify("message", sig.substr(1)));
  EXPECT_FALSE(SigningKey::generate(GetParam()).verify_key().verify("message", sig));
}

TEST_P(KeysByAlg, DefaultKidIsTheThumbprint) {
  const SigningKey key = SigningKey::generate(GetParam());
  EXPECT_EQ(key.kid(), key.verify_key().thumbprint());
  EXPECT_EQ(key.kid().size(), 43u);
  EXPECT_EQ(key.with_kid("k1").kid(), "k1");
  EXPECT_EQ(key.verify_key().with_kid("k2").kid(), "k2");
}

INSTANTIATE_TEST_SUITE_P(AllAlgs, KeysByAlg,
                         ::testing::Values(Alg::kEdDSA, Alg::kRS256, Alg::kES256, Alg::kHS256),
                         [](const auto& p) { return std::string(alg_name(p.param)); });

class AsymmetricKeys : public ::testing::TestWithParam<Alg> {};

TEST_P(AsymmetricKeys, PemRoundTripKeepsKeyAndKid) {
  const SigningKey key = SigningKey::generate(GetParam());
  auto again = SigningKey::from_private_pem(key.private_pem());
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->kid(), key.kid());
  EXPECT_EQ(again->alg(), GetParam());
  auto pub = VerifyKey::from_public_pem(key.verify_key().public_pem());
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->kid(), key.kid());
  EXPECT_TRUE(pub->verify("m", again->sign("m")));
  // A public PEM is not a private key.
  EXPECT_FALSE(SigningKey::from_private_pem(key.verify_key().public_pem()).ok());
}

INSTANTIATE_TEST_SUITE_P(Asym, AsymmetricKeys,
                         ::testing::Values(Alg::kEdDSA, Alg::kRS256, Alg::kES256),
                         [](const auto& p) { return std::string(alg_name(p.param)); });

TEST(Keys, Es256SignaturesAreRawRAndS) {
  const SigningKey key = SigningKey::generate(Alg::kES256);
  EXPECT_EQ(key.sign("m").size(), 64u);
  EXPECT_EQ(SigningKey::generate(Alg::kEdDSA).sign("m").size(), 64u);
  EXPECT_EQ(SigningKey::generate(Alg::kRS256).sign("m").size(), 256u);
  EXPECT_EQ(SigningKey::generate(Alg::kHS256).sign("m").size(), 32u);
}

TEST(Keys, Ed25519MatchesRfc8037SigningVector) {
  auto key = SigningKey::from_private_pem(testing::ed25519_pem_from_seed(testing::kRfc8037Seed));
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(base64url_encode(key->sign(testing::kRfc8037SigningInput)), testing::kRfc8037Signature);
}

TEST(Keys, RejectsWeakOrUnsupportedKeys) {
  EXPECT_FALSE(SigningKey::from_secret(std::string(31, 'k')).ok());
  EXPECT_TRUE(SigningKey::from_secret(std::string(32, 'k')).ok());
  EXPECT_FALSE(VerifyKey::from_secret("short").ok());

  EVP_PKEY* rsa1024 = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024));
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_TRUE(rsa1024 && p384);
  for (EVP_PKEY* k : {rsa1024, p384}) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long len = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
    auto loaded = SigningKey::from_private_pem(std::string(data, static_cast<std::size_t>(len)));
    EXPECT_FALSE(loaded.ok());
    BIO_free(bio);
    EVP_PKEY_free(k);
  }
  EXPECT_FALSE(SigningKey::from_private_pem("not a pem").ok());
}

TEST(Keys, SymmetricKeysHaveNoPem) {
  const SigningKey key = SigningKey::generate(Alg::kHS256);
  EXPECT_THROW((void)key.private_pem(), std::logic_error);
  EXPECT_THROW((void)key.verify_key().public_pem(), std::logic_error);
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("enkisys-keys-" + random_token(8));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 0777;
  }
  fs::path dir_;
};

TEST_F(KeyFileTest, SavedKeyIsOwnerOnlyAndLoadsBack) {
  const SigningKey key = SigningKey::generate(Alg::kEdDSA);
  const fs::path path = dir_ / "signing.pem";
  ASSERT_TRUE(key.save_pem_file(path).ok());
  EXPECT_EQ(mode_of(path), 0600u);
  auto loaded = SigningKey::load_pem_file(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->kid(), key.kid());
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, SaveReplacesAnExistingFileWithAnOwnerOnlyOne) {
  const fs::path path = dir_ / "signing.pem";
  std::ofstream(path) << "old";
  fs::permissions(path, fs::perms(0644));
  const SigningKey key = SigningKey::generate(Alg::kES256);
  ASSERT_TRUE(key.save_pem_file(path).ok());
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(SigningKey::load_pem_file(path).value().kid(), key.kid());
}

TEST_F(KeyFileTest, RefusesGroupOrWorldReadableKeyWithAClearMessage) {
  const fs::path path = dir_ / "signing.pem";
  ASSERT_TRUE(SigningKey::generate(Alg::kEdDSA).save_pem_file(path).ok());
  for (unsigned mode : {0640u, 0604u, 0660u, 0644u}) {
    fs::permissions(path, fs::perms(mode));
    auto loaded = SigningKey::load_pem_file(path);
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    EXPECT_NE(loaded.error().find("chmod 600"), std::string::npos) << loaded.error();
    EXPECT_NE(loaded.error().find(path.string()), std::string::npos) << loaded.error();
  }
  fs::permissions(path, fs::perms(0400));
  EXPECT_TRUE(SigningKey::load_pem_file(path).ok());
}

TEST_F(KeyFileTest, MissingFileIsAnErrorValue) {
  auto loaded = SigningKey::load_pem_file(dir_ / "absent.pem");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("absent.pem"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::security
