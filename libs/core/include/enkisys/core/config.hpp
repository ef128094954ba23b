// 12-factor configuration: every setting comes from an environment variable, declared once with
// its help text, default and validation. `--help` prints the declared variables.
//
// Contract: declare at wiring time, load() once, then get*() from any thread (read-only).
// Secret variables are never printed (help shows only whether they are set).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::core {

struct EnvVar {
  std::string name;
  std::string help;
  std::string default_value;  // used when unset; "" with required=false means "unset"
  bool required = false;
  bool secret = false;
  // Returns an error message for an invalid value, or nullopt when valid.
  std::function<std::optional<std::string>(std::string_view)> validate = {};
};

// Common validators.
std::function<std::optional<std::string>(std::string_view)> integer_in(std::int64_t lo,
                                                                       std::int64_t hi);
std::function<std::optional<std::string>(std::string_view)> one_of(std::vector<std::string> values);

// The contents of a secret file (a *_FILE variable: Docker/compose secrets) without its trailing
// line break(s). Errors name the variable and the path, never the contents: a file that cannot
// be read, an empty one, or one shorter than `min_bytes`. The one reader of secret files.
Expected<std::string> read_secret_file(std::string_view variable, const std::string& path,
                                       std::size_t min_bytes = 1);

class EnvConfig {
 public:
  using Getenv = std::function<const char*(const char*)>;

  EnvConfig(std::string program, std::string summary);
  EnvConfig& add(EnvVar var);

  // Reads and validates every variable. On failure returns false and sets *error to a message
  // naming each bad variable (one per line).
  bool load(const Getenv& getenv, std::string* error);

  std::string get(std::string_view name) const;  // REQUIRES: declared
  std::int64_t get_int(std::string_view name) const;
  bool is_set(std::string_view name) const;
  // read_secret_file() of the path held by `name`; nullopt when the variable is unset or empty.
  // Throws std::runtime_error with the reader's message when the file is unusable (at start).
  std::optional<std::string> secret_file(std::string_view name, std::size_t min_bytes = 1) const;
  std::string help_text() const;

 private:
  std::string program_, summary_;
  std::vector<EnvVar> vars_;
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, bool, std::less<>> set_;
};

}  // namespace enkisys::core
