#include "enkisys/gateway/headers.hpp"

#include <array>
#include <random>

namespace enkisys::gateway {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class Fn>
void for_each_token(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto tok = trim(list.substr(0, comma));
    if (!tok.empty()) fn(tok);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

bool has_token(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_token(list, [&](std::string_view t) { found = found || iequals(t, token); });
  return found;
}

void strip_hop_by_hop(http::fields& fields, bool keep_upgrade) {
  const auto conn = fields.find(http::field::connection);
  if (conn != fields.end()) {
    const std::string_view list = conn->value();
    for_each_token(list, [&](std::string_view t) {
      if (iequals(t, "close") || iequals(t, "keep-alive") || iequals(t, "upgrade")) return;
      if (iequals(t, "connection")) return;  // erased below
      fields.erase(t);
    });
    fields.erase(http::field::connection);
  }
  fields.erase(http::field::keep_alive);
  fields.erase(http::field::proxy_connection);
  fields.erase(http::field::proxy_authenticate);
  fields.erase(http::field::proxy_authorization);
  fields.erase(http::field::te);
  fields.erase(http::field::trailer);
  fields.erase(http::field::transfer_encoding);
  if (keep_upgrade) {
    fields.set(http::field::connection, "upgrade");
  } else {
    fields.erase(http::field::upgrade);
  }
}

namespace {

// Collects the tokens of the Connection header (views into `f`, max 16).
struct ConnectionTokens {
  std::array<std::string_view, 16> tok;
  std::size_t n = 0;
  template <class Fields>
  explicit ConnectionTokens(const Fields& f) {
    const auto it = f.find(http::field::connection);
    if (it == f.end()) return;
    for_each_token(std::string_view(it->value()), [&](std::string_view t) {
      if (n < tok.size()) tok[n++] = t;
    });
  }
  bool names(std::string_view field) const {
    for (std::size_t i = 0; i < n; ++i) {
      if (iequals(tok[i], field)) return true;
    }
    return false;
  }
};

bool hop_by_hop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::content_length:
      return true;
    default:
      return false;
  }
}

template <class Field>
bool gateway_owned(const Field& f) {
  switch (f.name()) {
    case http::field::host:
    case http::field::expect:
      return true;
    case http::field::unknown: {
      const std::string_view n = f.name_string();
      return iequals(n, "x-request-id") || iequals(n, "x-user-id") || iequals(n, "x-user-roles") ||
             iequals(n, "x-stage") || iequals(n, "x-forwarded-proto") ||
             iequals(n, "x-forwarded-for") || iequals(n, "x-forwarded-host") ||
             iequals(n, "x-forwarded-prefix");
    }
    default:
      return false;
  }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void append_number(std::string& out, std::size_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  out.append(p, static_cast<std::size_t>(buf + sizeof buf - p));
}

}  // namespace

template <class Fields>
void serialize_upstream_request(const http::header<true, Fields>& req, const ForwardedRequest& fwd,
                                std::string& out) {
  out.clear();
  out.append(req.method_string());
  out.push_back(' ');
  out.append(fwd.target);
  out.append(" HTTP/1.1\r\n");
  const ConnectionTokens conn(req);
  std::string_view original_host;
  for (const auto& f : req) {
    if (f.name() == http::field::host) original_host = f.value();
    if (hop_by_hop(f.name()) || gateway_owned(f)) continue;
    if (conn.n && conn.names(f.name_string())) continue;
    append_field(out, f.name_string(), f.value());
  }
  append_field(out, "Host", fwd.host);
  append_field(out, "X-Request-Id", fwd.request_id);
  if (fwd.forwarded_for.empty()) {
    append_field(out, "X-Forwarded-For", fwd.client_ip);
  } else {
    out.append("X-Forwarded-For: ");
    out.append(fwd.forwarded_for);
    out.append(", ");
    out.append(fwd.peer_ip);
    out.append("\r\n");
  }
  append_field(out, "X-Forwarded-Proto", fwd.proto);
  if (!original_host.empty()) append_field(out, "X-Forwarded-Host", original_host);
  append_field(out, "X-Forwarded-Prefix", fwd.stage_prefix);
  append_field(out, "X-Stage", fwd.stage);
  if (fwd.identity) {
    append_field(out, "X-User-Id", fwd.user_id);
    append_field(out, "X-User-Roles", fwd.user_roles);
  }
  if (fwd.websocket) {
    append_field(out, "Connection", "upgrade");
    append_field(out, "Upgrade", req[http::field::upgrade]);
  }
  if (fwd.has_body) {
    out.append("Content-Length: ");
    append_number(out, fwd.body_size);
    out.append("\r\n");
  }
  out.append("\r\n");
}

template <class Fields>
void serialize_client_response_head(const http::header<false, Fields>& res,
                                    const ClientResponseHead& h, std::string& out) {
  out.clear();
  out.append(h.version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  append_number(out, res.result_int());
  out.push_back(' ');
  const std::string_view reason = res.reason();
  out.append(reason.empty() ? std::string_view(http::obsolete_reason(res.result())) : reason);
  out.append("\r\n");
  const ConnectionTokens conn(res);
  for (const auto& f : res) {
    const auto name = f.name();
    if (name == http::field::content_length) {
      if (!h.chunked) append_field(out, f.name_string(), f.value());
      continue;
    }
    if (hop_by_hop(name)) continue;
    if (h.own_cors && (name == http::field::access_control_allow_origin ||
                       name == http::field::access_control_allow_credentials ||
                       name == http::field::access_control_expose_headers)) {
      continue;
    }
    if (name == http::field::unknown && iequals(f.name_string(), "x-request-id")) continue;
    if (conn.n && conn.names(f.name_string())) continue;
    append_field(out, f.name_string(), f.value());
  }
  append_field(out, "X-Request-Id", h.request_id);
  out.append(h.extra);
  if (h.websocket) {
    append_field(out, "Connection", "upgrade");
    append_field(out, "Upgrade", res[http::field::upgrade]);
  } else {
    if (h.chunked) out.append("Transfer-Encoding: chunked\r\n");
    if (h.version >= 11 && !h.keep_alive) out.append("Connection: close\r\n");
    if (h.version < 11 && h.keep_alive) out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

namespace {
template <class Fields>
bool websocket_upgrade(const Fields& fields) {
  const auto up = fields.find(http::field::upgrade);
  if (up == fields.end() || !iequals(trim(up->value()), "websocket")) return false;
  const auto conn = fields.find(http::field::connection);
  return conn != fields.end() && has_token(conn->value(), "upgrade");
}
}  // namespace

template <class Fields>
std::optional<HeadRejection> check_request_head(const http::header<true, Fields>& req) {
  using K = core::ErrorKind;
  const auto m = req.method();
  if (m == http::verb::trace || m == http::verb::connect)
    return HeadRejection{K::kMethodNotAllowed, "method_not_allowed", "method not allowed"};
  for (const char c : std::string_view(req.target())) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '#' || u <= 0x20 || u >= 0x7f)
      return HeadRejection{K::kInvalidArgument, "invalid_target", "invalid request target"};
  }
  int hosts = 0, authorizations = 0, codings = 0;
  bool chunked_only = true;
  for (const auto& f : req) {
    switch (f.name()) {
      case http::field::host:
        ++hosts;
        break;
      case http::field::authorization:
        ++authorizations;
        break;
      case http::field::transfer_encoding:
        ++codings;
        chunked_only = chunked_only && iequals(trim(f.value()), "chunked");
        break;
      default:
        break;
    }
  }
  if (hosts > 1 || (hosts == 0 && req.version() >= 11))
    return HeadRejection{K::kInvalidArgument, "bad_host", "exactly one Host header is required"};
  if (authorizations > 1) {
    return HeadRejection{K::kInvalidArgument, "duplicate_authorization",
                         "more than one Authorization header"};
  }
  if (codings > 1 || !chunked_only) {
    return HeadRejection{K::kInvalidArgument, "bad_transfer_encoding",
                         "unsupported transfer-encoding"};
  }
  return std::nullopt;
}

bool valid_header_value(std::string_view v) {
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

template std::optional<HeadRejection> check_request_head(const http::header<true, http::fields>&);
template std::optional<HeadRejection> check_request_head(const http::header<true, PooledFields>&);
template void serialize_upstream_request(const http::header<true, http::fields>&,
                                         const ForwardedRequest&, std::string&);
template void serialize_upstream_request(const http::header<true, PooledFields>&,
                                         const ForwardedRequest&, std::string&);
template void serialize_client_response_head(const http::header<false, http::fields>&,
                                             const ClientResponseHead&, std::string&);
template void serialize_client_response_head(const http::header<false, PooledFields>&,
                                             const ClientResponseHead&, std::string&);
bool is_websocket_upgrade(const http::fields& f) {
  return websocket_upgrade(f);
}
bool is_websocket_upgrade(const PooledFields& f) {
  return websocket_upgrade(f);
}

RequestIdGenerator::RequestIdGenerator() {
  std::random_device rd;
  a_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  b_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

void RequestIdGenerator::next(char out[32]) {
  // splitmix64 over a counter, two independent streams → 128 bits.
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  a_ += 0x9e3779b97f4a7c15ULL;
  b_ += 0xd1b54a32d192ed03ULL;
  const std::uint64_t x = mix(a_), y = mix(b_);
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(x >> (60 - 4 * i)) & 0xf];
    out[16 + i] = kHex[(y >> (60 - 4 * i)) & 0xf];
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

http::response<http::string_body> error_response(http::status status, std::string_view code,
                                                 std::string_view message,
                                                 std::string_view request_id, unsigned version,
                                                 bool keep_alive) {
  http::response<http::string_body> res{status, version};
  std::string& body = res.body();
  body.reserve(64 + code.size() + message.size() + request_id.size());
  body += "{\"error\":{\"code\":";
  append_json_string(body, code);
  body += ",\"message\":";
  append_json_string(body, message);
  body += ",\"request_id\":";
  append_json_string(body, request_id);
  body += "}}";
  res.set(http::field::content_type, "application/json");
  res.set("X-Request-Id", request_id);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace enkisys::gateway
