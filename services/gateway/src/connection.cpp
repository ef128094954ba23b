// One client connection: read a request, route it, proxy it, relay the response; repeat.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <limits>

#include "client_stream.hpp"
#include "enkisys/gateway/path.hpp"
#include "enkisys/gateway/tls.hpp"
#include "request.hpp"
#include "worker.hpp"

namespace enkisys::gateway::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using beast::error_code;

namespace {

struct CtlGuard {
  Worker& w;
  ConnCtl& ctl;
  CtlGuard(Worker& wk, ConnCtl& c) : w(wk), ctl(c) { w.add(&ctl); }
  ~CtlGuard() { w.remove(&ctl); }
};

// GET/HEAD /health or /{stage}/health: probes and deploy health gates stay plain HTTP.
bool is_health_probe(const Request& req) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) return false;
  std::string_view t = req.target();
  if (!t.ends_with("/health") || t.find('?') != std::string_view::npos) return false;
  t.remove_suffix(7);  // "/health"
  return t.empty() ||
         (t.size() > 1 && t.front() == '/' && t.find('/', 1) == std::string_view::npos);
}

// The host of a Host header without its port; "" when it is not a plain name or address.
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto end = host.find(']');
    return end == std::string_view::npos ? std::string_view{} : host.substr(0, end + 1);
  }
  host = host.substr(0, host.find(':'));
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-';
    if (!ok) return {};
  }
  return host;
}

// 308 to the same host and target over HTTPS; the connection closes (the body, if any, is not
// read: the client repeats the request on the new URL).
Task<> redirect_to_https(RequestContext& rc, unsigned short https_port) {
  const auto host = host_without_port(rc.req->base()[http::field::host]);
  const auto target = rc.req->target();
  if (host.empty() || target.empty() || target.front() != '/') {
    co_await rc.reply_error(core::ErrorKind::kInvalidArgument, "bad_request",
                            "a redirect to HTTPS needs a Host header and an absolute path", false);
    co_return;
  }
  std::string location = "https://";
  location.append(host);
  if (https_port != 443) location += ":" + std::to_string(https_port);
  location.append(target);
  http::response<http::string_body> res{http::status::permanent_redirect, rc.req->version()};
  res.set(http::field::location, location);
  res.set(http::field::content_type, "application/json");
  res.body() = R"({"redirect":"https"})";
  res.keep_alive(false);
  res.prepare_payload();
  co_await rc.write_small(res);
}

// The peer's close_notify is awaited at most this long when the gateway closes a TLS connection.
constexpr std::chrono::milliseconds kCloseNotifyWait{1000};

// A read error that ends the connection without an answer: the peer left, timed out, or broke
// its TLS (a 400 could not reach it).
bool peer_gone(const error_code& ec, const ConnCtl& ctl) {
  return ec == http::error::end_of_stream || ctl.timed_out ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
         ec.category() == asio::error::get_ssl_category();
}

// The gateway closes the connection after its last answer: FIN, or over TLS close_notify (then
// the peer's, awaited within kCloseNotifyWait: the sweeper closes the socket after that).
Task<> close_client(ClientStream& stream, ConnCtl& ctl, std::chrono::milliseconds bound) {
  if (stream.tls()) {
    ctl.expire_in(std::min(bound, kCloseNotifyWait), false);
    [[maybe_unused]] auto [sec] = co_await stream.tls_stream().async_shutdown(kTok);
    ctl.clear();
  }
  shutdown_send(stream.socket());
}

// The server handshake of a TLS connection, bounded by its timeout; false when it failed.
Task<bool> handshake(ClientStream& stream, ConnCtl& ctl, const TlsHandoff& tls) {
  auto& ssl = stream.start_tls(tls.contexts->initial());
  ctl.expire_in(tls.handshake_timeout, false);
  auto [ec] = co_await ssl.async_handshake(asio::ssl::stream_base::server, kTok);
  ctl.clear();
  (ec ? tls.counters->failed : tls.counters->handshakes).fetch_add(1, std::memory_order_relaxed);
  co_return !ec;
}

}  // namespace

