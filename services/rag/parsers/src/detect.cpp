// Format detection: magic bytes, then the declared type, then the extension, then a sniff.
#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "enkisys/core/utf8.hpp"
#include "enkisys/rag/parse.hpp"
#include "parsers_internal.hpp"

namespace enkisys::rag {
namespace {

constexpr std::string_view kDocxType =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
constexpr std::size_t kHeadBytes = 8192;

core::Error unsupported(std::string_view type) {
  const std::string shown = core::to_valid_utf8(type.substr(0, 100));
  return core::make_error(
      core::ErrorKind::kUnsupportedMediaType, "unsupported_media_type",
      "unsupported document type '" + shown + "'; send text, Markdown, HTML, PDF or DOCX");
}

struct Magic {
  std::string_view prefix;
  std::string_view type;
};

// Binary formats refused by their first bytes, whatever was declared.
constexpr std::array<Magic, 11> kRefusedMagic{{
    {"\x89PNG\r\n\x1a\n", "image/png"},
    {"\xFF\xD8\xFF", "image/jpeg"},
    {"GIF87a", "image/gif"},
    {"GIF89a", "image/gif"},
    {"II*\0", "image/tiff"},
    {"MM\0*", "image/tiff"},
    {"\x7F"
     "ELF",
     "application/x-executable"},
    {"\x1F\x8B", "application/gzip"},
    {"7z\xBC\xAF\x27\x1C", "application/x-7z-compressed"},
    {"Rar!", "application/vnd.rar"},
    {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "application/x-ole-storage"},
}};

bool starts_with_magic(std::string_view head, std::string_view magic) {
  return head.size() >= magic.size() && head.substr(0, magic.size()) == magic;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Lower-cased extension with its dot (".md"), "" when none. Client paths may use '\'.
std::string extension_of(std::string_view filename) {
  const std::size_t slash = filename.find_last_of("/\\");
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  const std::size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return lower_ascii(filename.substr(dot));
}

bool is_docx_type(std::string_view media) {
  return media == kDocxType;
}

std::optional<DocumentFormat> format_of_type(std::string_view media) {
  if (media == "text/plain") return DocumentFormat::kText;
  if (media == "text/markdown" || media == "text/x-markdown") return DocumentFormat::kMarkdown;
  if (media == "text/html" || media == "application/xhtml+xml") return DocumentFormat::kHtml;
  if (media == "application/pdf") return DocumentFormat::kPdf;
  if (is_docx_type(media)) return DocumentFormat::kDocx;
  return std::nullopt;
}

std::optional<DocumentFormat> format_of_extension(std::string_view ext) {
  if (ext == ".txt" || ext == ".text") return DocumentFormat::kText;
  if (ext == ".md" || ext == ".markdown") return DocumentFormat::kMarkdown;
  if (ext == ".html" || ext == ".htm" || ext == ".xhtml") return DocumentFormat::kHtml;
  if (ext == ".pdf") return DocumentFormat::kPdf;
  if (ext == ".docx") return DocumentFormat::kDocx;
  return std::nullopt;
}

bool looks_like_html(std::string_view head) {
  std::size_t i = 0;
  if (head.starts_with("\xEF\xBB\xBF")) i = 3;
  while (i < head.size() && std::isspace(static_cast<unsigned char>(head[i])) != 0) ++i;
  const std::string start = lower_ascii(head.substr(i, 16));
  return start.starts_with("<!doctype html") || start.starts_with("<html");
}

bool has_wide_bom(std::string_view head) {
  return head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF") ||
         head.starts_with(std::string_view("\0\0\xFE\xFF", 4));
}

bool is_text_format(DocumentFormat f) {
  return f == DocumentFormat::kText || f == DocumentFormat::kMarkdown || f == DocumentFormat::kHtml;
}

}  // namespace

std::string_view format_name(DocumentFormat format) {
  switch (format) {
    case DocumentFormat::kText:
      return "text";
    case DocumentFormat::kMarkdown:
      return "markdown";
    case DocumentFormat::kHtml:
      return "html";
    case DocumentFormat::kPdf:
      return "pdf";
    case DocumentFormat::kDocx:
      return "docx";
  }
  return "text";
}

std::string_view mime_type_of(DocumentFormat format) {
  switch (format) {
    case DocumentFormat::kText:
      return "text/plain";
    case DocumentFormat::kMarkdown:
      return "text/markdown";
    case DocumentFormat::kHtml:
      return "text/html";
    case DocumentFormat::kPdf:
      return "application/pdf";
    case DocumentFormat::kDocx:
      return kDocxType;
  }
  return "text/plain";
}

core::Expected<DocumentFormat> detect_format(const ParseInput& input, std::string_view head) {
  const std::string media = parsers::media_type_of(input.content_type);
  const std::string charset = parsers::charset_of(input.content_type);
  const std::string ext = extension_of(input.filename);
  const bool generic = media.empty() || media == "application/octet-stream";

  // 1. Magic bytes.
  if (head.starts_with("%PDF-")) return DocumentFormat::kPdf;
  if (starts_with_magic(head, "PK\x03\x04") || starts_with_magic(head, "PK\x05\x06")) {
    if (is_docx_type(media) || ext == ".docx" || (generic && ext.empty())) {
      return DocumentFormat::kDocx;
    }
    return unsupported(generic ? "application/zip" : media);
  }
  if (head.size() >= 12 && head.starts_with("RIFF") && head.substr(8, 4) == "WEBP") {
    return unsupported("image/webp");
  }
  for (const Magic& m : kRefusedMagic) {
    if (starts_with_magic(head, m.prefix)) return unsupported(m.type);
  }

  // 2. Declared type, 3. extension, 4. sniff.
  std::optional<DocumentFormat> format;
  if (!generic) {
    format = format_of_type(media);
    if (!format) return unsupported(media);
    if (*format == DocumentFormat::kText && (ext == ".md" || ext == ".markdown")) {
      format = DocumentFormat::kMarkdown;
    }
  } else if (!ext.empty()) {
    format = format_of_extension(ext);
    if (!format) return unsupported(media.empty() ? ext : media + " (" + ext + ")");
  } else {
    format = looks_like_html(head) ? DocumentFormat::kHtml : DocumentFormat::kText;
  }
  if (is_text_format(*format) && head.find('\0') != std::string_view::npos && !has_wide_bom(head) &&
      charset.find("16") == std::string::npos && charset.find("32") == std::string::npos &&
      charset.find("ucs") == std::string::npos) {
    return unsupported("application/octet-stream");
  }
  return *format;
}

core::Expected<DocumentFormat> detect_format(const ParseInput& input) {
  if (input.path.empty()) return detect_format(input, input.data.substr(0, kHeadBytes));
  std::ifstream in(input.path, std::ios::binary);
  if (!in) {
    return core::make_error(core::ErrorKind::kInternal, "input_unreadable",
                            "the uploaded file cannot be read");
  }
  std::string head(kHeadBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return detect_format(input, head);
}

}  // namespace enkisys::rag
