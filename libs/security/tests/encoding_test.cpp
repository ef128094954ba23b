#include "enkisys/security/encoding.hpp"

#include <gtest/gtest.h>

namespace enkisys::security {
namespace {

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");  // url-safe alphabet
}

TEST(Base64Url, RoundTripsAllByteValues) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const std::string in = all.substr(0, len);
    auto out = base64url_decode(base64url_encode(in));
    ASSERT_TRUE(out.has_value()) << len;
    EXPECT_EQ(*out, in);
  }
}

TEST(Base64Url, RejectsPaddingInvalidCharactersAndNonCanonicalBits) {
  EXPECT_FALSE(base64url_decode("Zg=="));    // padding
  EXPECT_FALSE(base64url_decode("Zg="));     // padding
  EXPECT_FALSE(base64url_decode("Zm9v+w"));  // standard alphabet '+'
  EXPECT_FALSE(base64url_decode("Zm9v/w"));  // standard alphabet '/'
  EXPECT_FALSE(base64url_decode("Zm 9v"));   // whitespace
  EXPECT_FALSE(base64url_decode("Zm9v\n"));
  EXPECT_FALSE(base64url_decode("Z"));    // dangling 6 bits
  EXPECT_FALSE(base64url_decode("Zh"));   // "f" with non-zero trailing bits (canonical: Zg)
  EXPECT_FALSE(base64url_decode("Zm9"));  // "fo" with non-zero trailing bits (canonical: Zm8)
  EXPECT_FALSE(base64url_decode(std::string("Zg\0", 3)));
  EXPECT_EQ(base64url_decode("Zg").value(), "f");
  EXPECT_EQ(base64url_decode("Zm8").value(), "fo");
  EXPECT_EQ(base64url_decode("").value(), "");
}

TEST(Base64, StandardVariantRequiresPaddingAndStandardAlphabet) {
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64_decode("Zg==").value(), "f");
  EXPECT_EQ(base64_decode("+/8=").value(), "\xfb\xff");
  EXPECT_FALSE(base64_decode("Zg"));    // padding missing
  EXPECT_FALSE(base64_decode("-_8="));  // url alphabet
  EXPECT_FALSE(base64_decode("Zh=="));  // non-canonical trailing bits
  EXPECT_FALSE(base64_decode("Zg=a"));
}

TEST(Hex, EncodesLowerCase) {
  EXPECT_EQ(hex_encode("\x01\xab\xff"), "01abff");
}

}  // namespace
}  // namespace enkisys::security
