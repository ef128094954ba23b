// Internal: the handling of one request on a client connection (routing, edge checks, proxying).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <string>

#include "client_stream.hpp"
#include "enkisys/core/expected.hpp"
#include "worker.hpp"

namespace enkisys::gateway::detail {

namespace http = boost::beast::http;

// Strings reused across the requests of one connection (no per-request allocation once warm).
struct RequestScratch {
  std::string path;           // normalised path when the target needed rewriting
  std::string target;         // forwarded target
  TokenMemo token;            // last accepted credentials of this connection
  std::string head;           // serialized upstream request head, then the client response head
  std::string extra;          // CORS / Set-Cookie lines for the response head
  std::string origin;         // copy of an allowed Origin
  std::string retry;          // Retry-After value
  std::string client;         // client address taken from X-Forwarded-For (trusted peer)
  std::string forwarded_for;  // X-Forwarded-For received from a trusted peer (fields joined)
  std::string cookie_bearer;  // "Bearer " + the route's jwt_cookie, when that carries the token
};

using RequestParser = http::request_parser<http::string_body, PoolAllocator<char>>;
using ResponseParser = http::response_parser<http::buffer_body, PoolAllocator<char>>;
using Request = http::request<http::string_body, PooledFields>;

struct RequestContext {
  RequestContext(Worker& wk, Shared& sh, ConnCtl& c, ClientStream& cl,
                 const boost::asio::ip::address& peer, const std::string& peer_text,
                 RequestScratch& sc)
      : w(wk),
        shared(sh),
        ctl(c),
        client(cl),
        peer_addr(peer),
        peer_ip(peer_text),
        client_ip(peer_text),
        s(sc),
        body_hold(*sh.body_bytes) {}
  Worker& w;
  Shared& shared;
  ConnCtl& ctl;
  ClientStream& client;
  const boost::asio::ip::address& peer_addr;  // the TCP peer
  std::string_view peer_ip;
  std::string_view client_ip;  // the peer, or from X-Forwarded-For when the peer is trusted
  RequestScratch& s;
  bool via_trusted_proxy = false;

  std::shared_ptr<const Generation> gen;
  Request* req = nullptr;
  bool keep_alive = true;
  Clock::time_point start{};
  const CompiledStage* stage = nullptr;
  const CompiledRoute* route = nullptr;
  const Target* target = nullptr;
  char rid_buf[32] = {};
  std::string_view request_id;
  std::string_view origin;     // Origin header when CORS applies to it
  int set_canary_cookie = -1;  // -1 none, 0/1 value to set
  unsigned status = 0;
  std::uint64_t bytes_out = 0;
  std::string_view error;                    // short reason for the access log
  const security::Claims* claims = nullptr;  // set on jwt routes (owned by s.token)

  // Returns false when the connection must close.
  Task<bool> handle(RequestParser& parser, boost::beast::flat_buffer& buf,
                    std::optional<ResponseParser>& rp);
  // The JSON error answer; its status is core::http_status_of(kind) (reply_status for the one
  // status no kind names, 431).
  Task<> reply_error(core::ErrorKind kind, std::string_view code, std::string_view message,
                     bool keep);
  Task<> reply_status(http::status status, std::string_view code, std::string_view message,
                      bool keep);
  // A browser's answer on a route with login_redirect: 303 to `location`, or the 403 page
  // linking to `login`.
  Task<> reply_html(http::status status, std::string_view location, std::string_view login);
  // Writes a small complete answer (and logs it); false when the write failed. Over TLS it
  // carries Strict-Transport-Security.
  Task<bool> write_small(http::response<http::string_body>& res);
  BodyReservation body_hold;  // this request's share of the in-flight body budget

 private:
  Task<bool> proxy(boost::beast::flat_buffer& buf, std::optional<ResponseParser>& rp);
  // Reads the rest of the body within the route's limit and the body budget; false when the
  // connection must close (the error answer, if any, was sent).
  Task<bool> read_body(RequestParser& parser, boost::beast::flat_buffer& buf);
  Task<> reply_busy();
  Task<> stage_health();
  // Waits until `auth` has finished more than `seen_attempts` key fetches, or `until`.
  Task<> await_key_refresh(Authenticator& auth, std::uint64_t seen_attempts,
                           Clock::time_point until);
  void add_cors(http::fields& f) const;
  void append_cors_lines(std::string& out) const;  // same headers as "Name: value\r\n" lines
  void finish();
};

}  // namespace enkisys::gateway::detail
