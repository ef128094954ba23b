// Schema::compile — turns a schema document into the Node graph in internal.hpp.
#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <stdexcept>

#include "internal.hpp"

namespace enkisys::schema {
namespace detail {
namespace {

namespace json = boost::json;

struct PendingRef {
  NodeId node;
  std::string target;   // JSON Pointer into the document ("" = root)
  std::string keyword;  // pointer of the $ref keyword, for errors
};

std::string child(const std::string& path, std::string_view key) {
  std::string p = path;
  append_pointer(p, key);
  return p;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Deepest group nesting of a pattern, ignoring escaped characters and classes.
std::size_t group_depth(std::string_view p) {
  std::size_t depth = 0, max = 0;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      max = std::max(max, ++depth);
    } else if (c == ')' && depth > 0) {
      --depth;
    }
  }
  return max;
}

class Compiler {
 public:
  Compiler(const json::value& root, const CompileOptions& opts, Compiled& out)
      : root_(root), opts_(opts), out_(out) {}

  std::optional<SchemaError> run() {
    compile(root_, "", 0);
    // Resolve references breadth-first; targets not yet compiled are compiled at a depth
    // equal to their pointer length, so a reference never deepens the native stack.
    while (!error_ && !pending_.empty()) {
      PendingRef ref = std::move(pending_.front());
      pending_.pop_front();
      std::error_code ec;
      const json::value* target = root_.find_pointer(ref.target, ec);
      if (target == nullptr) {
        fail(ref.keyword, "$ref '#" + ref.target + "' does not resolve");
        break;
      }
      const auto depth =
          static_cast<std::size_t>(std::count(ref.target.begin(), ref.target.end(), '/'));
      const NodeId id = compile(*target, ref.target, depth);
      if (!error_) out_.nodes[static_cast<std::size_t>(ref.node)].ref = id;
    }
    return error_;
  }

 private:
  void fail(const std::string& pointer, std::string message) {
    if (!error_) error_ = SchemaError{pointer, std::move(message)};
  }

  NodeId compile(const json::value& v, const std::string& path, std::size_t depth) {
    if (error_) return kNone;
    if (auto it = memo_.find(path); it != memo_.end()) return it->second;
    if (depth > opts_.max_depth) {
      fail(path, "schema nesting deeper than " + std::to_string(opts_.max_depth));
      return kNone;
    }
    if (out_.nodes.size() >= opts_.max_nodes) {
      fail(path, "schema has more than " + std::to_string(opts_.max_nodes) + " subschemas");
      return kNone;
    }
    const auto id = static_cast<NodeId>(out_.nodes.size());
    out_.nodes.emplace_back();
    out_.nodes.back().path = path;
    memo_.emplace(path, id);
    Node n;
    n.path = path;
    if (v.is_bool()) {
      n.boolean = v.get_bool() ? Node::Bool::accept : Node::Bool::reject;
    } else if (!v.is_object()) {
      fail(path, "a schema must be an object or a boolean");
    } else {
      keywords(v.get_object(), path, depth, n);
    }
    out_.nodes[static_cast<std::size_t>(id)] = std::move(n);
    return id;
  }

  NodeId sub(const json::object& o, std::string_view key, const std::string& path,
             std::size_t depth) {
    const json::value* v = o.if_contains(key);
    return v ? compile(*v, child(path, key), depth + 1) : kNone;
  }

  std::optional<std::size_t> count(const json::object& o, std::string_view key,
                                   const std::string& path) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    const auto n = Number::from(*v);
    if (!n || !is_integral(*n) || compare(*n, Number{}) < 0 ||
        compare(*n, Number{Number::f64, 0, 0, 1e15}) > 0) {
      fail(child(path, key), "must be a non-negative integer");
      return std::nullopt;
    }
    return n->kind == Number::f64 ? static_cast<std::size_t>(n->d)
                                  : (n->kind == Number::i64 ? static_cast<std::size_t>(n->i)
                                                            : static_cast<std::size_t>(n->u));
  }

  std::optional<Number> number(const json::object& o, std::string_view key,
                               const std::string& path) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    auto n = Number::from(*v);
    if (!n || (n->kind == Number::f64 && !std::isfinite(n->d))) {
      fail(child(path, key), "must be a number");
      return std::nullopt;
    }
    return n;
  }

  std::vector<NodeId> schema_array(const json::object& o, std::string_view key,
                                   const std::string& path, std::size_t depth) {
    std::vector<NodeId> ids;
    const json::value* v = o.if_contains(key);
    if (!v) return ids;
    const std::string kp = child(path, key);
    if (!v->is_array() || v->get_array().empty()) {
      fail(kp, "must be a non-empty array of schemas");
      return ids;
    }
    std::size_t i = 0;
    for (const auto& e : v->get_array())
      ids.push_back(compile(e, child(kp, std::to_string(i++)), depth + 1));
    return ids;
  }

