#include <algorithm>

#include "enkisys/agent/model.hpp"

namespace enkisys::agent {

int estimate_tokens(std::string_view text) {
  long long words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  const long long by_bytes = (static_cast<long long>(text.size()) + 3) / 4;
  return static_cast<int>(std::min<long long>(std::max(words, by_bytes), 1'000'000'000));
}

}  // namespace enkisys::agent