Task<> run_connection(Worker& w, Shared& shared, IoSocket sock, std::optional<TlsHandoff> tls) {
  ConnCtl ctl;
  CtlGuard guard(w, ctl);
  ClientStream socket(std::move(sock));
  ctl.client = &socket.socket();
  ctl.tls = tls.has_value();
  error_code ec;
  socket.socket().set_option(tcp::no_delay(true), ec);
  const auto remote = socket.socket().remote_endpoint(ec);
  if (ec) co_return;
  const boost::asio::ip::address peer = remote.address();
  const std::string peer_ip = peer.to_string();
  // Per-client connection cap: the TCP peer, unless it is a trusted proxy (its clients are
  // told apart per request, by X-Forwarded-For, for the rate limits).
  ConnectionSlot slot;
  {
    const auto& g = w.generation(shared.deps.state);
    const auto cap = g->config.limits.max_connections_per_ip;
    if (cap > 0 && !(!g->trusted.empty() && g->trusted.trusts(peer)) &&
        !slot.acquire(*shared.per_ip_table, peer_ip, cap)) {
      shared.refused_per_ip->fetch_add(1, std::memory_order_relaxed);
      co_return;  // closed at once: nothing read, nothing answered
    }
  }
  if (tls) {
    const bool shaken = co_await handshake(socket, ctl, *tls);  // not in the condition (GCC 12)
    if (!shaken) co_return;
  }
  RequestScratch s;  // per-connection reusable strings
  beast::flat_buffer buf;
  std::optional<RequestParser> parser;
  std::optional<ResponseParser> rp;
  bool first = true;

  for (;;) {
    std::shared_ptr<const Generation> gen = w.generation(shared.deps.state);
    const Limits L = gen->config.limits;
    // 1. Wait for the next request (idle timeout), then its header (header timeout).
    if (buf.size() == 0) {
      // A speculative read: under load the next request is usually there already (no epoll).
      ctl.idle = true;
      if (w.stopping) co_return;
      // The first request's wait is bounded by the header timeout: a client that never sends
      // a byte does not hold a connection for the keep-alive idle time.
      ctl.expire_in(first ? L.header_timeout : L.idle_timeout, false);
      auto [rec, rn] = co_await socket.async_read_some(buf.prepare(2048), kTok);
      ctl.idle = false;
      if (rec) co_return;
      buf.commit(rn);
    }
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(L.max_header_bytes));
    // The route's limit applies once the route is known (RequestContext::read_body).
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    ctl.expire_in(L.header_timeout, false);
    // Parse what is buffered on the spot (usually the whole request): only an incomplete header
    // takes the composed read, which would otherwise cost an extra trip through the event loop.
    error_code hec;
    buf.consume(parser->put(buf.data(), hec));
    if (hec == http::error::need_more) {
      auto [rec, rn] = co_await http::async_read_header(socket, buf, *parser, kTok);
      hec = rec;
    }
    RequestContext rc{w, shared, ctl, socket, peer, peer_ip, s};
    rc.gen = std::move(gen);
    rc.start = Clock::now();
    if (hec) {
      if (peer_gone(hec, ctl)) co_return;
      if (hec == http::error::header_limit) {
        co_await rc.reply_status(http::status::request_header_fields_too_large, "header_too_large",
                                 "request header fields too large", false);
      } else {
        co_await rc.reply_error(core::ErrorKind::kInvalidArgument, "bad_request",
                                "malformed HTTP request", false);
      }
      co_return;
    }
    auto& req = parser->get();
    rc.req = &req;
    rc.keep_alive = req.keep_alive() && !w.stopping;
    if (shared.options.https_redirect_port != 0 && !ctl.tls && !is_health_probe(req)) {
      co_await redirect_to_https(rc, shared.options.https_redirect_port);
      shutdown_send(socket.socket());  // FIN after the answer
      co_return;
    }
    const bool ok = co_await rc.handle(*parser, buf, rp);
    parser.reset();  // frees the body now (its budget share is released with `rc`)
    first = false;
    ctl.clear();
    if (!ok || !rc.keep_alive || w.stopping) {
      if (!ctl.timed_out)
        co_await close_client(socket, ctl, L.header_timeout);
      else
        shutdown_send(socket.socket());
      co_return;
    }
  }
}

}  // namespace enkisys::gateway::detail
