// Exact numeric comparison and canonical JSON text.
#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>

#include "internal.hpp"

namespace enkisys::schema::detail {
namespace {

constexpr double kTwo63 = 9223372036854775808.0;
constexpr double kTwo64 = 18446744073709551616.0;

int sign(double x) {
  return x < 0 ? -1 : (x > 0 ? 1 : 0);
}

int cmp_i64_double(std::int64_t x, double d) {
  if (std::isnan(d)) return -1;
  if (d >= kTwo63) return -1;
  if (d < -kTwo63) return 1;
  const double t = std::trunc(d);
  const auto ti = static_cast<std::int64_t>(t);
  if (x != ti) return x < ti ? -1 : 1;
  return -sign(d - t);
}

int cmp_u64_double(std::uint64_t x, double d) {
  if (std::isnan(d)) return -1;
  if (d < 0) return 1;
  if (d >= kTwo64) return -1;
  const double t = std::trunc(d);
  const auto tu = static_cast<std::uint64_t>(t);
  if (x != tu) return x < tu ? -1 : 1;
  return -sign(d - t);
}

int cmp_i64_u64(std::int64_t a, std::uint64_t b) {
  if (a < 0) return -1;
  const auto ua = static_cast<std::uint64_t>(a);
  return ua < b ? -1 : (ua > b ? 1 : 0);
}

std::string double_text(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

}  // namespace

std::optional<Number> Number::from(const boost::json::value& v) {
  Number n;
  switch (v.kind()) {
    case boost::json::kind::int64:
      n.kind = i64;
      n.i = v.get_int64();
      return n;
    case boost::json::kind::uint64:
      n.kind = u64;
      n.u = v.get_uint64();
      return n;
    case boost::json::kind::double_:
      n.kind = f64;
      n.d = v.get_double();
      return n;
    default:
      return std::nullopt;
  }
}

int compare(const Number& a, const Number& b) {
  using K = Number::Kind;
  if (a.kind == K::i64) {
    if (b.kind == K::i64) return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    if (b.kind == K::u64) return cmp_i64_u64(a.i, b.u);
    return cmp_i64_double(a.i, b.d);
  }
  if (a.kind == K::u64) {
    if (b.kind == K::i64) return -cmp_i64_u64(b.i, a.u);
    if (b.kind == K::u64) return a.u < b.u ? -1 : (a.u > b.u ? 1 : 0);
    return cmp_u64_double(a.u, b.d);
  }
  if (b.kind == K::i64) return -cmp_i64_double(b.i, a.d);
  if (b.kind == K::u64) return -cmp_u64_double(b.u, a.d);
  return a.d < b.d ? -1 : (a.d > b.d ? 1 : 0);
}

bool is_integral(const Number& n) {
  if (n.kind != Number::f64) return true;
  return std::isfinite(n.d) && n.d == std::floor(n.d);
}

static double as_double(const Number& n) {
  switch (n.kind) {
    case Number::i64:
      return static_cast<double>(n.i);
    case Number::u64:
      return static_cast<double>(n.u);
    default:
      return n.d;
  }
}

bool is_multiple_of(const Number& x, const Number& m) {
  if (x.kind != Number::f64 && m.kind != Number::f64) {
    const std::uint64_t mm = m.kind == Number::i64 ? static_cast<std::uint64_t>(m.i) : m.u;
    if (mm == 0) return false;
    std::uint64_t mag = 0;
    if (x.kind == Number::u64) {
      mag = x.u;
    } else if (x.i < 0) {
      mag = static_cast<std::uint64_t>(-(x.i + 1)) + 1;  // no overflow for INT64_MIN
    } else {
      mag = static_cast<std::uint64_t>(x.i);
    }
    return mag % mm == 0;
  }
  const double xd = as_double(x);
  const double md = as_double(m);
  if (!std::isfinite(xd) || !(md > 0)) return false;
  if (xd == 0) return true;
  const double q = xd / md;
  if (std::isfinite(q)) {
    return std::fabs(q - std::nearbyint(q)) <= 16 * DBL_EPSILON * std::max(1.0, std::fabs(q));
  }
  return std::fmod(xd, md) == 0;
}

std::string number_text(const Number& n) {
  switch (n.kind) {
    case Number::i64:
      return std::to_string(n.i);
    case Number::u64:
      return std::to_string(n.u);
    default:
      return double_text(n.d);
  }
}

static void canonical_at(const boost::json::value& v, std::string& out, int depth) {
  if (depth > 256) {  // deeper than any parsed document; make it compare unequal
    out += "<deep:" + std::to_string(reinterpret_cast<std::uintptr_t>(&v)) + ">";
    return;
  }
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::string:
      out += boost::json::serialize(v);
      return;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: {
      Number n = *Number::from(v);
      if (n.kind == Number::f64 && is_integral(n) && n.d >= -kTwo63 && n.d < kTwo64) {
        if (n.d < 0) {
          n.kind = Number::i64;
          n.i = static_cast<std::int64_t>(n.d);
        } else {
          n.kind = Number::u64;
          n.u = static_cast<std::uint64_t>(n.d);
        }
      }
      if (n.kind == Number::i64 && n.i >= 0) {
        n.kind = Number::u64;
        n.u = static_cast<std::uint64_t>(n.i);
      }
      out += number_text(n);
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        canonical_at(e, out, depth + 1);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(o.size());
      for (const auto& kv : o) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string_view(kv->key()));
        out += ':';
        canonical_at(kv->value(), out, depth + 1);
      }
      out += '}';
      return;
    }
  }
}

void canonical(const boost::json::value& v, std::string& out) {
  canonical_at(v, out, 0);
}

}  // namespace enkisys::schema::detail

namespace enkisys::schema {

bool json_equal(const boost::json::value& a, const boost::json::value& b) {
  std::string ca, cb;
  detail::canonical(a, ca);
  detail::canonical(b, cb);
  return ca == cb;
}

void append_pointer(std::string& pointer, std::string_view token) {
  pointer += '/';
  for (char c : token) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
}

std::string SchemaError::to_string() const {
  return (pointer.empty() ? std::string("/") : pointer) + ": " + message;
}

std::string ValidationError::to_string() const {
  return (instance_path.empty() ? std::string("/") : instance_path) + ": " + message;
}

}  // namespace enkisys::schema
