#include <gtest/gtest.h>

#include "enkisys/auth/email.hpp"
#include "enkisys/auth/password_policy.hpp"

namespace enkisys::auth {
namespace {

TEST(Email, NormalisesCaseAndSpace) {
  EXPECT_EQ(normalize_email("  Ann.Lee+news@Example.COM \n").email, "ann.lee+news@example.com");
  EXPECT_EQ(normalize_email("a@b.co").email, "a@b.co");
}

TEST(Email, RefusesMalformedAddresses) {
  for (const char* bad :
       {"", "   ", "no-at.example.com", "a@@example.com", "a@b@example.com", "@example.com", "ann@",
        "ann@localhost", ".ann@example.com", "ann.@example.com", "an..n@example.com",
        "ann@-bad.example.com", "ann@exa mple.com", "an n@example.com", "ann@example..com",
        "anné@example.com", "ann\x01@example.com", "ann@example.com\x7f"}) {
    const auto r = normalize_email(bad);
    EXPECT_FALSE(r.email.has_value()) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
  }
  EXPECT_FALSE(normalize_email(std::string(65, 'a') + "@example.com").email);
  EXPECT_FALSE(normalize_email("a@" + std::string(250, 'b') + ".com").email);
}

TEST(PasswordPolicy, ShipsAListOfThousandsOfCommonPasswords) {
  PasswordPolicy p;
  EXPECT_GT(p.common_count(), 5000U);
  for (const char* common : {"password1234", "Password1234", "QWERTYUIOP", "1234567890",
                             "qwerty123456", "iloveyou123", "1q2w3e4r5t", "p@ssw0rd2024"}) {
    EXPECT_TRUE(p.is_common(common)) << common;
    EXPECT_TRUE(p.check(common, "x@example.com").has_value()) << common;
  }
  EXPECT_FALSE(p.is_common("correct horse battery staple"));
}

TEST(PasswordPolicy, LengthIsCountedInCharactersAndCapped) {
  PasswordPolicy p;
  EXPECT_TRUE(p.check("Sh0rt!pwd", "x@example.com").has_value());    // 9 characters
  EXPECT_FALSE(p.check("Sh0rt!pwd+", "x@example.com").has_value());  // 10
  EXPECT_FALSE(p.check("ññññññññññ", "x@example.com").has_value());  // 10 code points
  EXPECT_TRUE(p.check("ñññññññññ", "x@example.com").has_value());    // 9 code points
  EXPECT_TRUE(p.check(std::string(1025, 'x') + "Q", "x@example.com").has_value());
  EXPECT_TRUE(p.check("abc\xff\xfe"
                      "defghij",
                      "x@example.com")
                  .has_value());  // invalid UTF-8
}

TEST(PasswordPolicy, RefusesTheEmailItself) {
  PasswordPolicy p;
  EXPECT_TRUE(p.check("Longusername", "longusername@example.com").has_value());
  EXPECT_TRUE(p.check("longusername@example.com", "longusername@example.com").has_value());
}

TEST(Utf8, RejectsOverlongSurrogatesAndTruncation) {
  EXPECT_EQ(utf8_length("añ€😀"), 4U);
  EXPECT_FALSE(utf8_length("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(utf8_length("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(utf8_length("\xe2\x82"));          // truncated
  EXPECT_FALSE(utf8_length("\xf4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace enkisys::auth
