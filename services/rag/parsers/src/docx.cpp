// DOCX with libzip (the package) and expat (word/document.xml, word/styles.xml,
// docProps/core.xml; see xml_tree.hpp).
// Paragraph styles Heading1..9 / Title (by id, or by name or outline level in
// word/styles.xml) and w:outlineLvl → headings, numbered paragraphs
// (w:numPr) → list items, w:tbl → tables. Entries are inflated under the caps of ParseLimits,
// counted while reading: the sizes in the zip headers are never trusted.
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parsers_internal.hpp"
#include "tree_walk.hpp"
#include "xml_tree.hpp"

namespace enkisys::rag::parsers {
namespace {

struct ZipClose {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

core::Error corrupt(std::string message) {
  return unprocessable("corrupt_docx", std::move(message));
}

core::Error too_large(std::string message) {
  return unprocessable("archive_too_large", std::move(message));
}

// Reads entry `name` under the caps ("" when it is absent and not `required`); `unpacked` is
// the running total of bytes inflated from the archive.
core::Expected<std::string> read_entry(zip_t* zip, const char* name, const ParseLimits& limits,
                                       std::uint64_t& unpacked, bool required) {
  const zip_int64_t index = zip_name_locate(zip, name, 0);
  if (index < 0) {
    if (required) return corrupt(std::string("the DOCX has no ") + name);
    return std::string();
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip, static_cast<zip_uint64_t>(index), 0, &st) != 0) {
    return corrupt(std::string("cannot read ") + name);
  }
  const double compressed =
      (st.valid & ZIP_STAT_COMP_SIZE) != 0 ? static_cast<double>(st.comp_size) : 0.0;
  const double ratio_cap = std::max(compressed, 1024.0) * limits.max_compression_ratio;
  const std::unique_ptr<zip_file_t, ZipFileClose> file(
      zip_fopen_index(zip, static_cast<zip_uint64_t>(index), 0));
  if (!file) return corrupt(std::string("cannot open ") + name);
  std::string out;
  std::vector<char> buffer(std::size_t{64} << 10U);  // heap: callers may run on small stacks
  for (;;) {
    const zip_int64_t n = zip_fread(file.get(), buffer.data(), buffer.size());
    if (n < 0) return corrupt(std::string("damaged zip data in ") + name);
    if (n == 0) break;
    unpacked += static_cast<std::uint64_t>(n);
    if (unpacked > limits.max_unpacked_bytes) {
      return too_large("the DOCX inflates to more than " +
                       std::to_string(limits.max_unpacked_bytes) + " bytes");
    }
    out.append(buffer.data(), static_cast<std::size_t>(n));
    if (static_cast<double>(out.size()) > ratio_cap) {
      return too_large(
          std::string(name) + " inflates more than " +
          std::to_string(static_cast<long long>(std::min(limits.max_compression_ratio, 1e15))) +
          " times its compressed size");
    }
  }
  return out;
}

// Text of the runs under `root`: w:t, tabs and breaks as spaces; deleted text, field codes and
// mc:Fallback (a second copy of mc:Choice's content) are skipped.
std::string run_text(const XmlNode* root) {
  std::string out;
  walk_tree(
      root,
      [&](const XmlNode* n) {
        if (!n->element) return false;
        const std::string_view name = n->name;
        if (name == "t") {
          for (const XmlNode* c = n->first_child; c != nullptr; c = c->next) {
            if (!c->element) out += c->text;
          }
          return false;
        }
        if (name == "tab" || name == "br" || name == "cr") out += ' ';
        if (name == "p" && n != root && !out.empty()) out += ' ';
        return name != "delText" && name != "instrText" && name != "pPr" && name != "rPr" &&
               name != "Fallback";
      },
      [](const XmlNode* /*n*/) {});
  return out;
}

// Heading level of a paragraph (0: none) and whether it is a list item.
struct ParagraphStyle {
  int level = 0;
  bool list = false;
};
// Paragraph style id → what it makes of a paragraph (from word/styles.xml).
using StyleMap = std::unordered_map<std::string, ParagraphStyle>;

// "Heading 3" / "heading3" → 3, "Title" → 1 (style names and the usual English style ids).
ParagraphStyle style_from_name(std::string_view name) {
  std::string id;
  for (char c : name) {
    if (c != ' ') id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  ParagraphStyle style;
  if (id == "title") {
    style.level = 1;
  } else if (id.size() == 8 && id.starts_with("heading") && id[7] >= '1' && id[7] <= '9') {
    style.level = id[7] - '0';
  }
  return style;
}

// w:outlineLvl 0..8 (heading 1..9) and w:numPr (a list) of a w:pPr, over `style`.
ParagraphStyle apply_ppr(ParagraphStyle style, const XmlNode* ppr) {
  if (ppr == nullptr) return style;
  if (const XmlNode* ol = child_element(ppr, "outlineLvl"); ol != nullptr && style.level == 0) {
    const std::string_view v = attribute_of(ol, "val");
    if (v.size() == 1 && v[0] >= '0' && v[0] <= '8') style.level = v[0] - '0' + 1;
  }
  if (child_element(ppr, "numPr") != nullptr) style.list = true;
  return style;
}

// Paragraph styles of word/styles.xml by id: localized documents name their heading styles
// by id ("berschrift1") but keep the name "heading 1" or an outline level.
StyleMap read_styles(std::string_view styles_xml) {
  StyleMap styles;
  if (styles_xml.empty()) return styles;
  const auto doc = XmlTree::parse(styles_xml);
  if (!doc) return styles;
  for (const XmlNode* st = doc->root()->first_child; st != nullptr; st = st->next) {
    if (!is_element(st, "style") || attribute_of(st, "type") != "paragraph") continue;
    const XmlNode* name = child_element(st, "name");
    ParagraphStyle style = style_from_name(name == nullptr ? "" : attribute_of(name, "val"));
    style = apply_ppr(style, child_element(st, "pPr"));
    styles[std::string(attribute_of(st, "styleId"))] = style;
  }
  return styles;
}

ParagraphStyle style_of(const XmlNode* p, const StyleMap& styles) {
  const XmlNode* ppr = child_element(p, "pPr");
  if (ppr == nullptr) return {};
  ParagraphStyle style;
  if (const XmlNode* ps = child_element(ppr, "pStyle")) {
    const std::string id(attribute_of(ps, "val"));
    const auto found = styles.find(id);
    style = found != styles.end() ? found->second : style_from_name(id);
  }
  return apply_ppr(style, ppr);
}

std::string table_text(const XmlNode* tbl) {
  std::string out;
  walk_tree(
      tbl,
      [&](const XmlNode* n) {
        if (n == tbl) return true;
        if (!n->element || n->name == "tbl") return false;
        if (n->name != "tr") return true;
        std::string line;
        for (const XmlNode* cell = n->first_child; cell != nullptr; cell = cell->next) {
          if (!is_element(cell, "tc")) continue;
          if (!line.empty()) line += " | ";
          line += collapse_whitespace(run_text(cell));
        }
        if (!out.empty()) out += '\n';
        out += line;
        return false;
      },
      [](const XmlNode* /*n*/) {});
  return out;
}

void read_body(const XmlNode* root, const StyleMap& styles, BlockSink& sink) {
  walk_tree(
      root,
      [&](const XmlNode* n) {
        if (!n->element || sink.overflowed() || n->name == "Fallback") {
          return false;
        }
        if (n->name == "tbl") {
          sink.add(BlockKind::kTable, table_text(n));
          return false;
        }
        if (n->name == "p") {
          const ParagraphStyle style = style_of(n, styles);
          if (style.level > 0) {
            sink.add(BlockKind::kHeading, run_text(n), style.level);
          } else {
            sink.add(style.list ? BlockKind::kListItem : BlockKind::kParagraph, run_text(n));
          }
          return false;
        }
        return true;
      },
      [](const XmlNode* /*n*/) {});
}

std::string core_title(std::string_view core_xml) {
  if (core_xml.empty()) return {};
  const auto doc = XmlTree::parse(core_xml);
  if (!doc) return {};
  const XmlNode* title = child_element(doc->root(), "title");
  if (title == nullptr) return {};
  std::string text;
  for (const XmlNode* c = title->first_child; c != nullptr; c = c->next) {
    if (!c->element) text += c->text;
  }
  return collapse_whitespace(text);
}

}  // namespace

core::Expected<Extracted> parse_docx(std::string_view data, const ParseLimits& limits) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(data.data(), data.size(), 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return corrupt("the DOCX cannot be read");
  }
  const std::unique_ptr<zip_t, ZipClose> zip(zip_open_from_source(source, ZIP_RDONLY, &error));
  zip_error_fini(&error);
  if (!zip) {
    zip_source_free(source);
    return corrupt("the DOCX is not a valid zip archive");
  }
  const zip_int64_t entries = zip_get_num_entries(zip.get(), 0);
  if (entries < 0) return corrupt("the DOCX is not a valid zip archive");
  if (static_cast<std::uint64_t>(entries) > limits.max_zip_entries) {
    return too_large("the DOCX has " + std::to_string(entries) + " entries; at most " +
                     std::to_string(limits.max_zip_entries) + " are accepted");
  }
  std::uint64_t unpacked = 0;
  auto body_xml = read_entry(zip.get(), "word/document.xml", limits, unpacked, true);
  if (!body_xml) return body_xml.error();
  auto core_xml = read_entry(zip.get(), "docProps/core.xml", limits, unpacked, false);
  if (!core_xml) return core_xml.error();

  auto styles_xml = read_entry(zip.get(), "word/styles.xml", limits, unpacked, false);
  if (!styles_xml) return styles_xml.error();
  const auto doc = XmlTree::parse(*body_xml);
  if (!doc) return corrupt("word/document.xml is not well-formed XML");
  BlockSink sink(limits.max_text_bytes);
  read_body(doc->root(), read_styles(*styles_xml), sink);
  if (sink.overflowed()) return sink.overflow_error();
  return Extracted{sink.take(), core_title(*core_xml), 0};
}

}  // namespace enkisys::rag::parsers
