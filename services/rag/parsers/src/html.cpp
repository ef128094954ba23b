// HTML with gumbo (the HTML5 parsing algorithm of browsers; no network, only HTML's named
// character references): h1-h6 → headings, li → list items,
// pre → code, tables → one row per line, other block elements → paragraphs. script, style,
// noscript, template, head (except <title>), nav, footer and embedded objects are dropped.
#include <gumbo.h>

#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/utf8.hpp"
#include "parsers_internal.hpp"
#include "tree_walk.hpp"

namespace enkisys::rag::parsers {
namespace {

const GumboVector* children_of(const GumboNode* n) {
  switch (n->type) {
    case GUMBO_NODE_DOCUMENT:
      return &n->v.document.children;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
      return &n->v.element.children;
    default:
      return nullptr;
  }
}

}  // namespace

// The links of gumbo's nodes for walk_tree.
template <>
struct TreeLinks<GumboNode> {
  static GumboNode* first_child(const GumboNode* n) {
    const GumboVector* c = children_of(n);
    return c == nullptr || c->length == 0 ? nullptr : static_cast<GumboNode*>(c->data[0]);
  }
  static GumboNode* next_sibling(const GumboNode* n) {
    if (n->parent == nullptr) return nullptr;
    const GumboVector* c = children_of(n->parent);
    const std::size_t next = n->index_within_parent + 1;
    return c == nullptr || next >= c->length ? nullptr : static_cast<GumboNode*>(c->data[next]);
  }
  static GumboNode* parent_of(const GumboNode* n) { return n->parent; }
};

namespace {

// Elements nested deeper than this (by limit_html_nesting's estimate) lose their tags.
constexpr std::size_t kMaxNesting = 256;

struct OutputFree {
  void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};

bool is_element_node(const GumboNode* n) {
  return n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE;
}

bool is_text_node(const GumboNode* n) {
  return n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA ||
         n->type == GUMBO_NODE_WHITESPACE;
}

std::string_view text_of(const GumboNode* n) {
  return n->v.text.text == nullptr ? std::string_view() : std::string_view(n->v.text.text);
}

// The lower-case tag name of an element of a known tag, else "".
std::string_view name_of(const GumboNode* n) {
  if (!is_element_node(n) || n->v.element.tag == GUMBO_TAG_UNKNOWN) return {};
  return gumbo_normalized_tagname(n->v.element.tag);
}

bool is_element(const GumboNode* n, std::string_view name) {
  return is_element_node(n) && name_of(n) == name;
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

bool dropped(const GumboNode* node) {
  return is_element_node(node) &&
         one_of(name_of(node),
                {"script", "style", "noscript", "template", "head", "nav", "footer", "iframe",
                 "object", "embed", "svg", "math", "canvas", "select", "button"});
}

// Elements that end the running paragraph where they start and end.
bool block_element(std::string_view name) {
  return one_of(
      name,
      {"p",       "div",     "blockquote", "section", "article", "main", "header", "aside",
       "ul",      "ol",      "dl",         "dd",      "dt",      "li",   "figure", "figcaption",
       "address", "form",    "fieldset",   "legend",  "hr",      "body", "html",   "center",
       "details", "summary", "caption",    "td",      "th",      "tr",   "table"});
}

int heading_level(const GumboNode* node) {
  const std::string_view n = name_of(node);
  if (n.size() == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6') {
    return n[1] - '0';
  }
  return 0;
}

// Text of a subtree. `verbatim` (pre) keeps whitespace and turns <br> into a newline; otherwise
// block boundaries become spaces.
std::string subtree_text(const GumboNode* root, bool verbatim) {
  std::string out;
  walk_tree(
      root,
      [&](const GumboNode* n) {
        if (n != root && dropped(n)) return false;
        if (is_text_node(n)) out += text_of(n);
        if (is_element_node(n) &&
            (name_of(n) == "br" || (!verbatim && block_element(name_of(n))))) {
          out += verbatim ? '\n' : ' ';
        }
        return is_element_node(n) || n == root;
      },
      [&](const GumboNode* n) {
        if (!verbatim && is_element_node(n) && block_element(name_of(n))) out += ' ';
      });
  return out;
}

// One line per row whose nearest table is `table`; cells joined by " | ".
std::string table_text(const GumboNode* table) {
  std::string out;
  walk_tree(
      table,
      [&](const GumboNode* n) {
        if (n == table) return true;
        if (!is_element_node(n) || dropped(n) || name_of(n) == "table") return false;
        if (name_of(n) != "tr") return true;
        std::string line;
        for (const GumboNode* cell = TreeLinks<GumboNode>::first_child(n); cell != nullptr;
             cell = TreeLinks<GumboNode>::next_sibling(cell)) {
          if (!is_element(cell, "td") && !is_element(cell, "th")) continue;
          if (!line.empty()) line += " | ";
          line += collapse_whitespace(subtree_text(cell, false));
        }
        if (!out.empty()) out += '\n';
        out += line;
        return false;
      },
      [](const GumboNode* /*n*/) {});
  return out;
}

const GumboNode* find_element(const GumboNode* root, std::string_view name) {
  const GumboNode* found = nullptr;
  walk_tree(
      root,
      [&](const GumboNode* n) {
        if (found == nullptr && is_element(n, name)) found = n;
        return found == nullptr && (is_element_node(n) || n == root);
      },
      [](const GumboNode* /*n*/) {});
  return found;
}

// Walks the body: text accumulates into the running block, flushed at block boundaries with
// the kind of the innermost open <li> (list item) or paragraph.
class HtmlReader {
 public:
  explicit HtmlReader(BlockSink& sink) : sink_(sink) {}

  void read(const GumboNode* root) {
    walk_tree(
        root, [this](const GumboNode* n) { return enter(n); },
        [this](const GumboNode* n) { leave(n); });
    flush();
  }

 private:
  bool enter(const GumboNode* n) {
    if (is_text_node(n)) {
      text_ += text_of(n);
      return false;
    }
    if (!is_element_node(n) && n->type != GUMBO_NODE_DOCUMENT) return false;
    if (dropped(n)) return false;
    const std::string_view name = name_of(n);
    if (name == "br") text_ += ' ';  // a line break inside a paragraph
    if (const int level = heading_level(n); level > 0) {
      flush();
      sink_.add(BlockKind::kHeading, subtree_text(n, false), level);
      return false;
    }
    if (name == "pre") {
      flush();
      sink_.add(BlockKind::kCode, subtree_text(n, true));
      return false;
    }
    if (name == "table") {
      flush();
      sink_.add(BlockKind::kTable, table_text(n));
      return false;
    }
    if (block_element(name)) {
      flush();
      if (name == "li") ++list_depth_;
    }
    return true;
  }

  void leave(const GumboNode* n) {
    if (!is_element_node(n) || !block_element(name_of(n)) || dropped(n)) return;
    flush();
    if (name_of(n) == "li" && list_depth_ > 0) --list_depth_;
  }

  void flush() {
    sink_.add(list_depth_ > 0 ? BlockKind::kListItem : BlockKind::kParagraph, text_);
    text_.clear();
  }

  BlockSink& sink_;
  std::string text_;
  int list_depth_ = 0;
};

// The charset of a <meta charset=...> or <meta http-equiv content="...; charset=..."> in the
// first 2 KiB (lower case), or "". UTF-16/32 there is read as UTF-8 (as browsers do: the bytes
// that carried the tag are ASCII-compatible).
std::string meta_charset(std::string_view data) {
  std::string head(data.substr(0, 2048));
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t at = head.find("<meta"); at != std::string::npos;
       at = head.find("<meta", at + 5)) {
    const std::size_t end = head.find('>', at);
    const std::string_view tag = std::string_view(head).substr(at, end - at);
    std::size_t p = tag.find("charset");
    if (p == std::string_view::npos) continue;
    p = tag.find('=', p);
    if (p == std::string_view::npos) continue;
    ++p;
    while (p < tag.size() && (tag[p] == ' ' || tag[p] == '"' || tag[p] == '\'')) ++p;
    std::size_t q = p;
    while (q < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[q])) != 0 ||
                              tag[q] == '-' || tag[q] == '_' || tag[q] == '.' || tag[q] == ':')) {
      ++q;
    }
    std::string charset(tag.substr(p, q - p));
    if (charset.starts_with("utf-16") || charset.starts_with("utf-32")) charset = "utf-8";
    return charset;
  }
  return {};
}

