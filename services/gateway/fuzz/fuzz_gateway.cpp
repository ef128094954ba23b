// libFuzzer target: request parsing (the proxy's Beast parser with pooled fields and the
// gateway's limits), the request-head strictness rules (check_request_head), target normalisation +
// stage/route matching, request and response head serialization, and JWT verification of
// attacker-controlled tokens (shared cache and the per-connection memo). Built only with
// ENKISYS_FUZZ=ON (clang). Seeds: fuzz/corpus/.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "enkisys/gateway/auth.hpp"
#include "enkisys/gateway/field_pool.hpp"
#include "enkisys/gateway/headers.hpp"
#include "enkisys/gateway/path.hpp"
#include "enkisys/gateway/route_table.hpp"

namespace gw = enkisys::gateway;
namespace http = boost::beast::http;

namespace {

const gw::Generation& generation() {
  static gw::UpstreamRegistry reg(1);
  static const auto gen = [] {
    auto cfg = gw::load_config_text(R"(
stages:
  dev:
    routes:
      - {prefix: /api/tools, upstream: "http://tools:1", strip_prefix: true}
      - {prefix: /api/auth, upstream: "http://auth:1/base"}
      - {prefix: /, upstream: "http://front:1"}
  prod:
    routes:
      - {prefix: /api, upstream: "http://api:1"}
)");
    return gw::compile(std::move(cfg.value()), reg, 1).value();
  }();
  return *gen;
}

gw::Authenticator& authenticator() {
  static gw::Authenticator auth([] {
    gw::JwtConfig c;
    c.enabled = true;
    c.hs256_secret = "0123456789abcdef0123456789abcdef-fuzz";
    c.issuer = "fuzz";
    c.cache_entries = 64;
    return c;
  }());
  return auth;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // 1. Request parsing with the gateway's limits.
  http::request_parser<http::string_body, gw::PoolAllocator<char>> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(input), ec);
  std::string scratch, head;
  std::string_view path, query, rest;
  if (!ec && parser.is_header_done()) {
    const auto& req = parser.get();
    // 1b. The strictness rules: what passes them has one Host (HTTP/1.1), at most one
    //     Authorization, only "chunked" as transfer coding, a target of visible ASCII without
    //     '#', and is neither TRACE nor CONNECT.
    const bool accepted = !gw::check_request_head(req);
    if (accepted) {
      const std::string_view t = req.target();
      for (const char c : t) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '#' || u <= 0x20 || u >= 0x7f) __builtin_trap();
      }
      if (req.count(http::field::authorization) > 1) __builtin_trap();
      if (req.count(http::field::host) > 1) __builtin_trap();
      if (req.version() >= 11 && req.count(http::field::host) == 0) __builtin_trap();
      if (req.method() == http::verb::trace || req.method() == http::verb::connect)
        __builtin_trap();
      if (req.count(http::field::transfer_encoding) > 0 && !parser.chunked()) __builtin_trap();
    }
    // 2. Normalisation and matching (of accepted heads only, as in the proxy); a normalised path
    //    never climbs above its stage.
    if (accepted && gw::normalize_target(req.target(), &scratch, &path, &query) == nullptr) {
      if (path.find("/../") != std::string_view::npos || path.find("//") != std::string_view::npos)
        __builtin_trap();
      if (const auto* stage = generation().find_stage(path, &rest)) {
        if (const auto* route = stage->match(rest)) {
          gw::ForwardedRequest fwd;
          fwd.target = rest;
          fwd.host = route->primary.upstream->authority();
          fwd.request_id = "fuzz";
          fwd.client_ip = "127.0.0.1";
          fwd.stage = stage->name;
          fwd.stage_prefix = stage->prefix;
          fwd.websocket = gw::is_websocket_upgrade(req);
          gw::serialize_upstream_request(req, fwd, head);
          // Client copies of identity headers never survive serialization.
          if (head.find("\r\nX-User-Id:") != std::string::npos) __builtin_trap();
        }
      }
    }
  }
  // 3. The same bytes as an upstream response: the head sent to the client never carries
  //    hop-by-hop headers and always ends with a blank line.
  {
    http::response_parser<http::buffer_body, gw::PoolAllocator<char>> rp;
    rp.header_limit(8 * 1024);
    boost::beast::error_code rec;
    rp.put(boost::asio::buffer(input), rec);
    if (rp.is_header_done()) {
      gw::ClientResponseHead h;
      h.request_id = "fuzz";
      h.chunked = !rp.content_length().has_value();
      gw::serialize_client_response_head(rp.get().base(), h, head);
      if (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) __builtin_trap();
      if (head.find("\r\nKeep-Alive:") != std::string::npos) __builtin_trap();
    }
  }
  // 4. JWT verification of arbitrary tokens, through the cache and a connection's memo (a
  //    refused token never lands in the memo).
  const char* why = nullptr;
  (void)authenticator().authenticate("Bearer " + input, &why);
  static gw::TokenMemo memo;
  const std::string bearer = "Bearer " + input;
  for (int i = 0; i < 2; ++i) {
    const auto* claims = authenticator().authenticate(bearer, memo, &why);
    if (!claims && memo.claims) __builtin_trap();
  }
  return 0;
}
