// libFuzzer target: arbitrary bytes as a DOCX upload (a zip), under small caps so that bombs
// are cut short. Seeds: any .docx files (corpus/docx_fuzz).
// Run: build/fuzz/bin/enkisys-rag-docx-fuzz -max_total_time=60 (preset `fuzz`).
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
  input.content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  rag::ParseLimits limits;
  limits.max_unpacked_bytes = 16U << 20U;
  limits.max_text_bytes = 4U << 20U;
  const auto doc = rag::parse_document(input, limits);
  if (doc) {
    for (const auto& block : doc->model.blocks) {
      if (!enkisys::core::valid_utf8(block.text) || block.text.empty()) std::abort();
    }
  }
  return 0;
}
