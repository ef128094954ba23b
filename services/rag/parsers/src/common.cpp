// BlockSink, whitespace, Content-Type parameters and iconv of the parsers.
#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string>
#include <string_view>

#include "enkisys/core/utf8.hpp"
#include "parsers_internal.hpp"

namespace enkisys::rag::parsers {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Code blocks: '\r' removed, trailing whitespace lines removed, leading blank lines removed.
std::string clean_code(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c != '\r') out.push_back(c);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\t')) {
    out.pop_back();
  }
  std::size_t start = 0;
  while (start < out.size() && out[start] == '\n') ++start;
  return out.substr(start);
}

// Tables: each line whitespace-collapsed; lines with no cell text dropped.
std::string clean_lines(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string line = collapse_whitespace(text.substr(start, end - start));
    if (line.find_first_not_of("| ") != std::string::npos) {
      if (!out.empty()) out += '\n';
      out += line;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

core::Error unprocessable(std::string code, std::string message) {
  return core::make_error(core::ErrorKind::kUnprocessable, std::move(code), std::move(message));
}

std::string collapse_whitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool nbsp =
        c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xA0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || nbsp) {
      pending_space = true;
      if (nbsp) ++i;
      continue;
    }
    if (pending_space && !out.empty()) out.push_back(' ');
    pending_space = false;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

void BlockSink::add(BlockKind kind, std::string_view text, int level) {
  if (overflowed_) return;
  std::string clean;
  if (kind == BlockKind::kCode) {
    clean = clean_code(text);
  } else if (kind == BlockKind::kTable) {
    clean = clean_lines(text);
  } else {
    clean = collapse_whitespace(text);
  }
  if (clean.empty()) return;
  if (!core::valid_utf8(clean)) clean = core::to_valid_utf8(clean);
  Block block;
  block.kind = kind;
  block.text = std::move(clean);
  if (kind == BlockKind::kHeading) block.level = std::clamp(level, 1, 6);
  push(std::move(block));
}

void BlockSink::add_paragraphs(std::string_view text) {
  std::size_t start = 0;
  std::size_t line_start = 0;
  while (line_start <= text.size()) {
    std::size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(line_start, end - line_start);
    if (trim(line).empty() || line.find('\f') != std::string_view::npos) {
      add(BlockKind::kParagraph, text.substr(start, line_start - start));
      start = end;
    }
    line_start = end + 1;
  }
  if (start < text.size()) add(BlockKind::kParagraph, text.substr(start));
}

void BlockSink::page_break(int page) {
  if (overflowed_) return;
  Block block;
  block.kind = BlockKind::kPageBreak;
  block.page = page;
  push(std::move(block));
}

void BlockSink::push(Block block) {
  text_bytes_ += block.text.size() + 1;
  if (text_bytes_ > max_text_bytes_) {
    overflowed_ = true;
    return;
  }
  blocks_.push_back(std::move(block));
}

core::Error BlockSink::overflow_error() const {
  return unprocessable("document_too_large",
                       "the document's text exceeds " + std::to_string(max_text_bytes_) + " bytes");
}

std::string media_type_of(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::string charset_of(std::string_view content_type) {
  std::size_t at = content_type.find(';');
  while (at != std::string_view::npos) {
    const std::size_t next = content_type.find(';', at + 1);
    const std::string_view param = trim(content_type.substr(at + 1, next - at - 1));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && lower(trim(param.substr(0, eq))) == "charset") {
      std::string_view value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return lower(value);
    }
    at = next;
  }
  return {};
}

core::Expected<std::string> convert_to_utf8(std::string_view data, std::string_view charset) {
  const std::string from(charset);
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr): iconv's API
    return unprocessable("unsupported_charset",
                         "unsupported charset '" + core::to_valid_utf8(from.substr(0, 64)) + "'");
  }
  std::string out;
  out.resize(data.size() * 2 + 16);
  // iconv's interface is not const-correct; it does not write through inbuf.
  char* in = const_cast<char*>(data.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  std::size_t in_left = data.size();
  std::size_t used = 0;
  bool bad = false;
  while (in_left > 0) {
    char* dst = out.data() + used;
    std::size_t out_left = out.size() - used;
    const std::size_t rc = iconv(cd, &in, &in_left, &dst, &out_left);
    used = out.size() - out_left;
    if (rc != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    bad = true;  // EILSEQ or EINVAL (truncated sequence)
    break;
  }
  iconv_close(cd);
  if (bad) {
    return unprocessable("invalid_encoding", "the text is not valid " + from);
  }
  out.resize(used);
  if (out.starts_with("\xEF\xBB\xBF")) out.erase(0, 3);
  return out;
}

core::Expected<std::string> decode_text(std::string_view data, std::string_view declared_charset) {
  if (!declared_charset.empty()) return convert_to_utf8(data, declared_charset);
  if (data.starts_with("\xEF\xBB\xBF"))
    data.remove_prefix(3);
  else if (data.starts_with(std::string_view("\xFF\xFE\0\0", 4)) ||
           data.starts_with(std::string_view("\0\0\xFE\xFF", 4))) {
    return convert_to_utf8(data, "UTF-32");
  } else if (data.starts_with("\xFF\xFE") || data.starts_with("\xFE\xFF")) {
    return convert_to_utf8(data, "UTF-16");
  }
  if (!core::valid_utf8(data)) {
    return unprocessable("invalid_utf8",
                         "the text is not UTF-8; declare its charset (text/plain; charset=...)");
  }
  return std::string(data);
}

core::Expected<Extracted> parse_text(std::string_view data, std::string_view charset,
                                     const ParseLimits& limits) {
  auto text = decode_text(data, charset);
  if (!text) return text.error();
  BlockSink sink(limits.max_text_bytes);
  sink.add_paragraphs(*text);
  if (sink.overflowed()) return sink.overflow_error();
  return Extracted{sink.take(), {}, 0};
}

}  // namespace enkisys::rag::parsers
