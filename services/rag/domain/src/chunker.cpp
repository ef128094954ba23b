#include "enkisys/rag/chunker.hpp"

#include <algorithm>
#include <utility>

namespace enkisys::rag {
namespace {

struct Span {
  std::size_t begin;
  std::size_t end;
};

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
}
bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Cuts [span) into pieces of about `target` bytes: at a line end for code, else at whitespace,
// else at a code-point boundary.
std::vector<Span> split(const std::string& text, Span span, std::size_t target, bool code) {
  std::vector<Span> out;
  std::size_t begin = span.begin;
  while (span.end - begin > target) {
    const std::size_t limit = begin + target;
    std::size_t cut = std::string::npos;
    for (std::size_t i = limit; i > begin + target / 4; --i) {
      if (code ? text[i - 1] == '\n' : is_space(text[i - 1])) {
        cut = i;
        break;
      }
    }
    if (cut == std::string::npos && code) {
      for (std::size_t i = limit; i > begin + target / 4; --i) {
        if (is_space(text[i - 1])) {
          cut = i;
          break;
        }
      }
    }
    if (cut == std::string::npos) {
      cut = limit;
      while (cut > begin + 1 && is_continuation(text[cut])) --cut;
    }
    out.push_back({begin, cut});
    begin = cut;
  }
  if (begin < span.end) out.push_back({begin, span.end});
  return out;
}

}  // namespace

std::string document_text(const DocumentModel& doc) {
  std::string out;
  bool first = true;
  for (const auto& block : doc.blocks) {
    if (block.kind == BlockKind::kPageBreak) continue;
    if (!first) out.push_back('\n');
    first = false;
    out += block.text;
  }
  return out;
}

core::Expected<std::vector<Chunk>> chunk_document(const DocumentModel& doc,
                                                  const ChunkOptions& options) {
  if (options.target_bytes == 0 || options.max_bytes < options.target_bytes ||
      options.overlap_bytes >= options.target_bytes) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_chunk_options",
                            "need 0 < target_bytes <= max_bytes and overlap_bytes < target_bytes");
  }
  for (const auto& block : doc.blocks) {
    if (block.kind == BlockKind::kHeading && (block.level < 1 || block.level > 6)) {
      return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_heading_level",
                              "heading level must be 1..6");
    }
  }
  const std::string text = document_text(doc);
  std::vector<Chunk> chunks;
  std::vector<Span> code_spans;
  std::vector<std::pair<int, std::string>> path;
  int page = 0;
  std::size_t offset = 0;
  bool first = true;

  std::size_t cur_begin = std::string::npos;
  std::size_t cur_end = 0;
  std::vector<std::string> cur_path;
  int cur_page = 0;
  bool section_open = false;  // a previous chunk of the same section exists (overlap allowed)

  auto flush = [&] {
    if (cur_begin == std::string::npos) return;
    Chunk c;
    c.text = text.substr(cur_begin, cur_end - cur_begin);
    c.heading_path = cur_path;
    c.begin = cur_begin;
    c.end = cur_end;
    c.page = cur_page;
    c.index = static_cast<std::uint32_t>(chunks.size());
    chunks.push_back(std::move(c));
    cur_begin = std::string::npos;
  };
  auto overlap_start = [&](std::size_t piece_begin) {
    if (!section_open || chunks.empty() || options.overlap_bytes == 0) return piece_begin;
    const Chunk& prev = chunks.back();
    std::size_t start =
        std::max(prev.begin, prev.end > options.overlap_bytes ? prev.end - options.overlap_bytes
                                                              : std::size_t{0});
    while (start < piece_begin && !is_space(text[start])) ++start;
    while (start < piece_begin && is_space(text[start])) ++start;
    for (const auto& code : code_spans) {
      if (start > code.begin && start < code.end) start = code.end;
    }
    return std::min(start, piece_begin);
  };

  for (const auto& block : doc.blocks) {
    if (block.kind == BlockKind::kPageBreak) {
      // A page starts a chunk (a citation names one page), without overlap into the last page.
      flush();
      section_open = false;
      page = block.page;
      continue;
    }
    if (!first) ++offset;  // the "\n" between blocks
    first = false;
    const Span span{offset, offset + block.text.size()};
    offset = span.end;
    const bool code = block.kind == BlockKind::kCode;
    if (code) code_spans.push_back(span);
    if (block.kind == BlockKind::kHeading) {
      flush();
      section_open = false;
      while (!path.empty() && path.back().first >= block.level) path.pop_back();
      path.emplace_back(block.level, block.text);
    }
    if (span.begin == span.end) continue;
    const auto pieces = span.end - span.begin > options.max_bytes
                            ? split(text, span, options.target_bytes, code)
                            : std::vector<Span>{span};
    for (const auto& piece : pieces) {
      if (cur_begin != std::string::npos && piece.end - cur_begin > options.target_bytes) {
        flush();
        section_open = true;
      }
      if (cur_begin == std::string::npos) {
        cur_begin = overlap_start(piece.begin);
        cur_path.clear();
        for (const auto& entry : path) cur_path.push_back(entry.second);
        cur_page = page;
      }
      cur_end = piece.end;
    }
  }
  flush();
  return chunks;
}

