#include "enkisys/core/config.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace enkisys::core {

std::function<std::optional<std::string>(std::string_view)> integer_in(std::int64_t lo,
                                                                       std::int64_t hi) {
  return [lo, hi](std::string_view v) -> std::optional<std::string> {
    std::int64_t n = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size()) return "must be an integer";
    if (n < lo || n > hi) {
      return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    }
    return std::nullopt;
  };
}

std::function<std::optional<std::string>(std::string_view)> one_of(
    std::vector<std::string> values) {
  return [values = std::move(values)](std::string_view v) -> std::optional<std::string> {
    for (const auto& a : values) {
      if (a == v) return std::nullopt;
    }
    std::string msg = "must be one of:";
    for (const auto& a : values) msg += " " + a;
    return msg;
  };
}

EnvConfig::EnvConfig(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

EnvConfig& EnvConfig::add(EnvVar var) {
  for (auto& v : vars_) {
    if (v.name == var.name) {
      v = std::move(var);  // a service may override a common default
      return *this;
    }
  }
  vars_.push_back(std::move(var));
  return *this;
}

bool EnvConfig::load(const Getenv& getenv, std::string* error) {
  std::string errors;
  for (const auto& v : vars_) {
    const char* raw = getenv(v.name.c_str());
    const bool set = raw != nullptr && *raw != '\0';
    set_[v.name] = set;
    std::string value = set ? std::string(raw) : v.default_value;
    if (!set && v.required) {
      errors += v.name + ": is required (" + v.help + ")\n";
      continue;
    }
    if (!value.empty() && v.validate) {
      if (auto err = v.validate(value)) {
        errors += v.name + ": " + *err + (v.secret ? "" : " (got \"" + value + "\")") + "\n";
        continue;
      }
    }
    values_[v.name] = std::move(value);
  }
  if (!errors.empty()) {
    if (!errors.empty() && errors.back() == '\n') errors.pop_back();
    *error = errors;
    return false;
  }
  return true;
}

std::string EnvConfig::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    throw std::logic_error("configuration variable not declared or not loaded: " +
                           std::string(name));
  }
  return it->second;
}

std::int64_t EnvConfig::get_int(std::string_view name) const {
  const std::string v = get(name);
  std::int64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

bool EnvConfig::is_set(std::string_view name) const {
  auto it = set_.find(name);
  return it != set_.end() && it->second;
}

std::string EnvConfig::help_text() const {
  std::ostringstream out;
  out << program_ << " — " << summary_ << "\n\n"
      << "Usage: " << program_ << " [--help | --version | --healthcheck]\n\n"
      << "Configured only by environment variables:\n";
  for (const auto& v : vars_) {
    out << "  " << v.name;
    if (v.required) out << " (required)";
    if (v.secret) out << " (secret)";
    out << "\n      " << v.help;
    if (!v.default_value.empty() && !v.secret) out << " [default: " << v.default_value << "]";
    out << "\n";
  }
  return out.str();
}

Expected<std::string> read_secret_file(std::string_view variable, const std::string& path,
                                       std::size_t min_bytes) {
  const std::string var(variable);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorKind::kInvalidArgument, "secret_unreadable",
                      var + ": cannot read " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = std::move(ss).str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) {
    return make_error(ErrorKind::kInvalidArgument, "secret_empty", var + ": " + path + " is empty");
  }
  if (s.size() < min_bytes) {
    return make_error(
        ErrorKind::kInvalidArgument, "secret_too_short",
        var + ": " + path + " must hold at least " + std::to_string(min_bytes) + " characters");
  }
  return s;
}

std::optional<std::string> EnvConfig::secret_file(std::string_view name,
                                                  std::size_t min_bytes) const {
  if (!is_set(name)) return std::nullopt;
  const std::string path = get(name);
  if (path.empty()) return std::nullopt;
  auto s = read_secret_file(name, path, min_bytes);
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

}  // namespace enkisys::core
