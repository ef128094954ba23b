// HTML with libxml2's HTML parser (recovering, no network): h1-h6 → headings, li → list items,
// pre → code, tables → one row per line, other block elements → paragraphs. script, style,
// noscript, template, head (except <title>), nav, footer and embedded objects are dropped.
#include <libxml/HTMLparser.h>

#include <cctype>
#include <climits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/utf8.hpp"
#include "parsers_internal.hpp"
#include "xml_tree.hpp"

namespace enkisys::rag::parsers {
namespace {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

bool dropped(const xmlNode* node) {
  return node->type == XML_ELEMENT_NODE &&
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

int heading_level(const xmlNode* node) {
  const std::string_view n = name_of(node);
  if (node->type == XML_ELEMENT_NODE && n.size() == 2 && n[0] == 'h' && n[1] >= '1' &&
      n[1] <= '6') {
    return n[1] - '0';
  }
  return 0;
}

// Text of a subtree. `verbatim` (pre) keeps whitespace and turns <br> into a newline; otherwise
// block boundaries become spaces.
std::string subtree_text(xmlNode* root, bool verbatim) {
  std::string out;
  walk_tree(
      root,
      [&](xmlNode* n) {
        if (n != root && dropped(n)) return false;
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) out += content_of(n);
        if (n->type == XML_ELEMENT_NODE &&
            (name_of(n) == "br" || (!verbatim && block_element(name_of(n))))) {
          out += verbatim ? '\n' : ' ';
        }
        return n->type == XML_ELEMENT_NODE || n == root;
      },
      [&](xmlNode* n) {
        if (!verbatim && n->type == XML_ELEMENT_NODE && block_element(name_of(n))) out += ' ';
      });
  return out;
}

// One line per row whose nearest table is `table`; cells joined by " | ".
std::string table_text(xmlNode* table) {
  std::string out;
  walk_tree(
      table,
      [&](xmlNode* n) {
        if (n == table) return true;
        if (n->type != XML_ELEMENT_NODE || dropped(n) || name_of(n) == "table") return false;
        if (name_of(n) != "tr") return true;
        std::string line;
        for (xmlNode* cell = n->children; cell != nullptr; cell = cell->next) {
          if (!is_element(cell, "td") && !is_element(cell, "th")) continue;
          if (!line.empty()) line += " | ";
          line += collapse_whitespace(subtree_text(cell, false));
        }
        if (!out.empty()) out += '\n';
        out += line;
        return false;
      },
      [](xmlNode* /*n*/) {});
  return out;
}

xmlNode* find_element(xmlNode* root, std::string_view name) {
  xmlNode* found = nullptr;
  walk_tree(
      root,
      [&](xmlNode* n) {
        if (found == nullptr && is_element(n, name)) found = n;
        return found == nullptr && (n->type == XML_ELEMENT_NODE || n == root);
      },
      [](xmlNode* /*n*/) {});
  return found;
}

// Walks the body: text accumulates into the running block, flushed at block boundaries with
// the kind of the innermost open <li> (list item) or paragraph.
class HtmlReader {
 public:
  explicit HtmlReader(BlockSink& sink) : sink_(sink) {}

  void read(xmlNode* root) {
    walk_tree(
        root, [this](xmlNode* n) { return enter(n); }, [this](xmlNode* n) { leave(n); });
    flush();
  }

 private:
  bool enter(xmlNode* n) {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      text_ += content_of(n);
      return false;
    }
    if (n->type != XML_ELEMENT_NODE && n->type != XML_DOCUMENT_NODE &&
        n->type != XML_HTML_DOCUMENT_NODE) {
      return false;
    }
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

  void leave(xmlNode* n) {
    if (n->type != XML_ELEMENT_NODE || !block_element(name_of(n)) || dropped(n)) return;
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
  prepare_libxml2();
  // libxml2 gets UTF-8 and is told to ignore the document's own encoding declarations.
  auto utf8 = html_to_utf8(data, charset);
  if (!utf8) return utf8.error();
  data = *utf8;
  const int options = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                      HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC;
  if (data.size() > static_cast<std::size_t>(INT_MAX)) {
    return unprocessable("document_too_large", "the HTML is too large to read");
  }
  const std::unique_ptr<xmlDoc, DocFree> doc(
      htmlReadMemory(data.data(), static_cast<int>(data.size()), nullptr, "UTF-8", options));
  if (!doc) return Extracted{};  // nothing parseable: an empty document

  Extracted out;
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) return out;
  if (xmlNode* title = find_element(root, "title")) {
    out.title = collapse_whitespace(subtree_text(title, false));
  }
  BlockSink sink(limits.max_text_bytes);
  HtmlReader(sink).read(root);
  if (sink.overflowed()) return sink.overflow_error();
  out.blocks = sink.take();
  return out;
}

}  // namespace enkisys::rag::parsers
