#include "enkisys/security/key_set.hpp"

#include <algorithm>
#include <stdexcept>

namespace enkisys::security {

KeySet::KeySet(std::vector<VerifyKey> keys) : keys_(std::move(keys)) {
  std::sort(keys_.begin(), keys_.end(),
            [](const VerifyKey& a, const VerifyKey& b) { return a.kid() < b.kid(); });
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].kid().empty()) {
      throw std::invalid_argument("KeySet: key without kid");
    }
    if (i > 0 && keys_[i].kid() == keys_[i - 1].kid()) {
      throw std::invalid_argument("KeySet: duplicate kid \"" + keys_[i].kid() + "\"");
    }
  }
}

const VerifyKey* KeySet::find(std::string_view kid) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), kid,
                             [](const VerifyKey& k, std::string_view id) { return k.kid() < id; });
  return it != keys_.end() && it->kid() == kid ? &*it : nullptr;
}

const VerifyKey* KeySet::select(std::string_view kid, bool has_kid, Alg alg) const {
  if (has_kid) {
    return find(kid);
  }
  const VerifyKey* only = nullptr;
  for (const auto& k : keys_) {
    if (k.alg() != alg) {
      continue;
    }
    if (only) {
      return nullptr;  // ambiguous without a kid
    }
    only = &k;
  }
  return only;
}

}  // namespace enkisys::security
