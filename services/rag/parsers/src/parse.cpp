// parse_document: reads the input, detects the format, runs its parser, picks the title.
#include "enkisys/rag/parse.hpp"

#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include "enkisys/core/utf8.hpp"
#include "parsers_internal.hpp"

namespace enkisys::rag {
namespace {

core::Error too_big(std::size_t max) {
  return core::make_error(core::ErrorKind::kPayloadTooLarge, "payload_too_large",
                          "the document exceeds " + std::to_string(max) + " bytes");
}

core::Error unreadable() {
  return core::make_error(core::ErrorKind::kInternal, "input_unreadable",
                          "the uploaded file cannot be read");
}

core::Expected<std::string> read_file(const std::filesystem::path& path, std::size_t max) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return unreadable();
  if (size > max) return too_big(max);
  std::ifstream in(path, std::ios::binary);
  if (!in) return unreadable();
  std::string out(static_cast<std::size_t>(size), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (static_cast<std::size_t>(in.gcount()) != out.size()) return unreadable();
  return out;
}

// "report.final.pdf" → "report.final"; client paths may use '\'.
std::string filename_stem(std::string_view filename) {
  const std::size_t slash = filename.find_last_of("/\\");
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  const std::size_t dot = filename.rfind('.');
  if (dot != std::string_view::npos && dot > 0) filename = filename.substr(0, dot);
  return core::to_valid_utf8(parsers::collapse_whitespace(filename));
}

std::string choose_title(const ParseInput& input, const parsers::Extracted& extracted) {
  std::string title = core::to_valid_utf8(parsers::collapse_whitespace(input.title));
  if (!title.empty()) return title;
  title = core::to_valid_utf8(extracted.title);
  if (!title.empty()) return title;
  for (const Block& b : extracted.blocks) {
    if (b.kind == BlockKind::kHeading) return b.text;
  }
  return filename_stem(input.filename);
}

bool has_text(const std::vector<Block>& blocks) {
  for (const Block& b : blocks) {
    if (b.kind != BlockKind::kPageBreak && !b.text.empty()) return true;
  }
  return false;
}

}  // namespace

core::Expected<ParsedDocument> parse_document(const ParseInput& input, const ParseLimits& limits) {
  std::string owned;
  std::string_view data = input.data;
  if (!input.path.empty()) {
    auto bytes = read_file(input.path, limits.max_input_bytes);
    if (!bytes) return bytes.error();
    owned = std::move(*bytes);
    data = owned;
  } else if (data.size() > limits.max_input_bytes) {
    return too_big(limits.max_input_bytes);
  }
  const auto format = detect_format(input, data.substr(0, 8192));
  if (!format) return format.error();

  const std::string charset = parsers::charset_of(input.content_type);
  core::Expected<parsers::Extracted> extracted = parsers::Extracted{};
  switch (*format) {
    case DocumentFormat::kText:
      extracted = parsers::parse_text(data, charset, limits);
      break;
    case DocumentFormat::kMarkdown:
      extracted = parsers::parse_markdown_format(data, charset, limits);
      break;
    case DocumentFormat::kHtml:
      extracted = parsers::parse_html(data, charset, limits);
      break;
    case DocumentFormat::kPdf:
      extracted = parsers::parse_pdf(data, limits);
      break;
    case DocumentFormat::kDocx:
      extracted = parsers::parse_docx(data, limits);
      break;
  }
  if (!extracted) return extracted.error();
  if (!has_text(extracted->blocks)) {
    return parsers::unprocessable("empty_document", "the document has no text");
  }
  ParsedDocument out;
  out.model.title = choose_title(input, *extracted);
  out.model.blocks = std::move(extracted->blocks);
  out.format = *format;
  out.pages = extracted->pages;
  out.mime_type = std::string(mime_type_of(*format));
  return out;
}

}  // namespace enkisys::rag
