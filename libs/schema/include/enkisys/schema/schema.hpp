// enkisys::schema — a compact JSON Schema validator over boost::json::value.
//
// Contract
// * Schema::compile() parses a schema document once. It never throws for bad input: an invalid
//   schema yields CompileResult::error with the JSON Pointer of the offending keyword
//   (e.g. "/properties/age/minimum") and a message. Compilation is bounded: subschema nesting
//   depth <= CompileOptions::max_depth and total subschemas <= CompileOptions::max_nodes.
// * A compiled Schema is immutable and cheap to copy (shared ownership of the compiled form).
//   validate() / is_valid() are const and safe to call from many threads at once.
// * validate() returns errors in a deterministic order (schema keyword order per node, instance
//   members in document order), at most ValidateOptions::max_errors of them. Each validation is
//   bounded by an evaluation budget and a recursion limit; exceeding either yields one error
//   whose message starts with "validation aborted".
//
// Dialect: the common subset of draft 2020-12 and draft-07 used by tool/function schemas:
//   type (string or array; "integer" accepts 2.0), enum, const, properties, required,
//   additionalProperties, patternProperties, propertyNames, minProperties, maxProperties,
//   items (schema, or draft-07 array form), prefixItems, additionalItems, minItems, maxItems,
//   uniqueItems, contains (+ minContains/maxContains), minimum, maximum, exclusiveMinimum,
//   exclusiveMaximum (numbers), multipleOf, minLength/maxLength (Unicode code points), pattern,
//   format, allOf, anyOf, oneOf, not, if/then/else, $ref, $defs/definitions.
//   $ref siblings are applied too (2020-12 behaviour). Only local references "#" and "#/<pointer>"
//   are supported; remote references and "#anchor" references are rejected at compile time.
//   Other keywords (title, description, default, examples, $id, $schema, $comment, and any
//   unknown keyword, incl. unevaluatedProperties and dependentRequired) are ignored as annotations.
// * format: date-time, date, time, email, uri, uuid, ipv4, ipv6 are asserted; any other format
//   name is an annotation and always passes.
// * pattern: ECMAScript syntax as implemented by std::regex (byte-oriented; no \p{..} classes),
//   searched (not anchored). Matching runs in polynomial-time mode (no back-references allowed),
//   patterns are limited to CompileOptions::max_pattern_length bytes, and a string longer than
//   CompileOptions::max_pattern_input bytes FAILS the pattern keyword with an explicit message
//   rather than being matched — hostile inputs cannot make matching take unbounded time.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::schema {

struct CompileOptions {
  std::size_t max_depth = 64;             // subschema nesting
  std::size_t max_nodes = 10000;          // total compiled subschemas
  std::size_t max_pattern_length = 1024;  // bytes of one `pattern` / `patternProperties` key
  std::size_t max_pattern_input = 4096;   // longest string a pattern is matched against
};

struct ValidateOptions {
  std::size_t max_errors = 100;       // errors collected before stopping
  std::size_t max_steps = 1'000'000;  // subschema evaluations per validate() call
  std::size_t max_recursion = 256;    // nested subschema evaluations (guards $ref loops)
};

// Why a schema failed to compile. `pointer` is a JSON Pointer into the schema document.
struct SchemaError {
  std::string pointer;
  std::string message;
  std::string to_string() const;  // "<pointer>: <message>"
};

// One failed assertion. Both paths are JSON Pointers ("" is the root). `schema_path` is the
// absolute location of the failing keyword in the schema document (through $ref targets).
struct ValidationError {
  std::string instance_path;
  std::string schema_path;
  std::string message;
  std::string to_string() const;  // "<instance_path or '/'>: <message>"
};

namespace detail {
struct Compiled;
}

class Schema;
// A compiled schema, or why the document is not one (libs/core's one Expected).
using CompileResult = core::Expected<Schema, SchemaError>;

class Schema {
 public:
  // The schema `true`: accepts every instance.
  Schema();

  static CompileResult compile(const boost::json::value& document,
                               const CompileOptions& options = {});

  std::vector<ValidationError> validate(const boost::json::value& instance,
                                        const ValidateOptions& options = {}) const;

  // Faster than validate().empty(): stops at the first failure, builds no messages.
  bool is_valid(const boost::json::value& instance, const ValidateOptions& options = {}) const;

  // The document this schema was compiled from.
  const boost::json::value& document() const;

  explicit Schema(std::shared_ptr<const detail::Compiled> compiled);

 private:
  std::shared_ptr<const detail::Compiled> compiled_;
};

// JSON equality with numbers compared by mathematical value (1 == 1.0), as JSON Schema requires.
bool json_equal(const boost::json::value& a, const boost::json::value& b);

// Appends "/<token>" to a JSON Pointer, escaping '~' and '/'.
void append_pointer(std::string& pointer, std::string_view token);

}  // namespace enkisys::schema
