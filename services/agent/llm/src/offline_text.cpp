#include "offline_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace enkisys::agent::detail {

namespace {

// The Latin-1 letters after a 0xC3 lead byte (0x80..0xBF), folded; '-': not a letter.
char fold_c3(unsigned char second) {
  static constexpr std::string_view kMap =
      "aaaaaaaceeeeiiiidnooooo-ouuuuy-saaaaaaaceeeeiiiidnooooo-ouuuuy-y";
  const std::size_t i = second - 0x80U;
  if (second < 0x80 || i >= kMap.size() || kMap[i] == '-') return '\0';
  return kMap[i];
}

const std::array<std::string_view, 98> kStopwords = {
    "the",   "a",      "an",    "of",    "in",    "on",     "at",     "to",    "for",    "and",
    "or",    "is",     "are",   "was",   "were",  "be",     "it",     "its",   "this",   "that",
    "what",  "which",  "who",   "how",   "why",   "when",   "where",  "do",    "does",   "did",
    "can",   "could",  "i",     "you",   "we",    "my",     "your",   "me",    "with",   "by",
    "from",  "as",     "about", "there", "tell",  "please", "el",     "la",    "los",    "las",
    "un",    "una",    "unos",  "unas",  "de",    "del",    "en",     "y",     "o",      "que",
    "es",    "son",    "se",    "por",   "para",  "con",    "como",   "cual",  "cuales", "quien",
    "donde", "cuando", "al",    "lo",    "le",    "su",     "sus",    "mi",    "me",     "te",
    "hay",   "esta",   "este",  "esto",  "sobre", "dime",   "puedes", "favor", "if",     "not",
    "no",    "but",    "pero",  "so",    "has",   "have",   "tiene",  "qu"};

bool is_stopword(std::string_view w) {
  return std::find(kStopwords.begin(), kStopwords.end(), w) != kStopwords.end();
}

bool is_number(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

struct City {
  std::string_view name;  // folded
  std::string_view zone;
};

constexpr std::array<City, 101> kCities = {{
    {"madrid", "Europe/Madrid"},
    {"barcelona", "Europe/Madrid"},
    {"sevilla", "Europe/Madrid"},
    {"seville", "Europe/Madrid"},
    {"valencia", "Europe/Madrid"},
    {"lisbon", "Europe/Lisbon"},
    {"lisboa", "Europe/Lisbon"},
    {"london", "Europe/London"},
    {"londres", "Europe/London"},
    {"paris", "Europe/Paris"},
    {"berlin", "Europe/Berlin"},
    {"rome", "Europe/Rome"},
    {"roma", "Europe/Rome"},
    {"amsterdam", "Europe/Amsterdam"},
    {"brussels", "Europe/Brussels"},
    {"bruselas", "Europe/Brussels"},
    {"vienna", "Europe/Vienna"},
    {"viena", "Europe/Vienna"},
    {"zurich", "Europe/Zurich"},
    {"stockholm", "Europe/Stockholm"},
    {"estocolmo", "Europe/Stockholm"},
    {"oslo", "Europe/Oslo"},
    {"copenhagen", "Europe/Copenhagen"},
    {"copenhague", "Europe/Copenhagen"},
    {"helsinki", "Europe/Helsinki"},
    {"warsaw", "Europe/Warsaw"},
    {"varsovia", "Europe/Warsaw"},
    {"prague", "Europe/Prague"},
    {"praga", "Europe/Prague"},
    {"athens", "Europe/Athens"},
    {"atenas", "Europe/Athens"},
    {"istanbul", "Europe/Istanbul"},
    {"estambul", "Europe/Istanbul"},
    {"moscow", "Europe/Moscow"},
    {"moscu", "Europe/Moscow"},
    {"dublin", "Europe/Dublin"},
    {"cairo", "Africa/Cairo"},
    {"el cairo", "Africa/Cairo"},
    {"johannesburg", "Africa/Johannesburg"},
    {"lagos", "Africa/Lagos"},
    {"nairobi", "Africa/Nairobi"},
    {"dubai", "Asia/Dubai"},
    {"tehran", "Asia/Tehran"},
    {"teheran", "Asia/Tehran"},
    {"delhi", "Asia/Kolkata"},
    {"mumbai", "Asia/Kolkata"},
    {"bangkok", "Asia/Bangkok"},
    {"singapore", "Asia/Singapore"},
    {"singapur", "Asia/Singapore"},
    {"hong kong", "Asia/Hong_Kong"},
    {"shanghai", "Asia/Shanghai"},
    {"beijing", "Asia/Shanghai"},
    {"pekin", "Asia/Shanghai"},
    {"tokyo", "Asia/Tokyo"},
    {"tokio", "Asia/Tokyo"},
    {"seoul", "Asia/Seoul"},
    {"seul", "Asia/Seoul"},
    {"sydney", "Australia/Sydney"},
    {"sidney", "Australia/Sydney"},
    {"melbourne", "Australia/Melbourne"},
    {"auckland", "Pacific/Auckland"},
    {"new york", "America/New_York"},
    {"nueva york", "America/New_York"},
    {"washington", "America/New_York"},
    {"chicago", "America/Chicago"},
    {"los angeles", "America/Los_Angeles"},
    {"san francisco", "America/Los_Angeles"},
    {"denver", "America/Denver"},
    {"toronto", "America/Toronto"},
    {"mexico city", "America/Mexico_City"},
    {"ciudad de mexico", "America/Mexico_City"},
    {"mexico", "America/Mexico_City"},
    {"bogota", "America/Bogota"},
    {"lima", "America/Lima"},
    {"santiago", "America/Santiago"},
    {"buenos aires", "America/Argentina/Buenos_Aires"},
    {"sao paulo", "America/Sao_Paulo"},
    {"rio de janeiro", "America/Sao_Paulo"},
    {"caracas", "America/Caracas"},
    {"havana", "America/Havana"},
    {"la habana", "America/Havana"},
    {"montevideo", "America/Montevideo"},
    {"quito", "America/Guayaquil"},
    {"utc", "UTC"},
    {"gmt", "UTC"},
    {"canarias", "Atlantic/Canary"},
    {"canary islands", "Atlantic/Canary"},
    {"honolulu", "Pacific/Honolulu"},
}};

}  // namespace

std::string fold(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      if (const char f = fold_c3(static_cast<unsigned char>(text[i + 1]))) {
        out += f;
        ++i;
        continue;
      }
    }
    if (c == 0xC2 && i + 1 < text.size()) {  // ¿ ¡ « » and other Latin-1 punctuation
      out += ' ';
      ++i;
      continue;
    }
    if (c >= 0x80) {
      out += static_cast<char>(c);
    } else if (std::isalnum(c)) {
      out += static_cast<char>(std::tolower(c));
    } else {
      out += ' ';
    }
  }
  return out;
}

