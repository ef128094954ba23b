// The embedded Snowball stop-word lists (lower case, accents kept). Internal to the library.
#pragma once

#include <string_view>
#include <vector>

namespace enkisys::rag::detail {

const std::vector<std::string_view>& english_stop_words();
const std::vector<std::string_view>& spanish_stop_words();

}  // namespace enkisys::rag::detail
