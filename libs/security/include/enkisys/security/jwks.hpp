// JWKS documents ({"keys":[...]}, RFC 7517 §5): parse into verification keys, serialize ours.
//
// Contract: pure functions/values, thread safe. parse() fails (Expected error) only when the
// document itself is not a JSON object with a "keys" array; individual keys that are
// unsupported or unsafe (use:"enc", kty "oct", other curves, RSA < 2048, private members,
// duplicate kid, ...) are skipped and listed in skipped() with a reason, so one odd key in an
// identity provider's set does not take verification down. serialize() throws
// std::invalid_argument if asked to publish a symmetric (HS256) key.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/security/expected.hpp"
#include "enkisys/security/key_set.hpp"
#include "enkisys/security/keys.hpp"

namespace enkisys::security {

class Jwks {
 public:
  static Expected<Jwks, std::string> parse(std::string_view document);
  static std::string serialize(const std::vector<VerifyKey>& keys);

  const std::map<std::string, VerifyKey, std::less<>>& keys() const { return keys_; }
  // One line per skipped key: "keys[2] (kid \"x\"): use \"enc\" is not a signature key".
  const std::vector<std::string>& skipped() const { return skipped_; }
  KeySet key_set() const;

 private:
  std::map<std::string, VerifyKey, std::less<>> keys_;
  std::vector<std::string> skipped_;
};

}  // namespace enkisys::security