  std::optional<Regex> regex(std::string_view source, const std::string& pointer) {
    if (source.size() > opts_.max_pattern_length) {
      fail(pointer,
           "regular expression longer than " + std::to_string(opts_.max_pattern_length) + " bytes");
      return std::nullopt;
    }
    if (group_depth(source) > 32) {
      fail(pointer, "regular expression nests groups deeper than 32");
      return std::nullopt;
    }
    try {
      auto flags = std::regex::ECMAScript;
#if defined(__GLIBCXX__)
      flags |= std::regex_constants::__polynomial;  // no back-references; polynomial matching
#endif
      return Regex{std::string(source), std::regex(source.begin(), source.end(), flags)};
    } catch (const std::regex_error& e) {
      fail(pointer, std::string("invalid regular expression: ") + e.what());
    } catch (const std::length_error&) {
      fail(pointer, "regular expression too complex");
    }
    return std::nullopt;
  }

  void type_keyword(const json::value& v, const std::string& kp, Node& n) {
    auto one = [&](const json::value& t, const std::string& p) {
      if (!t.is_string()) return fail(p, "type names must be strings");
      const auto& s = t.get_string();
      if (s == "null")
        n.types |= kNull;
      else if (s == "boolean")
        n.types |= kBoolean;
      else if (s == "object")
        n.types |= kObject;
      else if (s == "array")
        n.types |= kArray;
      else if (s == "number")
        n.types |= kNumber;
      else if (s == "string")
        n.types |= kString;
      else if (s == "integer")
        n.types |= kInteger;
      else
        fail(p, "unknown type '" + std::string(s) + "'");
    };
    if (v.is_array()) {
      if (v.get_array().empty()) return fail(kp, "must not be an empty array");
      std::size_t i = 0;
      for (const auto& t : v.get_array()) one(t, child(kp, std::to_string(i++)));
    } else {
      one(v, kp);
    }
  }

  void ref_keyword(const json::value& v, const std::string& kp, NodeId self, Node& n) {
    if (!v.is_string()) return fail(kp, "must be a string");
    const std::string_view r = v.get_string();
    if (r.empty() || r.front() != '#') {
      return fail(kp, "remote $ref '" + std::string(r) +
                          "' is not supported (only local '#/...' references)");
    }
    auto frag = percent_decode(r.substr(1));
    if (!frag) return fail(kp, "malformed percent-encoding in $ref");
    if (!frag->empty() && frag->front() != '/') {
      return fail(kp, "$ref to an anchor ('" + std::string(r) + "') is not supported");
    }
    n.ref_target = std::string(r);
    pending_.push_back(PendingRef{self, std::move(*frag), kp});
  }

  void keywords(const json::object& o, const std::string& path, std::size_t depth, Node& n) {
    const auto self = memo_.at(path);
    if (const auto* v = o.if_contains("$ref")) ref_keyword(*v, child(path, "$ref"), self, n);
    for (std::string_view defs : {"$defs", "definitions"}) {
      if (const auto* v = o.if_contains(defs)) {
        if (!v->is_object()) {
          fail(child(path, defs), "must be an object of schemas");
        } else {
          for (const auto& kv : v->get_object()) {
            compile(kv.value(), child(child(path, defs), kv.key()), depth + 1);
          }
        }
      }
    }
    if (const auto* v = o.if_contains("type")) type_keyword(*v, child(path, "type"), n);
    if (const auto* v = o.if_contains("enum")) {
      if (!v->is_array()) {
        fail(child(path, "enum"), "must be an array");
      } else {
        n.enum_values.emplace();
        for (const auto& e : v->get_array()) {
          std::string c;
          canonical(e, c);
          n.enum_values->insert(std::move(c));
        }
      }
    }
    if (const auto* v = o.if_contains("const")) {
      n.const_value.emplace();
      canonical(*v, *n.const_value);
    }
    object_keywords(o, path, depth, n);
    array_keywords(o, path, depth, n);
    n.minimum = number(o, "minimum", path);
    n.maximum = number(o, "maximum", path);
    n.exclusive_minimum = number(o, "exclusiveMinimum", path);
    n.exclusive_maximum = number(o, "exclusiveMaximum", path);
    n.multiple_of = number(o, "multipleOf", path);
    if (n.multiple_of && compare(*n.multiple_of, Number{}) <= 0) {
      fail(child(path, "multipleOf"), "must be greater than 0");
    }
    n.min_length = count(o, "minLength", path);
    n.max_length = count(o, "maxLength", path);
    if (const auto* v = o.if_contains("pattern")) {
      if (!v->is_string())
        fail(child(path, "pattern"), "must be a string");
      else
        n.pattern = regex(v->get_string(), child(path, "pattern"));
    }
    if (const auto* v = o.if_contains("format")) {
      if (!v->is_string())
        fail(child(path, "format"), "must be a string");
      else
        n.format = format_from_name(v->get_string()).value_or(Format::none);
    }
    n.all_of = schema_array(o, "allOf", path, depth);
    n.any_of = schema_array(o, "anyOf", path, depth);
    n.one_of = schema_array(o, "oneOf", path, depth);
    n.not_ = sub(o, "not", path, depth);
    n.if_ = sub(o, "if", path, depth);
    n.then_ = sub(o, "then", path, depth);
    n.else_ = sub(o, "else", path, depth);
  }

