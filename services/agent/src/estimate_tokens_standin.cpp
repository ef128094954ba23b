// Stand-in for the model layer's estimate_tokens (model.hpp), built only while llm/ is absent
// from the build (see CMakeLists.txt): about 4 bytes per token, at least 1 per word.
#include <algorithm>

#include "enkisys/agent/model.hpp"

namespace enkisys::agent {

int estimate_tokens(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return std::max(words, static_cast<int>((text.size() + 3) / 4));
}

}  // namespace enkisys::agent
