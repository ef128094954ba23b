#include <gtest/gtest.h>

#include <algorithm>

#include "enkisys/auth/email.hpp"
#include "enkisys/auth/password_policy.hpp"

namespace enkisys::auth {
namespace {

TEST(Email, NormalisesCaseAndSpace) {
  EXPECT_EQ(normalize_email("  Ann.Lee+news@Example.COM \n").value(), "ann.lee+news@example.com");
  EXPECT_EQ(normalize_email("a@b.co").value(), "a@b.co");
}

TEST(Email, RefusesMalformedAddresses) {
  for (const char* bad :
       {"", "   ", "no-at.example.com", "a@@example.com", "a@b@example.com", "@example.com", "ann@",
        "ann@localhost", ".ann@example.com", "ann.@example.com", "an..n@example.com",
        "ann@-bad.example.com", "ann@exa mple.com", "an n@example.com", "ann@example..com",
        "anné@example.com", "ann\x01@example.com", "ann@example.com\x7f"}) {
    const auto r = normalize_email(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "invalid_email") << bad;
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidArgument) << bad;
    EXPECT_FALSE(r.error().message.empty()) << bad;
  }
  EXPECT_FALSE(normalize_email(std::string(65, 'a') + "@example.com").ok());
  EXPECT_FALSE(normalize_email("a@" + std::string(250, 'b') + ".com").ok());
}

// An address of exactly `bytes` bytes: a 64-character local part and labels of at most 63.
std::string address_of(std::size_t bytes) {
  std::string domain;
  std::size_t left = bytes - 65;  // after the local part and '@'
  while (left > 0) {
    const std::size_t label = std::min<std::size_t>(left == 64 ? 62 : 63, left);
    domain += std::string(label, 'd');
    left -= label;
    if (left > 0) {
      domain += '.';
      --left;
    }
  }
  return std::string(64, 'a') + "@" + domain;
}

TEST(Email, LongestAcceptedIs254Bytes) {
  const std::string longest = address_of(kMaxEmailBytes);
  ASSERT_EQ(longest.size(), 254U);
  EXPECT_EQ(normalize_email(longest).value(), longest);
  const std::string longer = address_of(kMaxEmailBytes + 1);
  ASSERT_EQ(longer.size(), 255U);
  EXPECT_EQ(normalize_email(longer).error().code, "invalid_email");
}

TEST(PasswordPolicy, ShipsAListOfThousandsOfCommonPasswords) {
  PasswordPolicy p;
  EXPECT_GT(p.common_count(), 5000U);
  for (const char* common : {"password1234", "Password1234", "QWERTYUIOP", "1234567890",
                             "qwerty123456", "iloveyou123", "1q2w3e4r5t", "p@ssw0rd2024"}) {
    EXPECT_TRUE(p.is_common(common)) << common;
    EXPECT_FALSE(p.check(common, "x@example.com").ok()) << common;
  }
  EXPECT_FALSE(p.is_common("correct horse battery staple"));
}

TEST(PasswordPolicy, LengthIsCountedInCharactersAndCapped) {
  PasswordPolicy p;
  EXPECT_FALSE(p.check("Sh0rt!pwd", "x@example.com").ok());  // 9 characters
  EXPECT_TRUE(p.check("Sh0rt!pwd+", "x@example.com").ok());  // 10
  EXPECT_TRUE(p.check("ññññññññññ", "x@example.com").ok());  // 10 code points
  EXPECT_FALSE(p.check("ñññññññññ", "x@example.com").ok());  // 9 code points
  EXPECT_FALSE(p.check(std::string(1025, 'x') + "Q", "x@example.com").ok());
  EXPECT_FALSE(p.check("abc\xff\xfe"
                       "defghij",
                       "x@example.com")
                   .ok());  // invalid UTF-8
}

TEST(PasswordPolicy, RefusesTheEmailItself) {
  PasswordPolicy p;
  EXPECT_FALSE(p.check("Longusername", "longusername@example.com").ok());
  EXPECT_FALSE(p.check("longusername@example.com", "longusername@example.com").ok());
}

TEST(PasswordPolicy, WhiteSpaceDoesNotCountTowardsTheEightVisibleCharacters) {
  PasswordPolicy p;
  const auto refused = [&](const std::string& pw) {
    const auto st = p.check(pw, "x@example.com", "/new_password");
    if (st.ok()) return false;
    EXPECT_EQ(st.error().code, "weak_password") << pw;
    EXPECT_EQ(st.error().field, "/new_password") << pw;
    return true;
  };
  EXPECT_TRUE(refused(std::string(10, ' ')));  // ten spaces
  EXPECT_TRUE(refused(" \t \n \r \v \f "));    // ASCII white space
  EXPECT_TRUE(
      refused("\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000"));  // ideographic
  EXPECT_TRUE(refused("a \u00a0 b \u2003 c d e f g"));                           // 7 visible
  EXPECT_FALSE(refused("a b c d e f g h"));  // 8 visible, 15 in all
  EXPECT_FALSE(refused("correct horse battery staple"));
  EXPECT_EQ(visible_length("  ab\u3000c\t"), 3U);
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