// The document as UTF-8: the declared charset (unknown: 422), else a BOM, else the meta
// charset (unknown: ignored), else UTF-8; bytes invalid in it become U+FFFD.
core::Expected<std::string> html_to_utf8(std::string_view data, std::string_view declared) {
  if (!declared.empty()) return convert_to_utf8(data, declared);
  if (data.starts_with("\xFF\xFE") || data.starts_with("\xFE\xFF") ||
      data.starts_with(std::string_view("\0\0\xFE\xFF", 4))) {
    return decode_text(data, {});
  }
  if (data.starts_with("\xEF\xBB\xBF")) data.remove_prefix(3);
  const std::string meta = meta_charset(data);
  if (!meta.empty() && meta != "utf-8" && meta != "utf8") {
    auto converted = convert_to_utf8(data, meta);
    if (converted) return converted;
  }
  return core::to_valid_utf8(data);
}

}  // namespace

core::Expected<Extracted> parse_html(std::string_view data, std::string_view charset,
                                     const ParseLimits& limits) {
  // gumbo reads UTF-8 only (and never looks at the document's own declarations).
  auto utf8 = html_to_utf8(data, charset);
  if (!utf8) return utf8.error();
  // gumbo's time grows with the square of the nesting depth and it frees its tree recursively:
  // elements nested deeper than browsers ever need are flattened before it sees them.
  const std::string html = limit_html_nesting(*utf8, kMaxNesting);
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // parse errors are not kept (they are not needed)
  const std::unique_ptr<GumboOutput, OutputFree> doc(
      gumbo_parse_with_options(&options, html.data(), html.size()));
  if (!doc) return Extracted{};  // nothing parseable: an empty document

  Extracted out;
  const GumboNode* root = doc->root;
  if (root == nullptr) return out;
  if (const GumboNode* title = find_element(root, "title")) {
    out.title = collapse_whitespace(subtree_text(title, false));
  }
  BlockSink sink(limits.max_text_bytes);
  HtmlReader(sink).read(root);
  if (sink.overflowed()) return sink.overflow_error();
  out.blocks = sink.take();
  return out;
}

}  // namespace enkisys::rag::parsers
