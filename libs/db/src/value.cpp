// Row accessors: typed access by index or column name, with errors naming the column.
#include "enkisys/db/value.hpp"

#include <cmath>
#include <limits>

#include "enkisys/db/error.hpp"

namespace enkisys::db {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

std::string_view type_name(const Value& v) {
  return std::visit(Overloaded{[](std::nullptr_t) { return std::string_view("null"); },
                               [](std::int64_t) { return std::string_view("integer"); },
                               [](double) { return std::string_view("double"); },
                               [](const std::string&) { return std::string_view("text"); },
                               [](const Blob&) { return std::string_view("blob"); }},
                    v);
}

std::string Row::column_name(std::size_t i) const {
  if (columns_ && i < columns_->size()) return "'" + (*columns_)[i] + "'";
  return "#" + std::to_string(i);
}

std::size_t Row::index_of(std::string_view column) const {
  if (columns_) {
    for (std::size_t i = 0; i < columns_->size(); ++i) {
      if ((*columns_)[i] == column) return i;
    }
  }
  throw DbError("no column named '" + std::string(column) + "' in the result");
}

const Value& Row::at(std::size_t i) const {
  if (i >= values_.size()) {
    throw DbError("column index " + std::to_string(i) + " out of range (row has " +
                  std::to_string(values_.size()) + " columns)");
  }
  return values_[i];
}
const Value& Row::at(std::string_view column) const {
  return values_[index_of(column)];
}

bool Row::is_null(std::size_t i) const {
  return std::holds_alternative<std::nullptr_t>(at(i));
}
bool Row::is_null(std::string_view column) const {
  return is_null(index_of(column));
}

namespace {

[[noreturn]] void wrong_type(const std::string& column, std::string_view wanted, const Value& v) {
  throw DbError("column " + column + " holds " + std::string(type_name(v)) + ", not " +
                std::string(wanted));
}

}  // namespace

std::optional<std::int64_t> Row::opt_i64(std::size_t i) const {
  const Value& v = at(i);
  if (std::holds_alternative<std::nullptr_t>(v)) return std::nullopt;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) {
    // 2^63 is exactly representable; anything in [-2^63, 2^63) and integral converts exactly.
    constexpr double kLimit = 9223372036854775808.0;
    if (std::trunc(*d) == *d && *d >= -kLimit && *d < kLimit) return static_cast<std::int64_t>(*d);
  }
  wrong_type(column_name(i), "integer", v);
}

std::optional<double> Row::opt_f64(std::size_t i) const {
  const Value& v = at(i);
  if (std::holds_alternative<std::nullptr_t>(v)) return std::nullopt;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  wrong_type(column_name(i), "double", v);
}

std::optional<std::string> Row::opt_text(std::size_t i) const {
  const Value& v = at(i);
  if (std::holds_alternative<std::nullptr_t>(v)) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  wrong_type(column_name(i), "text", v);
}

std::optional<Blob> Row::opt_blob(std::size_t i) const {
  const Value& v = at(i);
  if (std::holds_alternative<std::nullptr_t>(v)) return std::nullopt;
  if (const auto* b = std::get_if<Blob>(&v)) return *b;
  wrong_type(column_name(i), "blob", v);
}

namespace {

template <class T>
T required(std::optional<T> v, const std::string& column) {
  if (!v) throw DbError("column " + column + " is NULL");
  return std::move(*v);
}

}  // namespace

std::int64_t Row::i64(std::size_t i) const {
  return required(opt_i64(i), column_name(i));
}
double Row::f64(std::size_t i) const {
  return required(opt_f64(i), column_name(i));
}
std::string Row::text(std::size_t i) const {
  return required(opt_text(i), column_name(i));
}
Blob Row::blob(std::size_t i) const {
  return required(opt_blob(i), column_name(i));
}

std::int64_t Row::i64(std::string_view c) const {
  return i64(index_of(c));
}
double Row::f64(std::string_view c) const {
  return f64(index_of(c));
}
std::string Row::text(std::string_view c) const {
  return text(index_of(c));
}
Blob Row::blob(std::string_view c) const {
  return blob(index_of(c));
}
std::optional<std::int64_t> Row::opt_i64(std::string_view c) const {
  return opt_i64(index_of(c));
}
std::optional<double> Row::opt_f64(std::string_view c) const {
  return opt_f64(index_of(c));
}
std::optional<std::string> Row::opt_text(std::string_view c) const {
  return opt_text(index_of(c));
}
std::optional<Blob> Row::opt_blob(std::string_view c) const {
  return opt_blob(index_of(c));
}

const Row& Result::one() const {
  if (rows.size() != 1) {
    throw DbError("expected exactly one row, got " + std::to_string(rows.size()));
  }
  return rows.front();
}

}  // namespace enkisys::db
