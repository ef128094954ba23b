// Integer vs number edge cases: exact comparisons across int64, uint64 and double.
#include "test_util.hpp"

namespace enkisys::schema::testing {
namespace {

TEST(Integers, LargeIntegralDoublesAreIntegers) {
  auto s = compile_ok(R"({"type":"integer"})");
  EXPECT_TRUE(valid(s, "1e308"));
  EXPECT_TRUE(valid(s, "-0.0"));
  EXPECT_TRUE(valid(s, "9007199254740993"));      // 2^53 + 1 stays an int64
  EXPECT_TRUE(valid(s, "18446744073709551615"));  // uint64 max
  EXPECT_FALSE(valid(s, "1.0000001"));
}

TEST(Integers, NegativeZeroEqualsZero) {
  EXPECT_TRUE(valid(compile_ok(R"({"const":0})"), "-0.0"));
  EXPECT_TRUE(valid(compile_ok(R"({"maximum":0})"), "-0.0"));
  EXPECT_FALSE(valid(compile_ok(R"({"exclusiveMinimum":0})"), "-0.0"));
}

TEST(Integers, TwoToThe53PlusOneIsComparedExactly) {
  // As doubles both would be 9007199254740992; exact comparison tells them apart.
  auto s = compile_ok(R"({"maximum":9007199254740992})");
  EXPECT_TRUE(valid(s, "9007199254740992"));
  EXPECT_FALSE(valid(s, "9007199254740993"));
  EXPECT_FALSE(valid(compile_ok(R"({"const":9007199254740992})"), "9007199254740993"));
  EXPECT_FALSE(valid(compile_ok(R"({"maximum":9007199254740992.0})"), "9007199254740993"));
}

TEST(Integers, MixedSignednessComparisons) {
  EXPECT_FALSE(valid(compile_ok(R"({"maximum":-1})"), "18446744073709551615"));
  EXPECT_TRUE(valid(compile_ok(R"({"minimum":-9223372036854775808})"), "-9223372036854775808"));
  EXPECT_FALSE(valid(compile_ok(R"({"minimum":0.5})"), "0"));
  EXPECT_TRUE(valid(compile_ok(R"({"minimum":-0.5})"), "0"));
  EXPECT_TRUE(valid(compile_ok(R"({"maximum":1e300})"), "18446744073709551615"));
}

TEST(Integers, MultipleOfExactForBigIntegers) {
  auto s = compile_ok(R"({"multipleOf":2})");
  EXPECT_FALSE(valid(s, "9007199254740993"));
  EXPECT_TRUE(valid(s, "9007199254740994"));
  EXPECT_TRUE(valid(s, "-9223372036854775808"));
}

TEST(Integers, MessagesPrintShortestNumbers) {
  auto e = errors(compile_ok(R"({"minimum":0.1})"), "0");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message, "must be >= 0.1");
}

TEST(Equality, JsonEqualTreatsNumbersByValue) {
  EXPECT_TRUE(
      json_equal(boost::json::parse("[1,{\"a\":2.0}]"), boost::json::parse("[1.0,{\"a\":2}]")));
  EXPECT_FALSE(json_equal(boost::json::parse("[1,2]"), boost::json::parse("[2,1]")));
  EXPECT_FALSE(json_equal(boost::json::parse("\"1\""), boost::json::parse("1")));
}

}  // namespace
}  // namespace enkisys::schema::testing
