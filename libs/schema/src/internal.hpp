// Compiled form of a schema, shared by compile.cpp and validate.cpp. Immutable after compile.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "enkisys/schema/schema.hpp"

namespace enkisys::schema::detail {

using NodeId = std::int32_t;
constexpr NodeId kNone = -1;

enum TypeBit : std::uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kString = 32,
  kInteger = 64,
};

enum class Format { none, date_time, date, time, email, uri, uuid, ipv4, ipv6 };

// A JSON number kept exactly (int64, uint64 or double).
struct Number {
  enum Kind { i64, u64, f64 } kind = i64;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  static std::optional<Number> from(const boost::json::value& v);
};

// <0, 0, >0 like strcmp; exact across representations.
int compare(const Number& a, const Number& b);
bool is_integral(const Number& n);
bool is_multiple_of(const Number& x, const Number& m);
std::string number_text(const Number& n);

// Canonical text of a JSON value: object keys sorted, numbers by value. Equal text <=> json_equal.
void canonical(const boost::json::value& v, std::string& out);

struct Regex {
  std::string source;
  std::regex re;
};

struct Node {
  std::string path;  // JSON Pointer of this subschema in the document
  enum class Bool { none, accept, reject } boolean = Bool::none;

  std::uint8_t types = 0;                                      // 0: no `type` keyword
  std::optional<std::unordered_set<std::string>> enum_values;  // canonical texts
  std::optional<std::string> const_value;                      // canonical text

  std::vector<std::pair<std::string, NodeId>> properties;
  std::vector<std::string> required;
  NodeId additional_properties = kNone;
  std::vector<std::pair<Regex, NodeId>> pattern_properties;
  NodeId property_names = kNone;
  std::optional<std::size_t> min_properties, max_properties;

  std::vector<NodeId> prefix_items;
  bool prefix_from_items = false;  // draft-07 `items: [...]` (then `additionalItems` applies)
  NodeId items = kNone;            // applies to elements after prefix_items
  std::optional<std::size_t> min_items, max_items;
  bool unique_items = false;
  NodeId contains = kNone;
  std::optional<std::size_t> min_contains, max_contains;

  std::optional<Number> minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;

  std::optional<std::size_t> min_length, max_length;
  std::optional<Regex> pattern;
  Format format = Format::none;

  std::vector<NodeId> all_of, any_of, one_of;
  NodeId not_ = kNone, if_ = kNone, then_ = kNone, else_ = kNone;
  NodeId ref = kNone;
  std::string ref_target;  // pointer text, for messages
};

struct Compiled {
  boost::json::value document;
  std::vector<Node> nodes;  // nodes[0] is the root
  std::size_t max_pattern_input = 4096;
};

// Formats (format.cpp).
bool check_format(Format f, std::string_view s);
std::optional<Format> format_from_name(std::string_view name);  // nullopt: annotation only
std::size_t utf8_length(std::string_view s);

}  // namespace enkisys::schema::detail
