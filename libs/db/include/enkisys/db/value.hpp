// enkisys/db/value.hpp — parameter and result values, rows and results.
//
// Contract:
//  * Value is what a statement parameter or a result cell can be: NULL, 64-bit integer, double,
//    UTF-8 text, or bytes. The same value round-trips unchanged on SQLite and PostgreSQL when the
//    column type is portable (BIGINT, DOUBLE PRECISION, TEXT, BLOB/BYTEA; see README.md).
//  * PostgreSQL results are mapped by column type: int2/int4/int8/oid/bool -> int64,
//    float4/float8 -> double, numeric -> int64 when it is an integer that fits, else double,
//    bytea -> Blob, everything else -> text (its PostgreSQL text form).
//  * Row accessors take a column index or a column name. A typed accessor on a NULL or on a value
//    of another type throws DbError naming the column (i64 accepts an integral double; f64
//    accepts an integer). opt_* accessors return std::nullopt for NULL.
//  * An unknown column name or an index out of range throws DbError.
//  * Rows and Results are plain values: copyable, no link to the connection that produced them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace enkisys::db {

enum class Backend { kSqlite, kPostgres };

struct Blob {
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const Blob&, const Blob&) = default;
};

using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, Blob>;

// Name of the alternative held by v ("null", "integer", "double", "text", "blob").
std::string_view type_name(const Value& v);

class Row {
 public:
  Row() = default;
  Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
      : columns_(std::move(columns)), values_(std::move(values)) {}

  std::size_t size() const { return values_.size(); }
  const std::vector<Value>& values() const { return values_; }

  const Value& at(std::size_t i) const;
  const Value& at(std::string_view column) const;
  std::size_t index_of(std::string_view column) const;  // throws DbError if unknown

  bool is_null(std::size_t i) const;
  bool is_null(std::string_view column) const;

  std::int64_t i64(std::size_t i) const;
  std::int64_t i64(std::string_view column) const;
  double f64(std::size_t i) const;
  double f64(std::string_view column) const;
  std::string text(std::size_t i) const;
  std::string text(std::string_view column) const;
  Blob blob(std::size_t i) const;
  Blob blob(std::string_view column) const;

  std::optional<std::int64_t> opt_i64(std::size_t i) const;
  std::optional<std::int64_t> opt_i64(std::string_view column) const;
  std::optional<double> opt_f64(std::size_t i) const;
  std::optional<double> opt_f64(std::string_view column) const;
  std::optional<std::string> opt_text(std::size_t i) const;
  std::optional<std::string> opt_text(std::string_view column) const;
  std::optional<Blob> opt_blob(std::size_t i) const;
  std::optional<Blob> opt_blob(std::string_view column) const;

 private:
  std::string column_name(std::size_t i) const;

  std::shared_ptr<const std::vector<std::string>> columns_;
  std::vector<Value> values_;
};

struct Result {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE; 0 for queries

  bool empty() const { return rows.empty(); }
  // The single row of a result; throws DbError when there is not exactly one row.
  const Row& one() const;
};

}  // namespace enkisys::db
