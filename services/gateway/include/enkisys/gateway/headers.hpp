// Header rewriting for the proxy path: hop-by-hop removal (RFC 9110 §7.6.1), identity
// headers, request ids, and the platform's JSON error responses.
//
// Contract: pure functions over Beast field containers; thread-safe on distinct objects.
// RequestIdGenerator is per thread (not thread-safe): one per worker.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "enkisys/core/expected.hpp"
#include "enkisys/core/http.hpp"
#include "enkisys/gateway/field_pool.hpp"

namespace enkisys::gateway {

namespace http = boost::beast::http;

// True if the comma-separated header value `list` contains `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token);

// Removes the hop-by-hop headers: Connection and every header it names, Keep-Alive,
// Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE, Trailer, Transfer-Encoding and
// Upgrade. With keep_upgrade, Upgrade and "Connection: upgrade" are kept (WebSocket).
void strip_hop_by_hop(http::fields& fields, bool keep_upgrade);

// What the gateway adds to a forwarded request.
struct ForwardedRequest {
  std::string_view target;      // path (+ query) for the upstream
  std::string_view host;        // upstream authority → Host
  std::string_view request_id;  // → X-Request-Id
  std::string_view client_ip;   // → X-Forwarded-For (rewritten) unless `forwarded_for`
  // From a trusted proxy: its X-Forwarded-For, sent on as "<forwarded_for>, <peer_ip>", and its
  // X-Forwarded-Proto (http or https) kept.
  std::string_view forwarded_for;
  std::string_view peer_ip;
  std::string_view proto = "http";
  std::string_view stage;         // → X-Stage
  std::string_view stage_prefix;  // → X-Forwarded-Prefix
  std::string_view user_id;       // → X-User-Id when `identity`
  std::string_view user_roles;    // → X-User-Roles when `identity`
  bool identity = false;
  bool websocket = false;  // keep Upgrade, send Connection: upgrade
  std::size_t body_size = 0;
  bool has_body = false;  // send Content-Length: body_size
};

// Serializes the upstream request head (request line, headers, blank line) into `out`
// (cleared first) from the client's parsed header without modifying it: hop-by-hop headers
// (RFC 9110 §7.6.1, incl. those named in Connection), framing headers, Expect, and every header
// the gateway owns (Host, X-Forwarded-*, X-Stage, X-Request-Id, X-User-Id, X-User-Roles) are
// dropped; the gateway's values are appended. Always HTTP/1.1 keep-alive.
// Instantiated for http::fields and PooledFields (the functions below too).
template <class Fields>
void serialize_upstream_request(const http::header<true, Fields>& req, const ForwardedRequest& fwd,
                                std::string& out);

struct ClientResponseHead {
  unsigned version = 11;
  bool keep_alive = true;
  bool chunked = false;    // gateway re-frames the body as chunked
  bool websocket = false;  // 101: keep Upgrade, send Connection: upgrade
  bool own_cors = false;   // drop the upstream's Access-Control-* (the gateway sets its own)
  std::string_view request_id;
  std::string_view extra;  // pre-formatted "Name: value\r\n" lines (CORS, Set-Cookie)
};

// Serializes the response head for the client from the upstream's parsed header: hop-by-hop and
// framing headers are dropped (Content-Length kept unless re-chunking), X-Request-Id replaced.
template <class Fields>
void serialize_client_response_head(const http::header<false, Fields>& res,
                                    const ClientResponseHead& h, std::string& out);

// Why a parsed request head is refused before routing (the gateway's strictness rules):
//  * TRACE and CONNECT → 405 method_not_allowed (never proxied);
//  * a target holding '#', a control byte, a space or a byte >= 0x80 → 400 invalid_target;
//  * HTTP/1.1 without Host, or more than one Host → 400 bad_host;
//  * more than one Authorization → 400 duplicate_authorization;
//  * Transfer-Encoding other than exactly one "chunked" → 400 bad_transfer_encoding.
// `code` and `message` are static strings. Thread-safe; one pass over the fields.
struct HeadRejection {
  core::ErrorKind kind = core::ErrorKind::kInvalidArgument;
  const char* code = "";
  const char* message = "";
};
template <class Fields>
std::optional<HeadRejection> check_request_head(const http::header<true, Fields>& req);

// True if `v` may be sent as a header value: no control byte (HTAB included) and no DEL.
bool valid_header_value(std::string_view v);

// True if the request asks for a WebSocket upgrade.
bool is_websocket_upgrade(const http::fields& fields);
bool is_websocket_upgrade(const PooledFields& fields);

// The platform's rule (libs/core): 1..128 chars of [A-Za-z0-9._:-].
using core::valid_request_id;

// Fast, unique-per-process request ids (32 lower-case hex chars) from a per-thread generator
// seeded from the OS; ids are identifiers, not secrets.
class RequestIdGenerator {
 public:
  RequestIdGenerator();
  void next(char out[32]);

 private:
  std::uint64_t a_, b_;
};

// {"error":{"code","message","request_id"}} with content-type, X-Request-Id and keep-alive.
// `code` and `message` must not need JSON escaping (static strings); request_id is valid.
http::response<http::string_body> error_response(http::status status, std::string_view code,
                                                 std::string_view message,
                                                 std::string_view request_id, unsigned version,
                                                 bool keep_alive);

// Appends `s` as a JSON string body (with quotes and escapes) to `out`.
void append_json_string(std::string& out, std::string_view s);

}  // namespace enkisys::gateway
