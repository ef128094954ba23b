// Calculator: precedence, associativity, functions, errors with positions, limits.
#include "enkisys/tools/calculator.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "enkisys/core/utf8.hpp"
#include "enkisys/tools/text.hpp"

namespace enkisys::tools {
namespace {

double eval(std::string_view e) {
  auto r = evaluate_expression(e);
  EXPECT_TRUE(r.ok()) << e << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : std::nan("");
}

std::string error_of(std::string_view e) {
  auto r = evaluate_expression(e);
  EXPECT_FALSE(r.ok()) << e;
  return r.ok() ? "" : r.error().message;
}

TEST(Calculator, PrecedenceAndParentheses) {
  EXPECT_DOUBLE_EQ(eval("1 + 2 * 3"), 7);
  EXPECT_DOUBLE_EQ(eval("(1 + 2) * 3"), 9);
  EXPECT_DOUBLE_EQ(eval("10 - 4 - 3"), 3);  // left-assoc
  EXPECT_DOUBLE_EQ(eval("64 / 4 / 2"), 8);  // left-assoc
  EXPECT_DOUBLE_EQ(eval("7 % 4 * 2"), 6);
}

TEST(Calculator, PowerIsRightAssociativeAndBindsTighterThanUnaryMinus) {
  EXPECT_DOUBLE_EQ(eval("2 ^ 3 ^ 2"), 512);
  EXPECT_DOUBLE_EQ(eval("-2 ^ 2"), -4);
  EXPECT_DOUBLE_EQ(eval("(-2) ^ 2"), 4);
  EXPECT_DOUBLE_EQ(eval("2 ^ -1"), 0.5);
  EXPECT_DOUBLE_EQ(eval("--3"), 3);
  EXPECT_DOUBLE_EQ(eval("+-+3"), -3);
}

TEST(Calculator, NumberForms) {
  EXPECT_DOUBLE_EQ(eval("1.5e3"), 1500);
  EXPECT_DOUBLE_EQ(eval(".25 + 2."), 2.25);
  EXPECT_DOUBLE_EQ(eval("1E-2"), 0.01);
}

TEST(Calculator, FunctionsAndConstants) {
  EXPECT_DOUBLE_EQ(eval("sqrt(16) + abs(-2)"), 6);
  EXPECT_NEAR(eval("sin(pi / 2) + cos(0)"), 2, 1e-12);
  EXPECT_NEAR(eval("ln(e) + log10(1000) + log2(8)"), 7, 1e-12);
  EXPECT_NEAR(eval("log(8, 2)"), 3, 1e-12);
  EXPECT_DOUBLE_EQ(eval("floor(2.7) + ceil(2.1) + round(2.5)"), 8);
  EXPECT_DOUBLE_EQ(eval("min(3, 1, 2) + max(4, 9) + pow(2, 10)"), 1034);
  EXPECT_NEAR(eval("atan(1) * 4"), M_PI, 1e-12);
  EXPECT_NEAR(eval("exp(0) + asin(1) - acos(0) + tan(0)"), 1, 1e-12);
}

TEST(Calculator, DivisionByZeroNamesThePosition) {
  EXPECT_EQ(error_of("1 / 0"), "at position 3: division by zero");
  EXPECT_EQ(error_of("5 % (2 - 2)"), "at position 3: remainder by zero");
}

TEST(Calculator, NonFiniteResultsAreErrors) {
  EXPECT_NE(error_of("sqrt(-1)").find("result is not a finite number"), std::string::npos);
  EXPECT_NE(error_of("10 ^ 400").find("result is not a finite number"), std::string::npos);
  EXPECT_NE(error_of("ln(0)").find("result is not a finite number"), std::string::npos);
  EXPECT_NE(error_of("1e400").find("out of range"), std::string::npos);
}

TEST(Calculator, SyntaxErrorsNamePositions) {
  EXPECT_EQ(error_of("1 +"), "at position 4: unexpected end of expression");
  EXPECT_EQ(error_of("(1 + 2"), "at position 7: expected ')'");
  EXPECT_EQ(error_of("2 3"), "at position 3: unexpected '3'");
  EXPECT_EQ(error_of("foo(1)"), "at position 1: unknown function 'foo'");
  EXPECT_EQ(error_of("x + 1"), "at position 1: unknown name 'x'");
  EXPECT_EQ(error_of("sqrt(1, 2)"), "at position 1: sqrt() takes 1 argument(s)");
  EXPECT_EQ(error_of(""), "at position 1: empty expression");
  EXPECT_EQ(error_of("1 ; 2"), "at position 3: unexpected ';'");
}

TEST(Calculator, NoCodeExecutionSurface) {
  for (const char* e : {"__import__('os')", "system(\"ls\")", "1; rm -rf /", "eval(1)", "a=1"}) {
    EXPECT_FALSE(evaluate_expression(e).ok()) << e;
  }
}

TEST(Calculator, LengthAndDepthLimits) {
  EXPECT_TRUE(evaluate_expression(std::string(60, '(') + "1" + std::string(60, ')')).ok());
  EXPECT_NE(error_of(std::string(100, '(') + "1" + std::string(100, ')')).find("nested deeper"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(100, '-') + "1").find("nested deeper"), std::string::npos);
  std::string lng = "1";
  while (lng.size() <= kMaxExpressionLength) lng += "+1";
  EXPECT_NE(error_of(lng).find("longer than 1024"), std::string::npos);
}

TEST(Calculator, ToolEntryPointReturnsIntegersWhenIntegral) {
  auto r = run_calculator(boost::json::object{{"expression", "6 * 7"}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_int64());
  EXPECT_EQ(r->as_int64(), 42);
  auto d = run_calculator(boost::json::object{{"expression", "1 / 4"}});
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(d->as_double(), 0.25);
  auto bad = run_calculator(boost::json::object{{"expr", "1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, errc::invalid_arguments);
}

TEST(Calculator, ErrorsAboutNonAsciiInputAreValidUtf8) {
  // Full-width digits, a Greek letter, an emoji, a lone continuation byte, a truncated sequence.
  for (const std::string e :
       {"\uFF11+\uFF11", "2*\u03C0", "1+\U0001F600", "1+\x80", "1+\xEF\xBC"}) {
    auto r = evaluate_expression(e);
    ASSERT_FALSE(r.ok()) << e;
    EXPECT_EQ(core::to_valid_utf8(r.error().message), r.error().message) << r.error().message;
  }
  auto wide = evaluate_expression("\uFF11+\uFF11");
  EXPECT_EQ(wide.error().message, "at position 1: unexpected '\uFF11' (U+FF11)");
  EXPECT_EQ(evaluate_expression("1+\x80").error().message, "at position 3: unexpected byte 0x80");
}

TEST(Text, ValidUtf8ReplacesIllFormedSequences) {
  EXPECT_EQ(core::to_valid_utf8("caf\u00E9 \U0001F600"), "caf\u00E9 \U0001F600");
  EXPECT_EQ(core::to_valid_utf8("a\xEF"), "a\uFFFD");
  EXPECT_EQ(core::to_valid_utf8("\xC0\xAF"), "\uFFFD\uFFFD");            // overlong '/'
  EXPECT_EQ(core::to_valid_utf8("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // surrogate
  EXPECT_EQ(core::to_valid_utf8("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");
}

}  // namespace
}  // namespace enkisys::tools