DocumentModel parse_markdown(std::string id, std::string title, std::string_view text) {
  DocumentModel doc{std::move(id), std::move(title), {}};
  std::string paragraph;
  std::string code;
  bool fenced = false;
  int page = 1;
  bool paged = false;
  auto end_paragraph = [&] {
    if (!paragraph.empty()) doc.blocks.push_back({BlockKind::kParagraph, paragraph, 0, 0});
    paragraph.clear();
  };
  auto end_code = [&] {
    if (!code.empty()) doc.blocks.push_back({BlockKind::kCode, code, 0, 0});
    code.clear();
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    while (!line.empty() && line.front() == '\f') {
      end_paragraph();
      end_code();
      if (!paged) doc.blocks.insert(doc.blocks.begin(), Block{BlockKind::kPageBreak, "", 0, 1});
      paged = true;
      doc.blocks.push_back({BlockKind::kPageBreak, "", 0, ++page});
      line.remove_prefix(1);
    }
    if (line.substr(0, 3) == "```") {
      end_paragraph();
      if (fenced) end_code();
      fenced = !fenced;
      continue;
    }
    if (fenced || (!line.empty() && (line.front() == ' ' || line.front() == '\t'))) {
      end_paragraph();
      if (!code.empty()) code.push_back('\n');
      code.append(line);
      continue;
    }
    end_code();
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      end_paragraph();
      continue;
    }
    std::size_t hashes = 0;
    while (hashes < line.size() && line[hashes] == '#') ++hashes;
    if (hashes >= 1 && hashes <= 6 && hashes < line.size() && line[hashes] == ' ') {
      end_paragraph();
      doc.blocks.push_back(
          {BlockKind::kHeading, std::string(line.substr(hashes + 1)), static_cast<int>(hashes), 0});
      continue;
    }
    const bool item = line.substr(0, 2) == "- " || line.substr(0, 2) == "* " ||
                      (line.size() > 2 && line[0] >= '0' && line[0] <= '9' &&
                       line.find(". ") != std::string_view::npos && line.find(". ") < 4);
    if (item || line.front() == '|') {
      end_paragraph();
      const BlockKind kind = item ? BlockKind::kListItem : BlockKind::kTable;
      if (kind == BlockKind::kTable && !doc.blocks.empty() &&
          doc.blocks.back().kind == BlockKind::kTable) {
        doc.blocks.back().text.push_back('\n');
        doc.blocks.back().text.append(line);
      } else {
        doc.blocks.push_back({kind, std::string(line), 0, 0});
      }
      continue;
    }
    if (!paragraph.empty()) paragraph.push_back('\n');
    paragraph.append(line);
  }
  end_paragraph();
  end_code();
  return doc;
}

}  // namespace enkisys::rag
