// Email addresses as account names: one normal form so that "  Ann@Example.COM " and
// "ann@example.com" are the same account.
//
// Contract: pure, thread-safe. normalize_email() trims ASCII whitespace, lower-cases the whole
// address (local part too: accounts are case-insensitive) and validates it: exactly one '@';
// local part 1..64 characters of RFC 5322 atext and non-leading, non-trailing, non-doubled
// dots; domain 1..253 characters of dot-separated labels [a-z0-9-] (1..63, no leading or
// trailing '-') with at least one dot; whole address at most 254 characters; ASCII only
// (internationalised addresses are refused with a clear message). 254 is the limit of an SMTP
// path (RFC 5321 §4.5.3.1.3 minus the angle brackets); the API refuses longer fields too.
// Errors are kInvalidArgument "invalid_email" naming the field "/email".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "enkisys/core/expected.hpp"

namespace enkisys::auth {

inline constexpr std::size_t kMaxEmailBytes = 254;

// The normal form of `raw`, or why it is not an address.
core::Expected<std::string> normalize_email(std::string_view raw);

}  // namespace enkisys::auth
