// Schema::validate — evaluates an instance against the compiled Node graph.
#include <unordered_map>

#include "internal.hpp"

namespace enkisys::schema {
namespace detail {
namespace {

namespace json = boost::json;

std::string_view format_name(Format f) {
  switch (f) {
    case Format::date_time:
      return "date-time";
    case Format::date:
      return "date";
    case Format::time:
      return "time";
    case Format::email:
      return "email";
    case Format::uri:
      return "uri";
    case Format::uuid:
      return "uuid";
    case Format::ipv4:
      return "ipv4";
    case Format::ipv6:
      return "ipv6";
    case Format::none:
      break;
  }
  return "";
}

std::string type_names(std::uint8_t types) {
  static constexpr std::pair<std::uint8_t, std::string_view> kNames[] = {
      {kObject, "object"},   {kArray, "array"},     {kString, "string"}, {kNumber, "number"},
      {kInteger, "integer"}, {kBoolean, "boolean"}, {kNull, "null"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (types & bit) {
      if (!out.empty()) out += " or ";
      out += name;
    }
  }
  return out;
}

bool type_matches(std::uint8_t types, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return types & kNull;
    case json::kind::bool_:
      return types & kBoolean;
    case json::kind::object:
      return types & kObject;
    case json::kind::array:
      return types & kArray;
    case json::kind::string:
      return types & kString;
    default:
      if (types & kNumber) return true;
      return (types & kInteger) && is_integral(*Number::from(v));
  }
}

class Evaluator {
 public:
  Evaluator(const Compiled& c, const ValidateOptions& o, std::vector<ValidationError>* errors)
      : c_(c), o_(o), errors_(errors) {}

  bool run(const json::value& instance) {
    const bool ok = eval(0, instance, errors_ != nullptr);
    if (aborted_ && errors_) errors_->push_back(ValidationError{"", "", abort_message_});
    return ok && !aborted_;
  }

 private:
  struct Depth {
    explicit Depth(std::size_t& d) : d_(d) { ++d_; }
    ~Depth() { --d_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
    std::size_t& d_;
  };

  // Scoped extension of the instance path.
  struct Segment {
    Segment(std::string& path, std::string_view token) : path_(path), size_(path.size()) {
      append_pointer(path, token);
    }
    ~Segment() { path_.resize(size_); }
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;
    std::string& path_;
    std::size_t size_;
  };

  bool full() const { return errors_ && errors_->size() >= o_.max_errors; }

  // Records a failure; returns true when evaluation of the current node should stop.
  bool report(bool collect, const Node& n, std::string_view keyword, std::string message) {
    if (!collect) return true;
    if (!full()) {
      std::string sp = n.path;
      if (!keyword.empty()) append_pointer(sp, keyword);
      errors_->push_back(ValidationError{ipath_, std::move(sp), std::move(message)});
    }
    return full() || aborted_;
  }

  bool abort(std::string message) {
    if (!aborted_) {
      aborted_ = true;
      abort_message_ = std::move(message);
    }
    return false;
  }

