// Email addresses as account names: one normal form so that "  Ann@Example.COM " and
// "ann@example.com" are the same account.
//
// Contract: pure, thread-safe. normalize_email() trims ASCII whitespace, lower-cases the whole
// address (local part too: accounts are case-insensitive) and validates it: exactly one '@';
// local part 1..64 characters of RFC 5322 atext and non-leading, non-trailing, non-doubled
// dots; domain 1..253 characters of dot-separated labels [a-z0-9-] (1..63, no leading or
// trailing '-') with at least one dot; whole address at most 254 characters; ASCII only
// (internationalised addresses are refused with a clear message).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace enkisys::auth {

struct EmailResult {
  std::optional<std::string> email;  // the normal form when valid
  std::string error;                 // why not, for the API error message
};

EmailResult normalize_email(std::string_view raw);

}  // namespace enkisys::auth
