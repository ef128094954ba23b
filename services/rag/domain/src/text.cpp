#include "enkisys/rag/text.hpp"

#include <libstemmer.h>

#include <algorithm>
#include <string>
#include <unordered_set>

#include "stop_words.hpp"

namespace enkisys::rag {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes one code point at text[i]; advances i. Invalid sequences yield kInvalid, 1 byte.
char32_t decode(std::string_view text, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return kInvalid;
  }
  if (i + static_cast<std::size_t>(len) > text.size()) {
    ++i;
    return kInvalid;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kInvalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kInvalid;
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

void encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_word_char(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  }
  if (cp == kInvalid) return false;
  if (cp < 0xC0) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;  // Latin-1 symbols
  if (cp == 0xD7 || cp == 0xF7) return false;                    // × ÷
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols, arrows, boxes
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;
  return true;
}

bool is_joiner(char32_t cp) {
  return cp == '_' || cp == '-' || cp == '.';
}

char32_t to_lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) return cp | 1U;
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
    return (cp & 1U) != 0 ? cp + 1 : cp;
  }
  if (cp == 0x178) return 0xFF;
  return cp;
}

char32_t strip_accent(char32_t cp) {
  switch (cp) {
    case 0xE0:
    case 0xE1:
    case 0xE2:
    case 0xE3:
    case 0xE4:
    case 0xE5:
      return 'a';
    case 0xE7:
      return 'c';
    case 0xE8:
    case 0xE9:
    case 0xEA:
    case 0xEB:
      return 'e';
    case 0xEC:
    case 0xED:
    case 0xEE:
    case 0xEF:
      return 'i';
    case 0xF2:
    case 0xF3:
    case 0xF4:
    case 0xF5:
    case 0xF6:
      return 'o';
    case 0xF9:
    case 0xFA:
    case 0xFB:
    case 0xFC:
      return 'u';
    case 0xFD:
    case 0xFF:
      return 'y';
    default:
      return cp;
  }
}

// Lower case, accents kept (what the Snowball stemmers expect).
std::string lower(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t i = 0; i < word.size();) {
    const char32_t cp = decode(word, i);
    if (cp != kInvalid) encode(to_lower(cp), out);
  }
  return out;
}

struct RawToken {
  std::size_t begin;
  std::size_t end;
  bool compound;
};

// Token boundaries (byte offsets) of `text`; compounds whole.
std::vector<RawToken> scan(std::string_view text) {
  std::vector<RawToken> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t next = i;
    if (!is_word_char(decode(text, next))) {
      i = next;
      continue;
    }
    const std::size_t begin = i;
    std::size_t end = next;
    bool compound = false;
    i = next;
    while (i < text.size()) {
      std::size_t j = i;
      const char32_t cp = decode(text, j);
      if (is_word_char(cp)) {
        end = j;
        i = j;
        continue;
      }
      if (!is_joiner(cp) || j >= text.size()) break;
      std::size_t k = j;
      if (!is_word_char(decode(text, k))) break;
      compound = true;
      i = j;
    }
    i = end;
    if (end - begin <= kMaxTokenBytes) out.push_back({begin, end, compound});
  }
  return out;
}

const std::unordered_set<std::string>& stop_set(Language language) {
  auto build = [](const std::vector<std::string_view>& words) {
    std::unordered_set<std::string> set;
    for (auto w : words) set.insert(fold(w));
    return set;
  };
  static const auto kEnglish = build(detail::english_stop_words());
  static const auto kSpanish = build(detail::spanish_stop_words());
  return language == Language::kSpanish ? kSpanish : kEnglish;
}

}  // namespace

std::string_view language_code(Language language) {
  return language == Language::kSpanish ? "es" : "en";
}

core::Expected<Language> parse_language(std::string_view code) {
  std::string c(code);
  std::transform(c.begin(), c.end(), c.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (c == "en" || c == "english") return Language::kEnglish;
  if (c == "es" || c == "spanish") return Language::kSpanish;
  return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_language",
                          "language must be \"en\" or \"es\"", "/language");
}

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (decode(text, i) == kInvalid) return false;
  }
  return true;
}

std::string fold(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t i = 0; i < word.size();) {
    const char32_t cp = decode(word, i);
    if (cp != kInvalid) encode(strip_accent(to_lower(cp)), out);
  }
  return out;
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  for (const auto& raw : scan(text)) {
    out.push_back(
        {fold(text.substr(raw.begin, raw.end - raw.begin)), raw.begin, raw.end, raw.compound});
  }
  return out;
}

bool is_stop_word(Language language, std::string_view folded_word) {
  return stop_set(language).count(std::string(folded_word)) != 0;
}

Language detect_language(std::string_view text) {
  const auto tokens = tokenize(text.substr(0, std::min<std::size_t>(text.size(), 40000)));
  std::size_t en = 0;
  std::size_t es = 0;
  std::size_t seen = 0;
  for (const auto& t : tokens) {
    if (++seen > 2000) break;
    en += is_stop_word(Language::kEnglish, t.text) ? 1 : 0;
    es += is_stop_word(Language::kSpanish, t.text) ? 1 : 0;
  }
  return es > en ? Language::kSpanish : Language::kEnglish;
}

Analyzer::Analyzer(Language language)
    : language_(language),
      stemmer_(sb_stemmer_new(language == Language::kSpanish ? "spanish" : "english", "UTF_8")) {
  if (stemmer_ == nullptr) throw std::bad_alloc();  // only on allocation failure
}

Analyzer::~Analyzer() {
  if (stemmer_ != nullptr) sb_stemmer_delete(stemmer_);
}

Analyzer::Analyzer(Analyzer&& other) noexcept
    : language_(other.language_), stemmer_(std::exchange(other.stemmer_, nullptr)) {}

Analyzer& Analyzer::operator=(Analyzer&& other) noexcept {
  if (this != &other) {
    if (stemmer_ != nullptr) sb_stemmer_delete(stemmer_);
    language_ = other.language_;
    stemmer_ = std::exchange(other.stemmer_, nullptr);
  }
  return *this;
}

std::string Analyzer::stem(std::string_view word) {
  std::string low = lower(word);
  // Users often type Spanish without accents; the Snowball suffixes "-ción"/"-sión" need it.
  if (language_ == Language::kSpanish && low.size() > 5 &&
      (low.ends_with("cion") || low.ends_with("sion"))) {
    low.replace(low.size() - 2, 1, "\xc3\xb3");
  }
  const sb_symbol* s = sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(low.data()),
                                       static_cast<int>(low.size()));
  if (s == nullptr) return fold(low);  // out of memory in the stemmer: unstemmed
  const auto n = static_cast<std::size_t>(sb_stemmer_length(stemmer_));
  return fold(std::string_view(reinterpret_cast<const char*>(s), n));
}

std::vector<std::string> Analyzer::terms(std::string_view text) {
  std::vector<std::string> out;
  auto add_word = [&](std::string_view word) {
    const std::string folded = fold(word);
    if (folded.empty() || is_stop_word(language_, folded)) return;
    out.push_back(stem(word));
  };
  for (const auto& raw : scan(text)) {
    const std::string_view word = text.substr(raw.begin, raw.end - raw.begin);
    if (!raw.compound) {
      add_word(word);
      continue;
    }
    out.push_back(fold(word));
    std::size_t start = 0;
    for (std::size_t i = 0; i <= word.size(); ++i) {
      if (i == word.size() || word[i] == '_' || word[i] == '-' || word[i] == '.') {
        if (i > start) add_word(word.substr(start, i - start));
        start = i + 1;
      }
    }
  }
  return out;
}

}  // namespace enkisys::rag
