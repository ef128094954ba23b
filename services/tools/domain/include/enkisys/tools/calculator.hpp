// The `calculator` builtin: a safe arithmetic expression evaluator (recursive descent; nothing
// is ever executed or looked up outside the fixed tables below).
//
// Grammar (whitespace ignored):
//   expr  := term (('+' | '-') term)*
//   term  := unary (('*' | '/' | '%') unary)*
//   unary := ('+' | '-') unary | power
//   power := atom ('^' unary)?            -- right-associative, binds tighter than unary minus:
//                                            -2^2 = -4, 2^3^2 = 512, 2^-1 = 0.5
//   atom  := number | constant | function '(' expr (',' expr)* ')' | '(' expr ')'
// numbers: 12, 3.5, .5, 1e-3; constants: pi, e; functions: sqrt abs sin cos tan asin acos atan
// ln log log10 log2 exp floor ceil round (one argument), log(x, base), pow(x, y), min/max (one or
// more). `log(x)` is the natural logarithm. '%' is the floating remainder (fmod).
//
// Limits and errors: input <= 1024 bytes, nesting (parentheses, calls, unary signs) <= 64.
// Division or remainder by zero, and any non-finite intermediate or final value, are errors
// ("result is not a finite number"). Error messages start with "at position N:" (1-based).
// Pure and thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "enkisys/tools/errors.hpp"

namespace enkisys::tools {

inline constexpr std::size_t kMaxExpressionLength = 1024;
inline constexpr int kMaxExpressionDepth = 64;

// Error code: errc::invalid_arguments, field "/expression".
core::Expected<double> evaluate_expression(std::string_view expression);

// Builtin entry point: arguments {"expression": string} -> the numeric result (an integer JSON
// number when the value is integral and exactly representable, else a double).
core::Expected<boost::json::value> run_calculator(const boost::json::value& arguments);

// JSON Schema of the calculator's arguments.
boost::json::object calculator_parameters();

}  // namespace enkisys::tools
