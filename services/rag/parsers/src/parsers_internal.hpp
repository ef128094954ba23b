// Shared pieces of the format parsers (not installed; see enkisys/rag/parse.hpp for the
// contract). Everything here is thread safe unless stated.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/rag/chunker.hpp"
#include "enkisys/rag/parse.hpp"

namespace enkisys::rag::parsers {

// What a format parser hands back to parse_document.
struct Extracted {
  std::vector<Block> blocks;
  std::string title;  // the document's own title (metadata, <title>), or ""
  std::size_t pages = 0;
};

// 422 with `code`.
core::Error unprocessable(std::string code, std::string message);

// Collects blocks while counting their text against max_text_bytes. Not thread safe.
class BlockSink {
 public:
  explicit BlockSink(std::size_t max_text_bytes) : max_text_bytes_(max_text_bytes) {}

  // Adds a block of `kind` with `text` whitespace-collapsed (kCode: trailing blank lines and
  // '\r' removed, lines kept). Invalid UTF-8 becomes U+FFFD. Blocks whose text is empty are
  // dropped. level is clamped to 1..6 for headings.
  void add(BlockKind kind, std::string_view text, int level = 0);
  // Splits `text` into paragraphs at blank lines (form feeds count as blank lines).
  void add_paragraphs(std::string_view text);
  void page_break(int page);

  // The error to return when the text cap was passed (then further adds are ignored).
  bool overflowed() const { return overflowed_; }
  core::Error overflow_error() const;
  std::vector<Block> take() { return std::move(blocks_); }

 private:
  void push(Block block);

  std::size_t max_text_bytes_;
  std::size_t text_bytes_ = 0;
  bool overflowed_ = false;
  std::vector<Block> blocks_;
};

// Runs of whitespace (ASCII and U+00A0) become one space; leading/trailing removed.
std::string collapse_whitespace(std::string_view text);

// The lower-cased "charset" parameter of a Content-Type ("" when absent).
std::string charset_of(std::string_view content_type);
// The lower-cased media type without parameters.
std::string media_type_of(std::string_view content_type);

// Converts `data` from `charset` to UTF-8 with iconv (glibc). 422 unsupported_charset when
// iconv does not know it; 422 invalid_encoding when the bytes are not valid in it. A leading
// BOM (U+FEFF) is stripped from the result.
core::Expected<std::string> convert_to_utf8(std::string_view data, std::string_view charset);

// Text or Markdown bytes → UTF-8: declared charset via iconv; else a UTF-8 BOM is stripped, a
// UTF-16/32 BOM selects that encoding; else the bytes must be UTF-8 (422 invalid_utf8).
core::Expected<std::string> decode_text(std::string_view data, std::string_view declared_charset);

// `html` (UTF-8) with every start tag removed (a space in its place; its content is kept) that
// would open an element nested deeper than `max_depth` by an estimate of the HTML5 tree builder's
// rules, or a formatting element (b, i, font...) while 16 are left open implicitly
// (html_nesting.cpp); `html` unchanged when there is none. Time linear in the input times
// max_depth.
std::string limit_html_nesting(std::string_view html, std::size_t max_depth);

// Format parsers. `data` is the whole input.
core::Expected<Extracted> parse_text(std::string_view data, std::string_view charset,
                                     const ParseLimits& limits);
core::Expected<Extracted> parse_markdown_format(std::string_view data, std::string_view charset,
                                                const ParseLimits& limits);
core::Expected<Extracted> parse_html(std::string_view data, std::string_view charset,
                                     const ParseLimits& limits);
core::Expected<Extracted> parse_pdf(std::string_view data, const ParseLimits& limits);
core::Expected<Extracted> parse_docx(std::string_view data, const ParseLimits& limits);

}  // namespace enkisys::rag::parsers
