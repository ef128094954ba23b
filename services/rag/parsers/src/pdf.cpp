// PDF with poppler-cpp: a page break before each page's text, paragraphs from the text
// blocks poppler finds (its reading-order layout separates blocks by blank lines).
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "parsers_internal.hpp"

namespace enkisys::rag::parsers {
namespace {

// Damaged files make poppler report through this hook, which prints to stderr by default.
void ignore_poppler_message(const std::string& /*message*/, void* /*closure*/) {}

std::string utf8_of(const poppler::ustring& text) {
  const poppler::byte_array bytes = text.to_utf8();
  return {bytes.begin(), bytes.end()};
}

}  // namespace

core::Expected<Extracted> parse_pdf(std::string_view data, const ParseLimits& limits) {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function(ignore_poppler_message, nullptr); });
  if (data.size() > static_cast<std::size_t>(INT_MAX)) {
    return unprocessable("corrupt_pdf", "the PDF is too large to read");
  }
  // load_from_raw_data reads `data` in place; it outlives the document.
  const std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(data.data(), static_cast<int>(data.size())));
  if (!doc) return unprocessable("corrupt_pdf", "the PDF cannot be read");
  if (doc->is_locked()) {
    return unprocessable("encrypted_pdf", "the PDF is protected by a password");
  }
  const int pages = doc->pages();
  if (pages < 0) return unprocessable("corrupt_pdf", "the PDF cannot be read");
  if (static_cast<std::size_t>(pages) > limits.max_pages) {
    return unprocessable("too_many_pages", "the PDF has " + std::to_string(pages) +
                                               " pages; at most " +
                                               std::to_string(limits.max_pages) + " are read");
  }
  BlockSink sink(limits.max_text_bytes);
  for (int i = 0; i < pages && !sink.overflowed(); ++i) {
    sink.page_break(i + 1);
    const std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    sink.add_paragraphs(
        utf8_of(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
  }
  if (sink.overflowed()) return sink.overflow_error();
  return Extracted{sink.take(), collapse_whitespace(utf8_of(doc->get_title())),
                   static_cast<std::size_t>(pages)};
}

}  // namespace enkisys::rag::parsers
