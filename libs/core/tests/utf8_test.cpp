#include "enkisys/core/utf8.hpp"

#include <gtest/gtest.h>

namespace enkisys::core {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("ñandú \xEF\xBC\x91+\xEF\xBC\x91 \xF0\x9F\x98\x80"));  // １+１ 😀
}

TEST(Utf8, RefusesBrokenOverlongSurrogateAndOutOfRange) {
  EXPECT_FALSE(valid_utf8("\xEF"));              // truncated
  EXPECT_FALSE(valid_utf8("\xEF\xBC"));          // truncated
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_FALSE(valid_utf8("\x80"));
}

TEST(Utf8, ReplacesEachByteThatBeginsNoSequence) {
  EXPECT_EQ(to_valid_utf8("ok"), "ok");
  EXPECT_EQ(to_valid_utf8("a\xEF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_valid_utf8("a\xEF\xBC"), "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(to_valid_utf8("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(valid_utf8(to_valid_utf8("\xC0\xAF\xED\xA0\x80x\xF4\x90\x80\x80")));
}

}  // namespace
}  // namespace enkisys::core
