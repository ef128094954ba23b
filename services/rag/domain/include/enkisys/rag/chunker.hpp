// Structure-aware chunking of a document model into retrieval chunks.
//
// Contract:
//  * A document is a list of blocks. Its text (document_text) is the blocks' texts joined by
//    "\n" (page breaks contribute no text); every offset below is a BYTE offset into that text,
//    and every size in ChunkOptions counts BYTES of UTF-8 (cuts fall on whitespace or line ends,
//    so never inside a code point).
//  * A heading starts a new chunk and sets the heading path (levels 1..6; a heading of level L
//    replaces the path entries of level >= L). Each chunk carries the path in force at its start.
//  * Blocks are packed into a chunk until adding the next one would exceed target_bytes; a block
//    larger than max_bytes is cut into pieces of about target_bytes (code blocks at line ends).
//    A code block is never cut unless it alone exceeds max_bytes.
//  * Consecutive chunks of one section overlap by about overlap_bytes (the next chunk starts
//    that far back, on a whitespace boundary, never inside a code block).
//  * A page break starts a new chunk too (no overlap across it), so each chunk lies on the one
//    page it carries (0 when the document has no page breaks); and its index in the document.
//  * Pure and thread safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::rag {

enum class BlockKind : std::uint8_t { kHeading, kParagraph, kListItem, kCode, kTable, kPageBreak };

struct Block {
  BlockKind kind = BlockKind::kParagraph;
  std::string text;  // heading text without its markers; empty for a page break
  int level = 0;     // heading level 1..6
  int page = 0;      // page number that starts at a page break
};

struct DocumentModel {
  std::string id;
  std::string title;
  std::vector<Block> blocks;
};

struct Chunk {
  std::string text;                       // == document_text(doc).substr(begin, end - begin)
  std::vector<std::string> heading_path;  // outermost first
  std::size_t begin = 0;
  std::size_t end = 0;
  int page = 0;
  std::uint32_t index = 0;
};

struct ChunkOptions {
  std::size_t target_bytes = 900;
  std::size_t max_bytes = 1800;
  std::size_t overlap_bytes = 120;
};

// The text every chunk offset points into.
std::string document_text(const DocumentModel& doc);

// kInvalidArgument "invalid_chunk_options" when target_bytes == 0, max_bytes < target_bytes or
// overlap_bytes >= target_bytes; kInvalidArgument "invalid_heading_level" for a heading level
// outside 1..6. An empty document yields no chunks.
core::Expected<std::vector<Chunk>> chunk_document(const DocumentModel& doc,
                                                  const ChunkOptions& options);

// Builds a document model from Markdown-like text (the corpus format): "#".."######" headings,
// lines starting with "- ", "* " or "1. " list items, "|" table rows, fenced ``` or indented
// (leading space) lines as code, form feed '\f' as a page break; other consecutive lines form
// paragraphs (a blank line ends one).
DocumentModel parse_markdown(std::string id, std::string title, std::string_view text);

}  // namespace enkisys::rag
