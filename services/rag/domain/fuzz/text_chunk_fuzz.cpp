// libFuzzer target: arbitrary bytes through the tokenizer, the analyzers, language detection,
// the Markdown reader and the chunker. Checks the chunker's offset contract on every input.
// Run: build/fuzz/bin/enkisys-rag-text-fuzz -max_total_time=60 (preset `fuzz`).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "enkisys/rag/chunker.hpp"
#include "enkisys/rag/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace rag = enkisys::rag;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& token : rag::tokenize(text)) {
    if (token.begin >= token.end || token.end > text.size()) std::abort();
  }
  (void)rag::valid_utf8(text);
  static rag::Analyzer english(rag::Language::kEnglish);
  static rag::Analyzer spanish(rag::Language::kSpanish);
  (void)english.terms(text);
  (void)spanish.terms(text);
  (void)rag::detect_language(text);
  const auto doc = rag::parse_markdown("d", "t", text);
  const auto chunks = rag::chunk_document(doc, {64, 128, 16});
  if (!chunks) std::abort();
  const std::string all = rag::document_text(doc);
  for (const auto& c : *chunks) {
    if (c.end > all.size() || c.begin > c.end ||
        all.compare(c.begin, c.end - c.begin, c.text) != 0) {
      std::abort();
    }
  }
  return 0;
}
