// Markdown with cmark-gfm (CommonMark + the GFM table extension): headings, paragraphs, list
// items, code blocks, tables; block quotes become paragraphs; inline markup is reduced to text.
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "parsers_internal.hpp"

namespace enkisys::rag::parsers {
namespace {

struct ParserFree {
  void operator()(cmark_parser* p) const { cmark_parser_free(p); }
};
struct NodeFree {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};
struct IterFree {
  void operator()(cmark_iter* i) const { cmark_iter_free(i); }
};
using IterPtr = std::unique_ptr<cmark_iter, IterFree>;

std::string_view type_string(cmark_node* node) {
  const char* s = cmark_node_get_type_string(node);
  return s == nullptr ? std::string_view() : std::string_view(s);
}

// The text of the inlines under `node` (links keep their text, images their alt text, raw
// HTML is dropped); line breaks become spaces. Iterative: nesting depth is the input's.
std::string inline_text(cmark_node* node) {
  std::string out;
  const IterPtr iter(cmark_iter_new(node));
  cmark_event_type ev = CMARK_EVENT_NONE;
  while ((ev = cmark_iter_next(iter.get())) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* cur = cmark_iter_get_node(iter.get());
    switch (cmark_node_get_type(cur)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE: {
        const char* lit = cmark_node_get_literal(cur);
        if (lit != nullptr) out += lit;
        break;
      }
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK:
        out += ' ';
        break;
      case CMARK_NODE_PARAGRAPH:
      case CMARK_NODE_HEADING:
        if (!out.empty()) out += ' ';
        break;
      default:
        break;
    }
  }
  return out;
}

// One line per row, cells joined by " | ".
std::string table_text(cmark_node* table) {
  std::string out;
  for (cmark_node* row = cmark_node_first_child(table); row != nullptr;
       row = cmark_node_next(row)) {
    std::string line;
    for (cmark_node* cell = cmark_node_first_child(row); cell != nullptr;
         cell = cmark_node_next(cell)) {
      if (!line.empty()) line += " | ";
      line += collapse_whitespace(inline_text(cell));
    }
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

bool inside_item(cmark_node* node) {
  cmark_node* parent = cmark_node_parent(node);
  return parent != nullptr && cmark_node_get_type(parent) == CMARK_NODE_ITEM;
}

}  // namespace

core::Expected<Extracted> parse_markdown_format(std::string_view data, std::string_view charset,
                                                const ParseLimits& limits) {
  auto text = decode_text(data, charset);
  if (!text) return text.error();
  static std::once_flag once;
  std::call_once(once, [] { cmark_gfm_core_extensions_ensure_registered(); });

  const std::unique_ptr<cmark_parser, ParserFree> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  if (cmark_syntax_extension* table = cmark_find_syntax_extension("table")) {
    cmark_parser_attach_syntax_extension(parser.get(), table);
  }
  cmark_parser_feed(parser.get(), text->data(), text->size());
  const std::unique_ptr<cmark_node, NodeFree> root(cmark_parser_finish(parser.get()));
  if (!root) return unprocessable("invalid_markdown", "the Markdown cannot be parsed");

  BlockSink sink(limits.max_text_bytes);
  const IterPtr iter(cmark_iter_new(root.get()));
  cmark_event_type ev = CMARK_EVENT_NONE;
  while (!sink.overflowed() && (ev = cmark_iter_next(iter.get())) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* node = cmark_iter_get_node(iter.get());
    bool skip_children = true;
    switch (cmark_node_get_type(node)) {
      case CMARK_NODE_HEADING:
        sink.add(BlockKind::kHeading, inline_text(node), cmark_node_get_heading_level(node));
        break;
      case CMARK_NODE_PARAGRAPH:
        sink.add(inside_item(node) ? BlockKind::kListItem : BlockKind::kParagraph,
                 inline_text(node));
        break;
      case CMARK_NODE_CODE_BLOCK: {
        const char* lit = cmark_node_get_literal(node);
        sink.add(BlockKind::kCode, lit == nullptr ? "" : lit);
        break;
      }
      case CMARK_NODE_HTML_BLOCK:
      case CMARK_NODE_THEMATIC_BREAK:
      case CMARK_NODE_FOOTNOTE_DEFINITION:
        break;
      default:
        if (type_string(node) == "table") {
          sink.add(BlockKind::kTable, table_text(node));
        } else {
          skip_children = false;  // document, list, item, block quote: their blocks follow
        }
        break;
    }
    if (skip_children) cmark_iter_reset(iter.get(), node, CMARK_EVENT_EXIT);
  }
  if (sink.overflowed()) return sink.overflow_error();
  return Extracted{sink.take(), {}, 0};
}

}  // namespace enkisys::rag::parsers