  bool eval(NodeId id, const json::value& v, bool collect) {
    if (aborted_ || id == kNone) return !aborted_;
    if (++steps_ > o_.max_steps) {
      return abort("validation aborted: evaluation budget of " + std::to_string(o_.max_steps) +
                   " steps exceeded");
    }
    Depth guard(depth_);
    if (depth_ > o_.max_recursion) {
      return abort("validation aborted: schema recursion deeper than " +
                   std::to_string(o_.max_recursion));
    }
    const Node& n = c_.nodes[static_cast<std::size_t>(id)];
    if (n.boolean == Node::Bool::accept) return true;
    if (n.boolean == Node::Bool::reject) {
      report(collect, n, "", "no value is allowed here");
      return false;
    }
    bool ok = true;
    // Each check: on failure, mark and stop early unless collecting with room left.
#define ENKISYS_FAIL(keyword, message)                      \
  do {                                                      \
    ok = false;                                             \
    if (report(collect, n, keyword, message)) return false; \
  } while (false)

    if (n.ref != kNone && !eval(n.ref, v, collect)) {
      ok = false;
      if (!collect || full() || aborted_) return false;
    }
    if (n.types && !type_matches(n.types, v))
      ENKISYS_FAIL("type", "must be " + type_names(n.types));
    if (n.enum_values || n.const_value) {
      std::string text;
      canonical(v, text);
      if (n.enum_values && !n.enum_values->count(text)) {
        ENKISYS_FAIL("enum", "must be equal to one of the allowed values");
      }
      if (n.const_value && *n.const_value != text)
        ENKISYS_FAIL("const", "must be equal to the constant");
    }
    if (v.is_string() && !string_checks(n, v.get_string(), collect)) {
      ok = false;
      if (!collect || full() || aborted_) return false;
    }
    if (auto num = Number::from(v)) {
      if (n.minimum && compare(*num, *n.minimum) < 0) {
        ENKISYS_FAIL("minimum", "must be >= " + number_text(*n.minimum));
      }
      if (n.maximum && compare(*num, *n.maximum) > 0) {
        ENKISYS_FAIL("maximum", "must be <= " + number_text(*n.maximum));
      }
      if (n.exclusive_minimum && compare(*num, *n.exclusive_minimum) <= 0) {
        ENKISYS_FAIL("exclusiveMinimum", "must be > " + number_text(*n.exclusive_minimum));
      }
      if (n.exclusive_maximum && compare(*num, *n.exclusive_maximum) >= 0) {
        ENKISYS_FAIL("exclusiveMaximum", "must be < " + number_text(*n.exclusive_maximum));
      }
      if (n.multiple_of && !is_multiple_of(*num, *n.multiple_of)) {
        ENKISYS_FAIL("multipleOf", "must be a multiple of " + number_text(*n.multiple_of));
      }
    }
    if ((v.is_object() && !object_checks(n, v.get_object(), collect)) ||
        (v.is_array() && !array_checks(n, v.get_array(), collect))) {
      ok = false;
      if (!collect || full() || aborted_) return false;
    }
    for (NodeId s : n.all_of) {
      if (!eval(s, v, collect)) {
        ok = false;
        if (!collect || full() || aborted_) return false;
      }
    }
    if (!n.any_of.empty()) {
      bool any = false;
      for (NodeId s : n.any_of) {
        if (eval(s, v, false)) {
          any = true;
          break;
        }
      }
      if (!any) ENKISYS_FAIL("anyOf", "must match at least one schema in anyOf");
    }
    if (!n.one_of.empty()) {
      std::size_t matched = 0;
      for (NodeId s : n.one_of) matched += eval(s, v, false) ? 1 : 0;
      if (matched != 1) {
        ENKISYS_FAIL("oneOf", "must match exactly one schema in oneOf (matched " +
                                  std::to_string(matched) + ")");
      }
    }
    if (n.not_ != kNone && eval(n.not_, v, false) && !aborted_) {
      ENKISYS_FAIL("not", "must not match the schema in 'not'");
    }
    if (n.if_ != kNone) {
      const bool cond = eval(n.if_, v, false);
      const NodeId branch = cond ? n.then_ : n.else_;
      if (branch != kNone && !eval(branch, v, collect)) {
        ok = false;
        if (!collect || full() || aborted_) return false;
      }
    }
#undef ENKISYS_FAIL
    return ok && !aborted_;
  }

  bool pattern_ok(const Regex& re, std::string_view s) const {
    return std::regex_search(s.begin(), s.end(), re.re);
  }

  bool string_checks(const Node& n, std::string_view s, bool collect) {
    bool ok = true;
    if (n.min_length || n.max_length) {
      const std::size_t len = utf8_length(s);
      if (n.min_length && len < *n.min_length) {
        ok = false;
        if (report(collect, n, "minLength",
                   "must be at least " + std::to_string(*n.min_length) + " characters long")) {
          return false;
        }
      }
      if (n.max_length && len > *n.max_length) {
        ok = false;
        if (report(collect, n, "maxLength",
                   "must be at most " + std::to_string(*n.max_length) + " characters long")) {
          return false;
        }
      }
    }
    if (n.pattern) {
      if (s.size() > c_.max_pattern_input) {
        ok = false;
        if (report(collect, n, "pattern",
                   "is too long to be matched against a pattern (limit " +
                       std::to_string(c_.max_pattern_input) + " bytes)")) {
          return false;
        }
      } else if (!pattern_ok(*n.pattern, s)) {
        ok = false;
        if (report(collect, n, "pattern", "must match pattern \"" + n.pattern->source + "\"")) {
          return false;
        }
      }
    }
    if (n.format != Format::none && !check_format(n.format, s)) {
      ok = false;
      if (report(collect, n, "format", "must be a valid " + std::string(format_name(n.format)))) {
        return false;
      }
    }
    return ok;
  }

