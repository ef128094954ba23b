// Iterative pre-order walk over a tree (the HTML tree of gumbo, the DOCX XML tree of
// xml_tree.hpp): no recursion, so the depth of a hostile document cannot exhaust the stack.
#pragma once

#include <type_traits>

namespace enkisys::rag::parsers {

// Walks the subtree at `root`: enter(node) is called on arrival and returns whether to visit the
// node's children; leave(node) is called after them (or right after enter when they are
// skipped). TreeLinks<node type> gives the links (nullptr when there is none).
template <class Node>
struct TreeLinks;  // static Node* first_child(const Node*), next_sibling(...), parent_of(...)

template <class Node, class Enter, class Leave>
void walk_tree(Node* root, Enter&& enter, Leave&& leave) {
  using Links = TreeLinks<std::remove_const_t<Node>>;
  Node* node = root;
  while (node != nullptr) {
    if (enter(node)) {
      if (Node* child = Links::first_child(node); child != nullptr) {
        node = child;
        continue;
      }
    }
    for (;;) {
      leave(node);
      if (node == root) return;
      if (Node* next = Links::next_sibling(node); next != nullptr) {
        node = next;
        break;
      }
      node = Links::parent_of(node);
      if (node == nullptr) return;
    }
  }
}

}  // namespace enkisys::rag::parsers
