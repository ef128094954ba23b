// Text analysis of the RAG retrieval core: UTF-8 tokenisation, case and accent folding, stop
// words and Snowball stemming for English and Spanish, and per-document language detection.
//
// Contract:
//  * Input is UTF-8. Invalid bytes never fail a call: each invalid byte counts as a separator
//    (valid_utf8() tells a caller who wants to refuse such input).
//  * A word is a run of letters/digits (ASCII, Latin-1, Latin Extended-A/B and every other
//    non-punctuation code point >= U+0250). Letters/digits joined by '_', '-' or '.' form one
//    compound token (`pg_dump`, `max_connections`, `utf-8`, `postgresql.conf`); analysis indexes
//    the compound as a whole AND its parts.
//  * Tokens longer than kMaxTokenBytes are dropped (base64 blobs, hashes): never an error.
//  * Folding: lower case (ASCII, Latin-1, Latin Extended-A), then accents removed from Latin-1
//    vowels and c-cedilla (á→a, ü→u, ç→c) — n-tilde is kept (año ≠ ano).
//  * Thread safety: the free functions are pure and thread safe. An Analyzer owns a Snowball
//    stemmer, which is NOT thread safe: use one Analyzer per thread (it is cheap to create).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/expected.hpp"

struct sb_stemmer;

namespace enkisys::rag {

enum class Language : std::uint8_t { kEnglish, kSpanish };

inline constexpr std::size_t kMaxTokenBytes = 64;

// "en" / "es".
std::string_view language_code(Language language);
// "en"/"english"/"es"/"spanish" (any case); else kInvalidArgument "invalid_language".
core::Expected<Language> parse_language(std::string_view code);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool valid_utf8(std::string_view text);

struct Token {
  std::string text;       // folded (lower case, accents removed)
  std::size_t begin = 0;  // byte offsets into the input
  std::size_t end = 0;
  bool compound = false;  // contains '_', '-' or '.' between parts
};

// Splits `text` into folded tokens in order (compound tokens whole; see analyze for parts).
std::vector<Token> tokenize(std::string_view text);

// Folds one UTF-8 word: lower case, accents removed (see contract). Invalid bytes are dropped.
std::string fold(std::string_view word);

// True when the folded word is a stop word of `language` (lists compared folded).
bool is_stop_word(Language language, std::string_view folded_word);

// English or Spanish by stop-word ratio over the first 2,000 tokens; English when undecided
// (no stop word of either list, empty text).
Language detect_language(std::string_view text);

// Turns text into index terms: tokens, stop words dropped, Snowball stems (accents folded after
// stemming). A compound token yields itself (unstemmed) followed by its analysed parts.
// Not thread safe (one per thread); movable.
class Analyzer {
 public:
  explicit Analyzer(Language language);
  ~Analyzer();
  Analyzer(Analyzer&& other) noexcept;
  Analyzer& operator=(Analyzer&& other) noexcept;
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  Language language() const { return language_; }

  // Index terms of `text`, in text order (duplicates kept: term frequency matters).
  std::vector<std::string> terms(std::string_view text);
  // Snowball stem of one folded or unfolded word, folded. Spanish "-cion"/"-sion" are read as
  // "-ción"/"-sión" (people type without accents).
  std::string stem(std::string_view word);

 private:
  Language language_;
  sb_stemmer* stemmer_ = nullptr;  // owned
};

}  // namespace enkisys::rag
