// libFuzzer target: arbitrary bytes as an HTML upload (declared and sniffed charsets).
// Run: build/fuzz/bin/enkisys-rag-html-fuzz -max_total_time=60 (preset `fuzz`).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "enkisys/core/utf8.hpp"
#include "enkisys/rag/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace rag = enkisys::rag;
  rag::ParseInput input;
  input.data = std::string_view(reinterpret_cast<const char*>(data), size);
  input.content_type = (size % 2 == 0) ? "text/html" : "text/html; charset=windows-1252";
  const auto doc = rag::parse_document(input);
  if (doc) {
    for (const auto& block : doc->model.blocks) {
      if (!enkisys::core::valid_utf8(block.text)) std::abort();
      if (block.kind != rag::BlockKind::kPageBreak && block.text.empty()) std::abort();
    }
  }
  return 0;
}
