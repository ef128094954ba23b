// A small read-only XML tree built with expat for the DOCX parts (word/document.xml,
// word/styles.xml, docProps/core.xml). Names are local names (any "prefix:" removed; namespaces
// are not resolved, as the parts use fixed prefixes). XXE-safe: no external entity or DTD is
// ever read, parameter entities are not parsed, and references to entities declared in a
// DOCTYPE are dropped unexpanded (only the five predefined entities and character references
// become text). Building is iterative and the nodes live in one container: neither parsing nor
// destroying a deeply nested document recurses.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tree_walk.hpp"

namespace enkisys::rag::parsers {

struct XmlNode {
  bool element = false;  // else a text node (character data and CDATA, merged)
  std::string name;      // element: local name
  std::string text;      // text node: its UTF-8 text
  std::vector<std::pair<std::string, std::string>> attributes;  // element: local name → value
  XmlNode* parent = nullptr;
  XmlNode* first_child = nullptr;
  XmlNode* last_child = nullptr;
  XmlNode* next = nullptr;
};

template <>
struct TreeLinks<XmlNode> {
  static XmlNode* first_child(const XmlNode* n) { return n->first_child; }
  static XmlNode* next_sibling(const XmlNode* n) { return n->next; }
  static XmlNode* parent_of(const XmlNode* n) { return n->parent; }
};

inline bool is_element(const XmlNode* n, std::string_view local_name) {
  return n->element && n->name == local_name;
}

// The value of the attribute with this local name, or "".
std::string_view attribute_of(const XmlNode* n, std::string_view local_name);

// The first child element named `local_name`, or nullptr.
XmlNode* child_element(const XmlNode* parent, std::string_view local_name);

// A parsed document; not thread safe to build, safe to read from several threads once built.
class XmlTree {
 public:
  // Parses `xml` (UTF-8, UTF-16 or a charset expat knows, as declared); nullptr when it is not
  // well-formed (or has no root element).
  static std::unique_ptr<XmlTree> parse(std::string_view xml);

  XmlNode* root() const { return root_; }

 private:
  friend struct XmlBuilder;
  std::deque<XmlNode> nodes_;  // stable addresses; destroyed without recursion
  XmlNode* root_ = nullptr;
};

}  // namespace enkisys::rag::parsers
