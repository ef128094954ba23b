// KeySet: the immutable kid → VerifyKey map a verifier checks tokens against.
//
// Contract: immutable after construction, so any number of threads may read one instance.
// Owners that rotate keys build a new KeySet and swap a std::shared_ptr<const KeySet>
// atomically (std::atomic_load/store); readers keep their snapshot for the request.
// Construction throws std::invalid_argument on a duplicate or empty kid (a configuration bug).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "enkisys/security/keys.hpp"

namespace enkisys::security {

class KeySet {
 public:
  KeySet() = default;
  explicit KeySet(std::vector<VerifyKey> keys);

  // The key with this kid, or nullptr.
  const VerifyKey* find(std::string_view kid) const;
  // Key selection for a token: by kid when the header has one; otherwise the only key of
  // `alg` (nullptr if there are none or several).
  const VerifyKey* select(std::string_view kid, bool has_kid, Alg alg) const;

  std::size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  const std::vector<VerifyKey>& keys() const { return keys_; }  // sorted by kid

 private:
  std::vector<VerifyKey> keys_;
};

}  // namespace enkisys::security
