#include "enkisys/tools/calculator.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/tools/text.hpp"

namespace enkisys::tools {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  core::Expected<double> run() {
    if (s_.size() > kMaxExpressionLength) {
      return make_error(errc::invalid_arguments,
                        "expression longer than " + std::to_string(kMaxExpressionLength) + " bytes",
                        "/expression");
    }
    skip();
    if (pos_ == s_.size()) return fail(pos_, "empty expression");
    const double v = expr();
    if (!error_) {
      skip();
      if (pos_ != s_.size()) fail(pos_, "unexpected " + describe_char_at(s_, pos_));
    }
    if (error_) return *error_;
    return v;
  }

 private:
  Error fail(std::size_t at, std::string message) {
    if (!error_) {
      error_ = make_error(errc::invalid_arguments,
                          "at position " + std::to_string(at + 1) + ": " + std::move(message),
                          "/expression");
    }
    return *error_;
  }

  void skip() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  double finite(double v, std::size_t at) {
    if (!error_ && !std::isfinite(v)) fail(at, "result is not a finite number");
    return v;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) { ++p_.depth_; }
    ~DepthGuard() { --p_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    Parser& p_;
  };

  bool too_deep() {
    if (depth_ > kMaxExpressionDepth) {
      fail(pos_, "expression nested deeper than " + std::to_string(kMaxExpressionDepth));
      return true;
    }
    return false;
  }

  double expr() {
    double v = term();
    while (!error_) {
      skip();
      const std::size_t at = pos_;
      if (eat('+'))
        v = finite(v + term(), at);
      else if (eat('-'))
        v = finite(v - term(), at);
      else
        break;
    }
    return v;
  }

  double term() {
    double v = unary();
    while (!error_) {
      skip();
      const std::size_t at = pos_;
      if (eat('*')) {
        v = finite(v * unary(), at);
      } else if (eat('/') || eat('%')) {
        const bool mod = s_[at] == '%';
        const double r = unary();
        if (error_) break;
        if (r == 0) {
          fail(at, mod ? "remainder by zero" : "division by zero");
          break;
        }
        v = finite(mod ? std::fmod(v, r) : v / r, at);
      } else {
        break;
      }
    }
    return v;
  }

  double unary() {
    const bool minus = eat('-');
    if (!minus && !eat('+')) return power();
    DepthGuard g(*this);
    if (too_deep()) return 0;
    const double v = unary();
    return minus ? -v : v;
  }

  double power() {
    const double base = atom();
    if (error_) return 0;
    skip();
    const std::size_t at = pos_;
    if (eat('^')) {
      const double exponent = unary();
      if (error_) return 0;
      return finite(std::pow(base, exponent), at);
    }
    return base;
  }

