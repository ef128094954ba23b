// libFuzzer target: the request bodies of the auth service's account routes. Input = one byte
// choosing the route (signup/login, refresh, password) + the body. Runs the handlers' own
// parsing (core::parse_json_object, strict fields, size and UTF-8 limits), then the e-mail
// normal form and the password policy on what was accepted. Bad input must end in a 4xx
// ApiError; anything else (a crash, another exception, a broken invariant) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "enkisys/auth/api_support.hpp"
#include "enkisys/auth/email.hpp"
#include "enkisys/auth/password_policy.hpp"

namespace {

using namespace enkisys;

void check(bool invariant) {
  if (!invariant) __builtin_trap();
}

// A valid normal form is short, lower-case ASCII, and its own normal form.
void check_email(std::string_view raw) {
  const auto email = auth::normalize_email(raw);
  if (!email) {
    check(email.error().code == "invalid_email" && !email.error().message.empty());
    return;
  }
  check(email->size() <= auth::kMaxEmailBytes && email->find('@') != std::string::npos);
  for (const char c : *email) check(c > 0x20 && c < 0x7f && !(c >= 'A' && c <= 'Z'));
  check(auth::normalize_email(*email).value() == *email);
}

void check_password(const auth::PasswordPolicy& policy, std::string_view password,
                    std::string_view email) {
  const core::Status st = policy.check(password, email, "/password");
  if (!st) {
    check(st.error().code == "weak_password" && st.error().field == "/password");
    return;
  }
  check(password.size() <= auth::api::kMaxPasswordBytes);
  check(auth::utf8_length(password).value_or(0) >= 10);
  check(auth::visible_length(password).value_or(0) >= 8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auth::PasswordPolicy policy;
  if (size == 0) return 0;
  core::Request req{core::http::verb::post, "/api/auth/login", 11};
  req.set(core::http::field::content_type, "application/json");
  req.body().assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 3) {
      case 0: {
        const auto creds = auth::api::credentials_of(req);
        check_email(creds.email);
        const auto email = auth::normalize_email(creds.email);
        check_password(policy, creds.password, email ? std::string_view(*email) : "");
        break;
      }
      case 1:
        check(auth::api::refresh_token_of(req).size() <= auth::api::kMaxTokenBytes);
        break;
      default: {
        const auto change = auth::api::password_change_of(req);
        check_password(policy, change.next, "ann@example.com");
        break;
      }
    }
  } catch (const core::ApiError& e) {
    const auto status = static_cast<unsigned>(e.status());
    check(status >= 400 && status < 500);
  }
  return 0;
}
