#include "enkisys/security/password.hpp"

#include <gtest/gtest.h>

namespace enkisys::security {
namespace {

TEST(PasswordHasher, HashVerifiesOnlyTheRightPassword) {
  const PasswordHasher h = PasswordHasher::for_tests();
  const std::string hash = h.hash("correct horse battery staple");
  EXPECT_EQ(hash.rfind("$argon2id$v=19$", 0), 0u) << hash;
  EXPECT_TRUE(h.verify(hash, "correct horse battery staple"));
  EXPECT_FALSE(h.verify(hash, "correct horse battery stapl"));
  EXPECT_FALSE(h.verify(hash, ""));
}

TEST(PasswordHasher, SaltMakesEachHashDifferent) {
  const PasswordHasher h = PasswordHasher::for_tests();
  EXPECT_NE(h.hash("pw"), h.hash("pw"));
}

TEST(PasswordHasher, PasswordsWithNulBytesAreNotTruncated) {
  const PasswordHasher h = PasswordHasher::for_tests();
  const std::string pw("ab\0cd", 5);
  const std::string hash = h.hash(pw);
  EXPECT_TRUE(h.verify(hash, pw));
  EXPECT_FALSE(h.verify(hash, "ab"));
}

TEST(PasswordHasher, MalformedHashNeverVerifies) {
  const PasswordHasher h = PasswordHasher::for_tests();
  EXPECT_FALSE(h.verify("", "pw"));
  EXPECT_FALSE(h.verify("$argon2id$garbage", "pw"));
  EXPECT_FALSE(h.verify(std::string(500, 'x'), "pw"));
}

TEST(PasswordHasher, NeedsRehashWhenLimitsChange) {
  const PasswordHasher fast = PasswordHasher::for_tests();
  const PasswordHasher other(fast.ops_limit() + 1, fast.mem_limit());
  const std::string hash = fast.hash("pw");
  EXPECT_FALSE(fast.needs_rehash(hash));
  EXPECT_TRUE(other.needs_rehash(hash));
  EXPECT_TRUE(fast.needs_rehash("not a hash"));
  EXPECT_TRUE(PasswordHasher::interactive().needs_rehash(hash));
}

TEST(PasswordHasher, RejectsLimitsOutsideLibsodiumRange) {
  EXPECT_THROW(PasswordHasher(0, 1 << 20), std::invalid_argument);
  EXPECT_THROW(PasswordHasher(2, 1), std::invalid_argument);
}

}  // namespace
}  // namespace enkisys::security
