// XmlTree: expat (SAX) → an explicit tree; see xml_tree.hpp.
#include "xml_tree.hpp"

#include <expat.h>

#include <algorithm>
#include <cstddef>

namespace enkisys::rag::parsers {

namespace {

std::string_view local_name(const XML_Char* name) {
  const std::string_view full(name);
  const std::size_t colon = full.rfind(':');
  return colon == std::string_view::npos ? full : full.substr(colon + 1);
}

struct ParserFree {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

}  // namespace

// Receives expat's events; `current` is the innermost open element (the explicit stack).
struct XmlBuilder {
  XmlTree& tree;
  XmlNode* current = nullptr;

  XmlNode* append(XmlNode node) {
    XmlNode* n = &tree.nodes_.emplace_back(std::move(node));
    n->parent = current;
    if (current != nullptr) {
      if (current->last_child != nullptr) current->last_child->next = n;
      if (current->first_child == nullptr) current->first_child = n;
      current->last_child = n;
    }
    return n;
  }

  static void start(void* user, const XML_Char* name, const XML_Char** atts) {
    auto* self = static_cast<XmlBuilder*>(user);
    XmlNode node;
    node.element = true;
    node.name = local_name(name);
    for (const XML_Char** a = atts; a != nullptr && *a != nullptr; a += 2) {
      node.attributes.emplace_back(local_name(a[0]), a[1]);
    }
    XmlNode* n = self->append(std::move(node));
    if (self->tree.root_ == nullptr) self->tree.root_ = n;
    self->current = n;
  }

  static void end(void* user, const XML_Char* /*name*/) {
    auto* self = static_cast<XmlBuilder*>(user);
    if (self->current != nullptr) self->current = self->current->parent;
  }

  static void characters(void* user, const XML_Char* s, int len) {
    auto* self = static_cast<XmlBuilder*>(user);
    if (self->current == nullptr || len <= 0) return;
    XmlNode* last = self->current->last_child;
    if (last == nullptr || last->element) {
      XmlNode text;
      last = self->append(std::move(text));
    }
    last->text.append(s, static_cast<std::size_t>(len));
  }

  // Installed so that references to entities declared in a DOCTYPE are reported here (and
  // dropped) instead of being expanded.
  static void ignore(void* /*user*/, const XML_Char* /*s*/, int /*len*/) {}
};

std::unique_ptr<XmlTree> XmlTree::parse(std::string_view xml) {
  auto tree = std::make_unique<XmlTree>();
  const std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreate(nullptr));
  if (!parser) return nullptr;
  XmlBuilder builder{*tree};
  XML_SetUserData(parser.get(), &builder);
  XML_SetElementHandler(parser.get(), XmlBuilder::start, XmlBuilder::end);
  XML_SetCharacterDataHandler(parser.get(), XmlBuilder::characters);
  XML_SetDefaultHandler(parser.get(), XmlBuilder::ignore);  // no internal entity expansion
  // No XML_SetExternalEntityRefHandler: external entities are skipped, never opened.
  XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
  constexpr std::size_t kChunk = std::size_t{1} << 20U;
  do {
    const std::size_t n = std::min(xml.size(), kChunk);
    const bool last = n == xml.size();
    if (XML_Parse(parser.get(), xml.data(), static_cast<int>(n), last ? XML_TRUE : XML_FALSE) !=
        XML_STATUS_OK) {
      return nullptr;
    }
    xml.remove_prefix(n);
  } while (!xml.empty());
  if (tree->root_ == nullptr) return nullptr;
  return tree;
}

std::string_view attribute_of(const XmlNode* n, std::string_view local_name) {
  for (const auto& [name, value] : n->attributes) {
    if (name == local_name) return value;
  }
  return {};
}

XmlNode* child_element(const XmlNode* parent, std::string_view local_name) {
  for (XmlNode* c = parent->first_child; c != nullptr; c = c->next) {
    if (is_element(c, local_name)) return c;
  }
  return nullptr;
}

}  // namespace enkisys::rag::parsers
