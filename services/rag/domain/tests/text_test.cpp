#include "enkisys/rag/text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace enkisys::rag {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Tokenize, SplitsWordsAndKeepsOffsets) {
  const auto tokens = tokenize("Hello, World! 42");
  ASSERT_EQ(tokens.size(), 3U);
  EXPECT_EQ(tokens[0].text, "hello");
  EXPECT_EQ(tokens[1].text, "world");
  EXPECT_EQ(tokens[1].begin, 7U);
  EXPECT_EQ(tokens[1].end, 12U);
  EXPECT_EQ(tokens[2].text, "42");
}

TEST(Tokenize, KeepsIdentifiersWhole) {
  const auto tokens = tokenize("run pg_dump with max_connections, utf-8 and postgresql.conf.");
  std::vector<std::string> texts;
  for (const auto& t : tokens) texts.push_back(t.text);
  EXPECT_TRUE(has(texts, "pg_dump"));
  EXPECT_TRUE(has(texts, "max_connections"));
  EXPECT_TRUE(has(texts, "utf-8"));
  EXPECT_TRUE(has(texts, "postgresql.conf"));  // the sentence's final '.' is not part of it
}

TEST(Fold, LowerCasesAndRemovesAccentsButKeepsEnye) {
  EXPECT_EQ(fold("ÁRBOL Canción ÜBER"), "arbol cancion uber");
  EXPECT_EQ(fold("AÑO"), "año");
  EXPECT_EQ(fold("ŁÓDŹ"), "łodź");
}

TEST(Tokenize, InvalidUtf8BytesAreSeparators) {
  const std::string text = std::string("abc") + '\xff' + "def" + '\xc3';
  EXPECT_FALSE(valid_utf8(text));
  const auto tokens = tokenize(text);
  ASSERT_EQ(tokens.size(), 2U);
  EXPECT_EQ(tokens[0].text, "abc");
  EXPECT_EQ(tokens[1].text, "def");
  EXPECT_TRUE(valid_utf8("cañón"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));  // surrogate
}

TEST(Tokenize, EmptyAndPunctuationOnly) {
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize(" ,.;— «» ").empty());
}

TEST(Tokenize, DropsHugeTokens) {
  const std::string huge(10000, 'x');
  const auto tokens = tokenize("before " + huge + " after");
  ASSERT_EQ(tokens.size(), 2U);
  EXPECT_EQ(tokens[1].text, "after");
}

TEST(Analyzer, EnglishStemsAndDropsStopWords) {
  Analyzer a(Language::kEnglish);
  const auto terms = a.terms("The connections were running");
  EXPECT_EQ(terms, (std::vector<std::string>{"connect", "run"}));
}

TEST(Analyzer, CompoundYieldsWholeAndParts) {
  Analyzer a(Language::kEnglish);
  const auto terms = a.terms("max_connections");
  EXPECT_EQ(terms, (std::vector<std::string>{"max_connections", "max", "connect"}));
}

TEST(Analyzer, SpanishFoldsAccentsAfterStemming) {
  Analyzer a(Language::kSpanish);
  EXPECT_EQ(a.terms("configuración"), a.terms("configuracion"));
  EXPECT_EQ(a.terms("Cómo"), a.terms("como"));  // stop word either way
  EXPECT_TRUE(a.terms("cómo").empty());
  EXPECT_EQ(a.terms("configuraciones"), a.terms("configuración"));
}

TEST(Language, DetectsEnglishAndSpanishAndParsesOverride) {
  EXPECT_EQ(detect_language("The server writes the log to the disk when it is full"),
            Language::kEnglish);
  EXPECT_EQ(detect_language("El servidor escribe el registro en el disco cuando está lleno"),
            Language::kSpanish);
  EXPECT_EQ(detect_language(""), Language::kEnglish);
  EXPECT_EQ(*parse_language("ES"), Language::kSpanish);
  const auto bad = parse_language("fr");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid_language");
}

}  // namespace
}  // namespace enkisys::rag