  double atom() {
    DepthGuard g(*this);  // parentheses and calls nest through here
    if (too_deep()) return 0;
    skip();
    if (pos_ >= s_.size()) {
      fail(pos_, "unexpected end of expression");
      return 0;
    }
    const char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      const double v = expr();
      if (!error_ && !eat(')')) fail(pos_, "expected ')'");
      return v;
    }
    if ((c >= '0' && c <= '9') || c == '.') return number();
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return identifier();
    fail(pos_, "unexpected " + describe_char_at(s_, pos_));
    return 0;
  }

  double number() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
      if (p < s_.size() && s_[p] >= '0' && s_[p] <= '9') {
        pos_ = p;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      }
    }
    double v = 0;
    const auto r = std::from_chars(s_.data() + start, s_.data() + pos_, v);
    if (r.ec == std::errc::result_out_of_range) {
      fail(start, "number out of range");
      return 0;
    }
    if (r.ec != std::errc() || r.ptr != s_.data() + pos_) {
      fail(start, "malformed number");
      return 0;
    }
    return v;
  }

  double identifier() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
      ++pos_;
    const std::string_view name = s_.substr(start, pos_ - start);
    if (name == "pi") return std::numbers::pi;
    if (name == "e") return std::numbers::e;
    skip();
    if (pos_ >= s_.size() || s_[pos_] != '(') {
      fail(start, "unknown name '" + std::string(name) + "'");
      return 0;
    }
    ++pos_;
    std::vector<double> args;
    args.push_back(expr());
    while (!error_ && eat(',')) args.push_back(expr());
    if (error_) return 0;
    if (!eat(')')) {
      fail(pos_, "expected ')' or ','");
      return 0;
    }
    return call(name, args, start);
  }

  double call(std::string_view f, const std::vector<double>& a, std::size_t at) {
    using Fn = double (*)(double);
    static constexpr std::pair<std::string_view, Fn> kUnary[] = {
        {"sqrt", [](double x) { return std::sqrt(x); }},
        {"abs", [](double x) { return std::fabs(x); }},
        {"sin", [](double x) { return std::sin(x); }},
        {"cos", [](double x) { return std::cos(x); }},
        {"tan", [](double x) { return std::tan(x); }},
        {"asin", [](double x) { return std::asin(x); }},
        {"acos", [](double x) { return std::acos(x); }},
        {"atan", [](double x) { return std::atan(x); }},
        {"ln", [](double x) { return std::log(x); }},
        {"log10", [](double x) { return std::log10(x); }},
        {"log2", [](double x) { return std::log2(x); }},
        {"exp", [](double x) { return std::exp(x); }},
        {"floor", [](double x) { return std::floor(x); }},
        {"ceil", [](double x) { return std::ceil(x); }},
        {"round", [](double x) { return std::round(x); }}};
    auto arity = [&](std::size_t lo, std::size_t hi) {
      if (a.size() < lo || a.size() > hi) {
        fail(at, std::string(f) + "() takes " +
                     (lo == hi ? std::to_string(lo)
                               : std::to_string(lo) + " to " + std::to_string(hi)) +
                     " argument(s)");
        return false;
      }
      return true;
    };
    for (const auto& [name, fn] : kUnary) {
      if (name == f) return arity(1, 1) ? finite(fn(a[0]), at) : 0;
    }
    if (f == "log") {
      if (!arity(1, 2)) return 0;
      return finite(a.size() == 1 ? std::log(a[0]) : std::log(a[0]) / std::log(a[1]), at);
    }
    if (f == "pow") return arity(2, 2) ? finite(std::pow(a[0], a[1]), at) : 0;
    if (f == "min") return arity(1, 64) ? *std::min_element(a.begin(), a.end()) : 0;
    if (f == "max") return arity(1, 64) ? *std::max_element(a.begin(), a.end()) : 0;
    fail(at, "unknown function '" + std::string(f) + "'");
    return 0;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::optional<Error> error_;
};

}  // namespace

core::Expected<double> evaluate_expression(std::string_view expression) {
  return Parser(expression).run();
}

core::Expected<boost::json::value> run_calculator(const boost::json::value& arguments) {
  const auto* obj = arguments.if_object();
  const auto* expr = obj ? obj->if_contains("expression") : nullptr;
  if (!expr || !expr->is_string()) {
    return make_error(errc::invalid_arguments, "argument 'expression' (string) is required",
                      "/expression");
  }
  auto r = evaluate_expression(expr->get_string());
  if (!r) return r.error();
  const double v = *r;
  if (v == std::trunc(v) && std::fabs(v) <= 9007199254740992.0) {
    return boost::json::value(static_cast<std::int64_t>(v));
  }
  return boost::json::value(v);
}

boost::json::object calculator_parameters() {
  return boost::json::parse(R"({"type":"object","properties":{"expression":{"type":"string",
    "maxLength":1024,"description":"Arithmetic expression, e.g. \"2 * (3 + 4) ^ 2 / sqrt(16)\""}},
    "required":["expression"],"additionalProperties":false})")
      .as_object();
}

}  // namespace enkisys::tools
