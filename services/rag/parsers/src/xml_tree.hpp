// Iterative walks over libxml2 trees (HTML and DOCX): no recursion, so the depth of a hostile
// document cannot exhaust the stack. Entity reference nodes are never entered (their children
// are the entity's shared content).
#pragma once

#include <libxml/tree.h>

#include <string_view>

namespace enkisys::rag::parsers {

// Pre-order walk of the subtree at `root`: enter(node) is called on arrival and returns whether
// to visit the node's children; leave(node) is called after them (or right after enter when
// they are skipped).
template <class Enter, class Leave>
void walk_tree(xmlNode* root, Enter&& enter, Leave&& leave) {
  xmlNode* node = root;
  while (node != nullptr) {
    if (enter(node) && node->children != nullptr && node->type != XML_ENTITY_REF_NODE) {
      node = node->children;
      continue;
    }
    for (;;) {
      leave(node);
      if (node == root) return;
      if (node->next != nullptr) {
        node = node->next;
        break;
      }
      node = node->parent;
      if (node == nullptr) return;
    }
  }
}

inline std::string_view name_of(const xmlNode* node) {
  return node->name == nullptr ? std::string_view()
                               : std::string_view(reinterpret_cast<const char*>(node->name));
}

inline std::string_view content_of(const xmlNode* node) {
  return node->content == nullptr ? std::string_view()
                                  : std::string_view(reinterpret_cast<const char*>(node->content));
}

inline bool is_element(const xmlNode* node, std::string_view local_name) {
  return node->type == XML_ELEMENT_NODE && name_of(node) == local_name;
}

// The value of the attribute with this local name (any namespace), or "".
inline std::string_view attribute_of(const xmlNode* node, std::string_view local_name) {
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    if (a->name != nullptr &&
        std::string_view(reinterpret_cast<const char*>(a->name)) == local_name &&
        a->children != nullptr && a->children->type == XML_TEXT_NODE) {
      return content_of(a->children);
    }
  }
  return {};
}

}  // namespace enkisys::rag::parsers
