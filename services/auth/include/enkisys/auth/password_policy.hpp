// Which passwords an account may have: at least `min_chars` characters (Unicode code points) of
// which at least `min_visible` are not white space (Unicode White_Space: ten spaces are not a
// password, a passphrase with spaces is), at most `max_bytes` bytes, valid UTF-8, not one of
// the shipped common passwords (compared lower-cased), and not the account's email or the part
// of it before '@'.
//
// Contract: immutable after construction; check() is const and thread-safe. The common list is
// compiled into the binary (data/common-passwords.txt) and parsed once per policy.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "enkisys/core/expected.hpp"

namespace enkisys::auth {

class PasswordPolicy {
 public:
  explicit PasswordPolicy(std::size_t min_chars = 10, std::size_t max_bytes = 1024,
                          std::size_t min_visible = 8);

  // OK when acceptable, else kInvalidArgument "weak_password" naming `field`, with a message
  // for the user (never echoes the password).
  core::Status check(std::string_view password, std::string_view email,
                     std::string field = "/password") const;

  bool is_common(std::string_view password) const;
  std::size_t common_count() const { return common_.size(); }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  std::size_t min_chars_, max_bytes_, min_visible_;
  std::unordered_set<std::string> common_;
};

// Code points in valid UTF-8, or nullopt for invalid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view s);
// Code points of valid UTF-8 `s` that are not Unicode White_Space; nullopt for invalid UTF-8.
std::optional<std::size_t> visible_length(std::string_view s);

}  // namespace enkisys::auth
