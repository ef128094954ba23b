// libFuzzer target: arbitrary bytes as a Markdown upload, then through the chunker.
// Run: build/fuzz/bin/enkisys-rag-markdown-fuzz -max_total_time=60 (preset `fuzz`).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "enkisys/core/utf8.hpp"
#include "enkisys/rag/chunker.hpp"
#include "enkisys/rag/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace rag = enkisys::rag;
  rag::ParseInput input;
  input.data = std::string_view(reinterpret_cast<const char*>(data), size);
  input.content_type = "text/markdown";
  const auto doc = rag::parse_document(input);
  if (!doc) return 0;
  for (const auto& block : doc->model.blocks) {
    if (!enkisys::core::valid_utf8(block.text) || block.text.empty()) std::abort();
    if (block.kind == rag::BlockKind::kHeading && (block.level < 1 || block.level > 6)) {
      std::abort();
    }
  }
  if (!rag::chunk_document(doc->model, {64, 128, 16})) std::abort();
  return 0;
}