  void object_keywords(const json::object& o, const std::string& path, std::size_t depth, Node& n) {
    if (const auto* v = o.if_contains("properties")) {
      const std::string kp = child(path, "properties");
      if (!v->is_object()) {
        fail(kp, "must be an object of schemas");
      } else {
        for (const auto& kv : v->get_object()) {
          n.properties.emplace_back(std::string(kv.key()),
                                    compile(kv.value(), child(kp, kv.key()), depth + 1));
        }
      }
    }
    if (const auto* v = o.if_contains("required")) {
      const std::string kp = child(path, "required");
      if (!v->is_array()) {
        fail(kp, "must be an array of strings");
      } else {
        for (const auto& e : v->get_array()) {
          if (!e.is_string()) {
            fail(kp, "must be an array of strings");
            break;
          }
          n.required.emplace_back(e.get_string());
        }
      }
    }
    n.additional_properties = sub(o, "additionalProperties", path, depth);
    if (const auto* v = o.if_contains("patternProperties")) {
      const std::string kp = child(path, "patternProperties");
      if (!v->is_object()) {
        fail(kp, "must be an object of schemas");
      } else {
        for (const auto& kv : v->get_object()) {
          const std::string p = child(kp, kv.key());
          auto re = regex(kv.key(), p);
          const NodeId id = compile(kv.value(), p, depth + 1);
          if (re) n.pattern_properties.emplace_back(std::move(*re), id);
        }
      }
    }
    n.property_names = sub(o, "propertyNames", path, depth);
    n.min_properties = count(o, "minProperties", path);
    n.max_properties = count(o, "maxProperties", path);
  }

  void array_keywords(const json::object& o, const std::string& path, std::size_t depth, Node& n) {
    n.prefix_items = schema_array(o, "prefixItems", path, depth);
    if (const auto* v = o.if_contains("items")) {
      if (v->is_array()) {
        n.prefix_items = schema_array(o, "items", path, depth);
        n.prefix_from_items = true;
        n.items = sub(o, "additionalItems", path, depth);
      } else {
        n.items = sub(o, "items", path, depth);
      }
    }
    n.min_items = count(o, "minItems", path);
    n.max_items = count(o, "maxItems", path);
    if (const auto* v = o.if_contains("uniqueItems")) {
      if (!v->is_bool())
        fail(child(path, "uniqueItems"), "must be a boolean");
      else
        n.unique_items = v->get_bool();
    }
    n.contains = sub(o, "contains", path, depth);
    n.min_contains = count(o, "minContains", path);
    n.max_contains = count(o, "maxContains", path);
  }

  const json::value& root_;
  const CompileOptions& opts_;
  Compiled& out_;
  std::map<std::string, NodeId, std::less<>> memo_;
  std::deque<PendingRef> pending_;
  std::optional<SchemaError> error_;
};

}  // namespace
}  // namespace detail

Schema::Schema() {
  auto c = std::make_shared<detail::Compiled>();
  c->document = true;
  c->nodes.emplace_back();
  c->nodes.back().boolean = detail::Node::Bool::accept;
  compiled_ = std::move(c);
}

Schema::Schema(std::shared_ptr<const detail::Compiled> compiled) : compiled_(std::move(compiled)) {}

const boost::json::value& Schema::document() const {
  return compiled_->document;
}

CompileResult Schema::compile(const boost::json::value& document, const CompileOptions& options) {
  auto c = std::make_shared<detail::Compiled>();
  c->document = document;
  c->max_pattern_input = options.max_pattern_input;
  detail::Compiler compiler(c->document, options, *c);
  try {
    if (auto err = compiler.run()) return std::move(*err);
  } catch (const std::bad_alloc&) {
    return SchemaError{"", "schema too large"};
  }
  return Schema(std::shared_ptr<const detail::Compiled>(std::move(c)));
}

}  // namespace enkisys::schema