std::vector<std::string> words_of(std::string_view folded) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < folded.size()) {
    while (i < folded.size() && folded[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < folded.size() && folded[i] != ' ') ++i;
    if (i > start) out.emplace_back(folded.substr(start, i - start));
  }
  return out;
}

std::vector<std::string> content_words(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : words_of(fold(text))) {
    if (w.size() < 2 || is_stopword(w)) continue;
    if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(std::move(w));
  }
  return out;
}

bool looks_spanish(std::string_view text) {
  if (contains(text, "\xC2\xBF") || contains(text, "\xC2\xA1") || contains(text, "\xC3\xB1")) {
    return true;
  }
  static constexpr std::array<std::string_view, 22> kEs = {
      "que",  "el",     "la",   "los",  "las",   "de",  "es",  "en",   "por", "para", "una",
      "hora", "cuanto", "cual", "como", "donde", "del", "son", "esta", "y",   "dime", "sobre"};
  static constexpr std::array<std::string_view, 22> kEn = {
      "the",   "what", "is", "how", "of",  "in",   "a",  "an",   "to",    "time", "which",
      "where", "does", "do", "are", "and", "much", "it", "tell", "about", "me",   "can"};
  int es = 0;
  int en = 0;
  for (const auto& w : words_of(fold(text))) {
    es += static_cast<int>(std::count(kEs.begin(), kEs.end(), w));
    en += static_cast<int>(std::count(kEn.begin(), kEn.end(), w));
  }
  return es > en;
}