  bool object_checks(const Node& n, const json::object& o, bool collect) {
    bool ok = true;
    auto fail = [&](std::string_view kw, std::string msg) {
      ok = false;
      return report(collect, n, kw, std::move(msg));
    };
    for (const auto& r : n.required) {
      if (!o.contains(r) && fail("required", "missing required property '" + r + "'")) return false;
    }
    if (n.min_properties && o.size() < *n.min_properties &&
        fail("minProperties",
             "must have at least " + std::to_string(*n.min_properties) + " properties")) {
      return false;
    }
    if (n.max_properties && o.size() > *n.max_properties &&
        fail("maxProperties",
             "must have at most " + std::to_string(*n.max_properties) + " properties")) {
      return false;
    }
    const bool per_member = !n.properties.empty() || !n.pattern_properties.empty() ||
                            n.additional_properties != kNone || n.property_names != kNone;
    if (!per_member) return ok;
    for (const auto& kv : o) {
      const std::string_view key = kv.key();
      if (n.property_names != kNone) {
        const json::value name(key);
        if (!eval(n.property_names, name, false)) {
          if (aborted_ ||
              fail("propertyNames", "property name '" + std::string(key) + "' is invalid")) {
            return false;
          }
        }
      }
      bool matched = false;
      const bool reject_additional =
          n.additional_properties != kNone &&
          c_.nodes[static_cast<std::size_t>(n.additional_properties)].boolean == Node::Bool::reject;
      {
        Segment seg(ipath_, key);
        for (const auto& [name, id] : n.properties) {
          if (name != key) continue;
          matched = true;
          if (!eval(id, kv.value(), collect)) {
            ok = false;
            if (!collect || full() || aborted_) return false;
          }
        }
        for (const auto& [re, id] : n.pattern_properties) {
          if (key.size() > c_.max_pattern_input) {
            matched = true;
            if (fail("patternProperties",
                     "property name too long to be matched against a pattern")) {
              return false;
            }
            continue;
          }
          if (!pattern_ok(re, key)) continue;
          matched = true;
          if (!eval(id, kv.value(), collect)) {
            ok = false;
            if (!collect || full() || aborted_) return false;
          }
        }
        if (!matched && n.additional_properties != kNone && !reject_additional &&
            !eval(n.additional_properties, kv.value(), collect)) {
          ok = false;
          if (!collect || full() || aborted_) return false;
        }
      }
      // A forbidden extra member is reported at the object that holds it.
      if (!matched && reject_additional &&
          fail("additionalProperties",
               "must not have additional property '" + std::string(key) + "'")) {
        return false;
      }
    }
    return ok;
  }

  bool array_checks(const Node& n, const json::array& a, bool collect) {
    bool ok = true;
    auto fail = [&](std::string_view kw, std::string msg) {
      ok = false;
      return report(collect, n, kw, std::move(msg));
    };
    if (n.min_items && a.size() < *n.min_items &&
        fail("minItems", "must have at least " + std::to_string(*n.min_items) + " items")) {
      return false;
    }
    if (n.max_items && a.size() > *n.max_items &&
        fail("maxItems", "must have at most " + std::to_string(*n.max_items) + " items")) {
      return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      const NodeId id = i < n.prefix_items.size() ? n.prefix_items[i] : n.items;
      if (id == kNone) {
        if (i >= n.prefix_items.size()) break;
        continue;
      }
      Segment seg(ipath_, std::to_string(i));
      if (!eval(id, a[i], collect)) {
        ok = false;
        if (!collect || full() || aborted_) return false;
      }
    }
    if (n.unique_items) {
      std::unordered_map<std::string, std::size_t> seen;
      for (std::size_t i = 0; i < a.size(); ++i) {
        std::string text;
        canonical(a[i], text);
        auto [it, inserted] = seen.emplace(std::move(text), i);
        if (!inserted) {
          if (fail("uniqueItems", "must not contain duplicate items (items " +
                                      std::to_string(it->second) + " and " + std::to_string(i) +
                                      " are equal)")) {
            return false;
          }
          break;
        }
      }
    }
    if (n.contains != kNone) {
      std::size_t matches = 0;
      for (const auto& e : a) matches += eval(n.contains, e, false) ? 1 : 0;
      if (aborted_) return false;
      const std::size_t min = n.min_contains.value_or(1);
      if (matches < min &&
          fail("contains", "must contain at least " + std::to_string(min) + " matching item(s)")) {
        return false;
      }
      if (n.max_contains && matches > *n.max_contains &&
          fail("maxContains",
               "must contain at most " + std::to_string(*n.max_contains) + " matching item(s)")) {
        return false;
      }
    }
    return ok;
  }

  const Compiled& c_;
  const ValidateOptions& o_;
  std::vector<ValidationError>* errors_;
  std::string ipath_;
  std::size_t steps_ = 0;
  std::size_t depth_ = 0;
  bool aborted_ = false;
  std::string abort_message_;
};

}  // namespace
}  // namespace detail

std::vector<ValidationError> Schema::validate(const boost::json::value& instance,
                                              const ValidateOptions& options) const {
  std::vector<ValidationError> errors;
  detail::Evaluator(*compiled_, options, &errors).run(instance);
  return errors;
}

bool Schema::is_valid(const boost::json::value& instance, const ValidateOptions& options) const {
  return detail::Evaluator(*compiled_, options, nullptr).run(instance);
}

}  // namespace enkisys::schema
