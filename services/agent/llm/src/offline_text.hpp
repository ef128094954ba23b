// Text helpers of the offline answerer: folding, language guess, and the detection of
// arithmetic and time questions. Internal to enkisys_agent_llm; pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace enkisys::agent::detail {

// Lower-case ASCII, Latin-1 accents removed (á → a, ñ → n), every other ASCII byte that is not
// a letter or digit → space. Bytes of other scripts are kept.
std::string fold(std::string_view text);
// The words of a folded text (split on spaces).
std::vector<std::string> words_of(std::string_view folded);
// Content words: folded words without common English and Spanish function words.
std::vector<std::string> content_words(std::string_view text);
// True when the text reads as Spanish rather than English.
bool looks_spanish(std::string_view text);
// The arithmetic expression a message clearly asks to compute ("what is 6*7" → "6*7",
// "how much is 12% of 250" → "12 / 100 * 250"), or nullopt.
std::optional<std::string> arithmetic_expression(std::string_view text);
// The IANA time zone a message asks the time of ("what time is it in Tokyo" → "Asia/Tokyo";
// "UTC" when no known place is named), or nullopt when it does not ask for the time.
std::optional<std::string> time_zone_asked(std::string_view text);
// The sentences of a passage (split after . ! ? and at line breaks), trimmed, non-empty.
std::vector<std::string> sentences_of(std::string_view text);

}  // namespace enkisys::agent::detail