std::optional<std::string> arithmetic_expression(std::string_view text) {
  // Words between numbers become operators ("6 times 7", "12% of 250", "3 más 4").
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kOps = {
      {{"plus", "+"},
       {"minus", "-"},
       {"times", "*"},
       {"x", "*"},
       {"mas", "+"},
       {"menos", "-"},
       {"por", "*"},
       {"entre", "/"},
       {"over", "/"},
       {"multiplied by", "*"},
       {"divided by", "/"},
       {"dividido entre", "/"},
       {"dividido por", "/"}}};
  std::string t;
  for (std::size_t i = 0; i < text.size(); ++i) {  // × and ÷
    if (text.compare(i, 2, "\xC3\x97") == 0) {
      t += '*';
      ++i;
    } else if (text.compare(i, 2, "\xC3\xB7") == 0) {
      t += '/';
      ++i;
    } else {
      t += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    }
  }
  // Tokens: numbers, operators, parentheses, words.
  std::vector<std::string> tok;
  for (std::size_t i = 0; i < t.size();) {
    const char c = t[i];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i + 1])))) {
      std::size_t j = i;
      while (j < t.size() && (std::isdigit(static_cast<unsigned char>(t[j])) || t[j] == '.')) ++j;
      tok.emplace_back(t.substr(i, j - i));
      i = j;
    } else if (std::string_view("+-*/^%()").find(c) != std::string_view::npos) {
      tok.emplace_back(1, c);
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) ||
               static_cast<unsigned char>(c) >= 0x80) {
      std::size_t j = i;
      while (j < t.size() && (std::isalpha(static_cast<unsigned char>(t[j])) ||
                              static_cast<unsigned char>(t[j]) >= 0x80)) {
        ++j;
      }
      std::string w = fold(t.substr(i, j - i));  // "más" → "mas"; "¿" → ""
      w.erase(std::remove(w.begin(), w.end(), ' '), w.end());
      if (!w.empty()) tok.push_back(std::move(w));
      i = j;
    } else {
      ++i;
    }
  }
  // "N% of M" / "el N% de M" → "N / 100 * M"; number words → operators ("6 times 7").
  std::vector<std::string> ex;
  for (std::size_t i = 0; i < tok.size(); ++i) {
    if (i + 3 < tok.size() && is_number(tok[i]) && tok[i + 1] == "%" &&
        (tok[i + 2] == "of" || tok[i + 2] == "de") && is_number(tok[i + 3])) {
      ex.insert(ex.end(), {tok[i], "/", "100", "*", tok[i + 3]});
      i += 3;
      continue;
    }
    bool replaced = false;
    for (const auto& [word, op] : kOps) {
      const auto sp = word.find(' ');
      const std::size_t n = sp == std::string_view::npos ? 1 : 2;
      if (i == 0 || i + n >= tok.size() || !is_number(tok[i - 1]) || !is_number(tok[i + n])) {
        continue;
      }
      if (tok[i] == word.substr(0, sp) && (n == 1 || tok[i + 1] == word.substr(sp + 1))) {
        ex.emplace_back(op);
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) ex.push_back(tok[i]);
  }
  // The longest run of arithmetic tokens with a binary operator between two operands.
  auto arithmetic = [](const std::string& s) {
    return is_number(s) ||
           (s.size() == 1 && std::string_view("+-*/^%()").find(s[0]) != std::string_view::npos);
  };
  std::string best;
  for (std::size_t i = 0; i < ex.size();) {
    if (!arithmetic(ex[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    std::string expr;
    bool binary = false;
    for (; j < ex.size() && arithmetic(ex[j]); ++j) {
      if (!expr.empty()) expr += ' ';
      expr += ex[j];
      const bool op = !is_number(ex[j]) && ex[j] != "(" && ex[j] != ")";
      if (op && j > i && j + 1 < ex.size() && (is_number(ex[j - 1]) || ex[j - 1] == ")") &&
          (is_number(ex[j + 1]) || ex[j + 1] == "(")) {
        binary = true;
      }
    }
    if (binary && expr.size() > best.size()) best = expr;
    i = j;
  }
  if (best.empty()) return std::nullopt;
  // Only when clearly asked: a question cue, or a message that is mostly the expression.
  const std::string f = " " + fold(text) + " ";
  static constexpr std::array<std::string_view, 14> kCues = {
      " what is ",  " whats ",     " how much ",   " calculate ",   " compute ",
      " evaluate ", " cuanto es ", " cuanto son ", " calcula ",     " calcular ",
      " cual es ",  " solve ",     " result of ",  " resultado de "};
  bool cue = std::any_of(kCues.begin(), kCues.end(), [&](auto c) { return contains(f, c); });
  std::size_t visible = 0;
  for (const char c : text) visible += std::isspace(static_cast<unsigned char>(c)) ? 0 : 1;
  std::size_t expr_visible = 0;
  for (const char c : best) expr_visible += c == ' ' ? 0 : 1;
  if (!cue && expr_visible * 2 < visible) return std::nullopt;
  return best;
}

std::optional<std::string> time_zone_asked(std::string_view text) {
  const std::string f = " " + fold(text) + " ";
  static constexpr std::array<std::string_view, 10> kCues = {
      " what time ",   " time is it ", " current time ", " local time ", " time in ",
      " time now in ", " que hora ",   " hora es ",      " hora en ",    " hora actual "};
  if (std::none_of(kCues.begin(), kCues.end(), [&](auto c) { return contains(f, c); })) {
    return std::nullopt;
  }
  std::string_view zone = "UTC";
  std::size_t longest = 0;
  for (const auto& c : kCities) {
    const std::string needle = " " + std::string(c.name) + " ";
    if (c.name.size() > longest && contains(f, needle)) {
      zone = c.zone;
      longest = c.name.size();
    }
  }
  return std::string(zone);
}

std::vector<std::string> sentences_of(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    const auto b = cur.find_first_not_of(" \t\r\n");
    if (b != std::string::npos) {
      const auto e = cur.find_last_not_of(" \t\r\n");
      out.push_back(cur.substr(b, e - b + 1));
    }
    cur.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      flush();
      continue;
    }
    cur += c;
    if ((c == '.' || c == '!' || c == '?') &&
        (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n')) {
      flush();
    }
  }
  flush();
  return out;
}

}  // namespace enkisys::agent::detail
