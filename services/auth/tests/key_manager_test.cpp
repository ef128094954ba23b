#include "enkisys/auth/key_manager.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <fstream>

#include "backends.hpp"
#include "enkisys/security/jwks.hpp"

namespace enkisys::auth {
namespace {

using std::chrono::seconds;
using testing::TempDir;

security::ManualClock make_clock() {
  return security::ManualClock(std::chrono::sys_seconds(seconds(testing::kStart)));
}

KeyOptions options_in(const TempDir& d) {
  KeyOptions o;
  o.dir = d.path() / "keys";
  o.rotation_period = seconds(0);
  o.retire_grace = seconds(930);
  return o;
}

std::vector<std::filesystem::path> pem_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

TEST(KeyManager, CreatesAPrivateKeyFileWithMode0600AndReloadsIt) {
  TempDir d;
  auto clock = make_clock();
  std::string kid;
  {
    KeyManager km(options_in(d), clock);
    kid = km.active().kid();
    EXPECT_EQ(km.active().alg(), security::Alg::kEdDSA);
  }
  const auto files = pem_files(d.path() / "keys");
  ASSERT_EQ(files.size(), 1U);
  struct stat st {};
  ASSERT_EQ(::stat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  ASSERT_EQ(::stat((d.path() / "keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0U);
  KeyManager again(options_in(d), clock);
  EXPECT_EQ(again.active().kid(), kid);
}

TEST(KeyManager, RefusesAKeyFileOthersCanRead) {
  TempDir d;
  auto clock = make_clock();
  { KeyManager km(options_in(d), clock); }
  const auto file = pem_files(d.path() / "keys").at(0);
  ::chmod(file.c_str(), 0644);
  EXPECT_THROW(KeyManager(options_in(d), clock), std::runtime_error);
}

TEST(KeyManager, RotationKeepsTheOldPublicKeyUntilItsTokensExpired) {
  TempDir d;
  auto clock = make_clock();
  KeyManager km(options_in(d), clock);
  const std::string old_kid = km.active().kid();
  clock.advance(seconds(10));
  auto rotated = km.rotate();
  ASSERT_TRUE(rotated.ok());
  EXPECT_NE(*rotated, old_kid);
  EXPECT_EQ(km.active().kid(), *rotated);
  auto jwks = security::Jwks::parse(km.jwks());
  ASSERT_TRUE(jwks.ok());
  EXPECT_EQ(jwks->keys().size(), 2U);
  EXPECT_TRUE(km.verify_keys()->find(old_kid) != nullptr);
  clock.advance(seconds(929));
  EXPECT_TRUE(km.verify_keys()->find(old_kid) != nullptr);
  clock.advance(seconds(2));
  EXPECT_TRUE(km.verify_keys()->find(old_kid) == nullptr);
  EXPECT_EQ(security::Jwks::parse(km.jwks())->keys().size(), 1U);
  EXPECT_EQ(pem_files(d.path() / "keys").size(), 1U);  // the retired private key is deleted
}

TEST(KeyManager, RotatesByItselfWhenTheActiveKeyIsOld) {
  TempDir d;
  auto clock = make_clock();
  auto o = options_in(d);
  o.rotation_period = std::chrono::hours(24);
  std::vector<std::string> reasons;
  o.on_rotated = [&](const std::string&, const std::string& reason) { reasons.push_back(reason); };
  KeyManager km(o, clock);
  const std::string first = km.active().kid();
  clock.advance(std::chrono::hours(23));
  EXPECT_EQ(km.active().kid(), first);
  clock.advance(std::chrono::hours(1));
  EXPECT_NE(km.active().kid(), first);
  EXPECT_EQ(reasons, (std::vector<std::string>{"initial", "scheduled"}));
}

TEST(KeyManager, ChangingTheAlgorithmStartsANewKeyAndKeepsTheOldPublished) {
  TempDir d;
  auto clock = make_clock();
  std::string ed_kid;
  { ed_kid = KeyManager(options_in(d), clock).active().kid(); }
  auto o = options_in(d);
  o.alg = security::Alg::kRS256;
  KeyManager km(o, clock);
  EXPECT_EQ(km.active().alg(), security::Alg::kRS256);
  EXPECT_TRUE(km.verify_keys()->find(ed_kid) != nullptr);
}

TEST(KeyManager, SecretFileKeyIsUsedAndCannotBeRotatedHere) {
  TempDir d;
  auto clock = make_clock();
  const auto key = security::SigningKey::generate(security::Alg::kEdDSA);
  const auto path = d.path() / "signing.pem";
  std::ofstream(path) << key.private_pem();
  KeyOptions o;
  o.signing_key_file = path;
  KeyManager km(o, clock);
  EXPECT_EQ(km.active().kid(), key.kid());
  EXPECT_FALSE(km.rotate().ok());
  EXPECT_FALSE(km.rotatable());
  o.alg = security::Alg::kRS256;
  EXPECT_THROW(KeyManager(o, clock), std::runtime_error);  // alg mismatch is a clear error
}

}  // namespace
}  // namespace enkisys::auth
