#include "enkisys/core/router.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace enkisys::core {

struct Router::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>> literals;
  std::unique_ptr<Node> param;  // `{name}` child
  std::string param_name;
  std::map<http::verb, std::pair<Handler, RouteOptions>> handlers;
  std::string pattern;
};

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

namespace {
// Splits "/a/b/c" into {"a","b","c"}; "/" into {}; keeps empty segments ("/a//b" → a,"",b).
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path == "/") return out;
  if (path.front() == '/') path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    auto hex = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}
}  // namespace

std::string_view PathParams::get(std::string_view name) const {
  for (const auto& [k, v] : values) {
    if (k == name) return v;
  }
  return {};
}

void Router::add(http::verb method, std::string_view pattern, Handler handler,
                 RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  }
  Node* node = root_.get();
  for (std::string_view seg : segments(pattern)) {
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        throw std::invalid_argument("conflicting parameter names at the same depth in " +
                                    std::string(pattern));
      }
      node = node->param.get();
    } else {
      auto& child = node->literals[std::string(seg)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  if (node->handlers.count(method) != 0) {
    throw std::invalid_argument("duplicate route " + std::string(http::to_string(method)) + " " +
                                std::string(pattern));
  }
  if (options.stream_body) max_stream_body_ = std::max(max_stream_body_, options.max_body_bytes);
  node->handlers.emplace(method, std::make_pair(std::move(handler), options));
  node->pattern = std::string(pattern);
}

RouteMatch Router::match(http::verb method, std::string_view path) const {
  RouteMatch m;
  const Node* node = root_.get();
  std::string decoded;
  for (std::string_view seg : segments(path)) {
    auto it = node->literals.find(std::string(seg));
    if (it != node->literals.end()) {
      node = it->second.get();
      continue;
    }
    if (node->param && !seg.empty()) {
      if (!percent_decode(seg, &decoded)) return m;  // not found
      m.params.values.emplace_back(node->param_name, decoded);
      node = node->param.get();
      continue;
    }
    return m;
  }
  if (node->handlers.empty()) return m;
  m.pattern = node->pattern;
  auto h = node->handlers.find(method);
  if (h == node->handlers.end() && method == http::verb::head)
    h = node->handlers.find(http::verb::get);
  if (h == node->handlers.end()) {
    m.kind = RouteMatch::Kind::kMethodNotAllowed;
    for (const auto& [verb, _] : node->handlers) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += std::string(http::to_string(verb));
    }
    return m;
  }
  m.kind = RouteMatch::Kind::kFound;
  m.handler = &h->second.first;
  m.options = &h->second.second;
  return m;
}

}  // namespace enkisys::core
