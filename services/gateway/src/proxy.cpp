// Proxying one request: upstream connection (pooled, keep-alive), retries, response relay
// (streamed chunk by chunk), WebSocket tunnel, and the stage health aggregate.
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>

#include "request.hpp"

namespace enkisys::gateway::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using beast::error_code;
namespace {

// The `version` a service's /health body names (the skeleton's checks shape), when it is a short
// printable string; "" otherwise. The stage's health shows it per service.
std::string health_version(const std::string& body) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const auto* version = v.as_object().if_contains("version");
  if (version == nullptr || !version->is_string()) return {};
  const boost::json::string& s = version->as_string();
  if (s.empty() || s.size() > 64) return {};
  for (const char c : s) {
    if (c < 0x21 || c > 0x7e) return {};
  }
  return std::string(s);
}
constexpr std::uint32_t kUpstreamHeaderLimit = 64 * 1024;

bool idempotent(http::verb m) {
  return m == http::verb::get || m == http::verb::head || m == http::verb::options ||
         m == http::verb::put || m == http::verb::delete_ || m == http::verb::trace;
}

// A fresh connection to `up` (resolving on first use or after a failure). Null on failure.
Task<std::unique_ptr<UpstreamConn>> connect(Worker& w, ConnCtl& ctl, Upstream& up,
                                            std::chrono::milliseconds timeout) {
  auto eps = up.endpoints();
  if (eps.empty()) {
    ctl.resolver = &w.resolver;
    ctl.expire_in(timeout, true);
    auto [rec, results] = co_await w.resolver.async_resolve(up.host(), up.port(), kTok);
    ctl.resolver = nullptr;
    if (rec) co_return nullptr;
    for (const auto& e : results) eps.push_back(e.endpoint());
    up.set_endpoints(eps);
  }
  auto conn = std::make_unique<UpstreamConn>(w.ioc.get_executor());
  ctl.upstream = &conn->socket;
  ctl.expire_in(timeout, true);
  auto [cec, ep] = co_await asio::async_connect(conn->socket, eps, kTok);
  ctl.upstream = nullptr;
  if (cec) {
    up.set_endpoints({});  // re-resolve next time (the service may have moved)
    co_return nullptr;
  }
  error_code ignored;
  conn->socket.set_option(tcp::no_delay(true), ignored);
  co_return conn;
}

// From and To: IoSocket or ClientStream.
template <class From, class To>
Task<> pump(From& from, beast::flat_buffer& pending, To& to, ConnCtl& ctl,
            std::chrono::milliseconds idle) {
  if (pending.size() > 0) {
    auto [ec, n] = co_await asio::async_write(to, pending.data(), kTok);
    if (ec) co_return;
    pending.consume(n);
  }
  char data[8192];
  for (;;) {
    ctl.expire_in(idle, false);
    auto [rec, n] = co_await from.async_read_some(asio::buffer(data), kTok);
    if (rec) break;
    auto [wec, wn] = co_await asio::async_write(to, asio::buffer(data, n), kTok);
    if (wec) break;
  }
  finish_output(to);
}

// True when nothing is waiting to be read on an idle upstream connection (no stray bytes, no
// EOF, no error).
bool idle_and_clean(IoSocket& socket) {
  char c;
  const auto n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

Task<bool> RequestContext::proxy(beast::flat_buffer& cbuf, std::optional<ResponseParser>& rp) {
  using namespace asio::experimental::awaitable_operators;
  auto& r = *req;
  const Limits& L = gen->config.limits;
  Upstream& up = *target->upstream;
  const bool ws = is_websocket_upgrade(r);
  const unsigned client_version = r.version();

  ForwardedRequest fwd;
  fwd.target = s.target;
  fwd.host = up.authority();
  fwd.request_id = request_id;
  fwd.client_ip = client_ip;
  if (via_trusted_proxy) {
    fwd.forwarded_for = s.forwarded_for;
    fwd.peer_ip = peer_ip;
    const auto proto = r["X-Forwarded-Proto"];
    if (proto == "https" || proto == "http") fwd.proto = proto;
  }
  if (ctl.tls) fwd.proto = "https";
  fwd.stage = stage->name;
  fwd.stage_prefix = stage->prefix;
  if (claims) {
    fwd.identity = true;
    fwd.user_id = claims->sub;
    fwd.user_roles = s.token.roles;
  }
  fwd.websocket = ws;
  fwd.body_size = r.body().size();
  fwd.has_body = !r.body().empty() || r.has_content_length() || r.chunked();
  serialize_upstream_request(r, fwd, s.head);
  const std::array<asio::const_buffer, 2> request_bufs{asio::buffer(s.head),
                                                       asio::buffer(r.body())};

  if (!up.healthy(start)) {  // passively ejected or failing its active health check
    co_await reply_error(core::ErrorKind::kUnavailable, "upstream_unavailable",
                         "no healthy upstream for this route", true);
    co_return keep_alive;
  }
  std::unique_ptr<UpstreamConn> conn;
  auto& pool = up.idle(w.index);
  const bool retry_connect = idempotent(r.method());
  int connect_failures = 0;
  // A pooled connection found dead means the upstream restarted or moved (a blue/green color
  // brought back gets new addresses): drop the other idle connections and the cached
  // addresses, so the next try resolves and connects afresh instead of burning its retries.
  auto forget_stale = [&] {
    pool.clear();
    up.set_endpoints({});
  };
  bool early_answer = false;  // answered before the whole request was sent
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    while (!pool.empty() && !conn) {
      conn = std::move(pool.back());
      pool.pop_back();
      // Bytes (or an EOF) waiting on an idle connection mean its framing is in doubt (a HEAD
      // answered with a body, a body longer than its Content-Length) or the upstream closed
      // it: never reuse it. One non-blocking recv(MSG_PEEK) per reused connection.
      if (!idle_and_clean(conn->socket)) conn.reset();
    }
    if (conn) {
      reused = true;
    } else {
      conn = co_await connect(w, ctl, up, L.upstream_connect_timeout);
      if (!conn) {
        const bool timed_out = ctl.timed_out;
        up.record_failure(Clock::now(), L.eject_after_failures, L.eject_for);
        if (retry_connect && ++connect_failures <= 1 && !up.ejected(Clock::now())) continue;
        if (timed_out) {
          co_await reply_error(core::ErrorKind::kDeadlineExceeded, "upstream_timeout",
                               "upstream connect timed out", true);
        } else {
          co_await reply_error(core::ErrorKind::kUpstream, "upstream_unreachable",
                               "cannot connect to upstream", true);
        }
        co_return keep_alive;
      }
    }
    ctl.upstream = &conn->socket;
    ctl.expire_in(route->timeout, true);
    auto [wec, wn] = co_await asio::async_write(conn->socket, request_bufs, kTok);
    if (!wec) {
      rp.emplace();
      rp->header_limit(kUpstreamHeaderLimit);
      rp->body_limit(std::numeric_limits<std::uint64_t>::max());
      if (r.method() == http::verb::head) rp->skip(true);
      auto [hec, hn] = co_await http::async_read_header(conn->socket, conn->buffer, *rp, kTok);
      if (!hec) break;
      if (ctl.timed_out) {
        ctl.upstream = nullptr;
        up.record_failure(Clock::now(), L.eject_after_failures, L.eject_for);
        co_await reply_error(core::ErrorKind::kDeadlineExceeded, "upstream_timeout",
                             "upstream did not answer in time", true);
        co_return keep_alive;
      }
      // A pooled connection the upstream had closed: nothing was processed, try a fresh one.
      if (reused && attempt < 2 &&
          (hec == http::error::end_of_stream || hec == asio::error::connection_reset)) {
        forget_stale();
        continue;
      }
      ctl.upstream = nullptr;
      up.record_failure(Clock::now(), L.eject_after_failures, L.eject_for);
      co_await reply_error(core::ErrorKind::kUpstream, "bad_upstream_response",
                           "invalid response from upstream", true);
      co_return keep_alive;
    }
    if (reused && attempt < 2) {  // write to a dead pooled connection
      forget_stale();
      continue;
    }
    if (ctl.timed_out) {  // the upstream neither read the request nor answered in time
      ctl.upstream = nullptr;
      co_await reply_error(core::ErrorKind::kDeadlineExceeded, "upstream_timeout",
                           "upstream did not read the request in time", true);
      co_return keep_alive;
    }
    // The upstream stopped reading: it may have answered early (413 for a body over its own
    // limit) before closing. That answer goes to the client.
    ctl.expire_in(route->timeout, true);
    rp.emplace();
    rp->header_limit(kUpstreamHeaderLimit);
    rp->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (r.method() == http::verb::head) rp->skip(true);
    auto [eec, en] = co_await http::async_read_header(conn->socket, conn->buffer, *rp, kTok);
    if (!eec) {
      early_answer = true;
      break;
    }
    ctl.upstream = nullptr;
    // Refusing a request body (closing on it) is the client's doing, not a sick upstream: only
    // a bodiless request that cannot be written counts toward ejection.
    if (!fwd.has_body) up.record_failure(Clock::now(), L.eject_after_failures, L.eject_for);
    co_await reply_error(core::ErrorKind::kUpstream, "upstream_write_failed",
                         "cannot send to upstream", true);
    co_return keep_alive;
  }

  auto& res = rp->get();
  status = res.result_int();
  if (status >= 500)
    up.record_failure(Clock::now(), L.eject_after_failures, L.eject_for);
  else
    up.record_success();
  // Framing in doubt afterwards: an early answer (request bytes unsent), or a HEAD answer that
  // announces a body the upstream might send anyway.
  bool upstream_keep =
      rp->keep_alive() && !early_answer &&
      !(r.method() == http::verb::head && (rp->chunked() || rp->content_length().value_or(0) > 0));
  const bool switching = ws && status == 101;
  ClientResponseHead head;
  head.version = client_version;
  head.websocket = switching;
  head.request_id = request_id;
  if (!rp->is_done() && !rp->content_length()) {  // body framed by chunks or by EOF upstream
    if (client_version >= 11)
      head.chunked = true;
    else
      keep_alive = false;
  }
  head.keep_alive = keep_alive;
  s.extra.clear();
  if (!origin.empty()) {
    head.own_cors = true;
    append_cors_lines(s.extra);
  }
  if (set_canary_cookie >= 0) {
    s.extra += "Set-Cookie: ";
    s.extra += stage->canary_cookie;
    s.extra += set_canary_cookie ? "=1" : "=0";
    s.extra += "; Path=";
    s.extra += stage->prefix;
    s.extra += "; Max-Age=86400; HttpOnly; SameSite=Lax\r\n";
  }
  if (ctl.tls && !shared.options.hsts.empty()) {
    s.extra += "Strict-Transport-Security: ";
    s.extra += shared.options.hsts;
    s.extra += "\r\n";
  }
  head.extra = s.extra;
  serialize_client_response_head(res, head, s.head);

  // Relay: each piece of body is written as soon as it is read (SSE and chunked stream through).
  auto relay = w.take_buffer();
  static constexpr std::string_view kCrlf = "\r\n", kLastChunk = "0\r\n\r\n";
  bool ok = true, head_sent = false;
  char size_line[20];
  for (;;) {
    std::size_t n = 0;
    if (!rp->is_done()) {
      res.body().data = relay.get();
      res.body().size = kRelayBufferSize;
      error_code rec;
      // Body bytes that arrived with the header are parsed on the spot (no event-loop trip).
      if (conn->buffer.size() > 0) {
        const auto used = rp->put(conn->buffer.data(), rec);
        conn->buffer.consume(used);
        if (rec == http::error::need_buffer || rec == http::error::need_more) rec = {};
        if (!rec && used == 0 && !rp->is_done()) rec = http::error::need_more;  // read more
      } else {
        rec = http::error::need_more;
      }
      if (rec == http::error::need_more) {
        ctl.upstream = &conn->socket;
        ctl.expire_in(route->timeout, true);
        auto [aec, rn] = co_await http::async_read_some(conn->socket, conn->buffer, *rp, kTok);
        rec = aec;
        if (rec == http::error::need_buffer) rec = {};
      }
      if (rec) {
        error = ctl.timed_out ? "upstream_timeout" : "upstream_body_error";
        ok = upstream_keep = false;
        break;
      }
      n = kRelayBufferSize - res.body().size;
    }
    const bool done = rp->is_done();
    std::array<asio::const_buffer, 5> out{};
    std::size_t k = 0;
    if (!head_sent) out[k++] = asio::buffer(s.head);
    if (n > 0) {
      if (head.chunked) {
        const int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        out[k++] = asio::buffer(size_line, static_cast<std::size_t>(len));
        out[k++] = asio::buffer(relay.get(), n);
        out[k++] = asio::buffer(kCrlf);
      } else {
        out[k++] = asio::buffer(relay.get(), n);
      }
    }
    if (done && head.chunked) out[k++] = asio::buffer(kLastChunk);
    if (k > 0) {
      ctl.expire_in(L.body_timeout, false);
      auto [wec, wn] = co_await asio::async_write(client, out, kTok);
      bytes_out += wn;
      if (wec) {
        ok = upstream_keep = false;
        break;
      }
      head_sent = true;
    }
    if (done) break;
  }
  w.give_buffer(std::move(relay));
  ctl.upstream = nullptr;
  if (!ok && !head_sent) {
    status = 0;
    co_await reply_error(
        ctl.timed_out ? core::ErrorKind::kDeadlineExceeded : core::ErrorKind::kUpstream, error,
        "upstream failed while sending the response", false);
    co_return false;
  }
  if (!ok) status = 0;
  finish();
  if (switching && ok) {
    // WebSocket: pump bytes both ways until either side closes; an idle timeout closes both.
    ctl.upstream = &conn->socket;
    co_await (pump(client, cbuf, conn->socket, ctl, L.idle_timeout) &&
              pump(conn->socket, conn->buffer, client, ctl, L.idle_timeout));
    ctl.upstream = nullptr;
    co_return false;
  }
  if (ok && upstream_keep && rp->is_done() && conn->buffer.size() == 0 &&
      pool.size() < L.upstream_idle_per_worker && !w.stopping) {
    pool.push_back(std::move(conn));
  }
  co_return ok&& keep_alive;
}

Task<> RequestContext::stage_health() {
  boost::json::object services;
  bool all_ok = true;
  std::vector<std::string> seen;
  for (const auto& rt : stage->routes) {
    if (rt.health_path.empty()) continue;
    const std::string key =
        rt.primary.upstream->authority() + rt.primary.base_path + rt.health_path;
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    int code = 0;
    std::string version;
    auto conn =
        co_await connect(w, ctl, *rt.primary.upstream, gen->config.limits.upstream_connect_timeout);
    if (conn) {
      http::request<http::empty_body> hreq{http::verb::get, rt.primary.base_path + rt.health_path,
                                           11};
      hreq.set(http::field::host, rt.primary.upstream->authority());
      hreq.set("X-Request-Id", request_id);
      hreq.keep_alive(false);
      ctl.upstream = &conn->socket;
      ctl.expire_in(std::chrono::milliseconds(2000), true);
      auto [wec, wn] = co_await http::async_write(conn->socket, hreq, kTok);
      if (!wec) {
        http::response_parser<http::string_body> p;
        p.body_limit(64 * 1024);
        auto [rec, rn] = co_await http::async_read(conn->socket, conn->buffer, p, kTok);
        if (!rec) {
          code = static_cast<int>(p.get().result_int());
          version = health_version(p.get().body());
        }
      }
      ctl.upstream = nullptr;
    }
    // A service that answers but that the gateway still holds back (passively ejected, or not
    // yet through its active checks' healthy_threshold) is failing too: its routes answer 503
    // until then, and a stage is healthy only when its routes are served.
    const bool routable = rt.primary.upstream->healthy(Upstream::Clock::now());
    const bool ok = code == 200 && routable;
    all_ok = all_ok && ok;
    boost::json::object entry;
    entry["status"] = ok ? "ok" : "failing";
    entry["http_status"] = code;
    if (!routable) entry["routed"] = false;
    entry["upstream"] = rt.primary.url;
    if (!version.empty()) entry["version"] = version;
    services[rt.name] = std::move(entry);
  }
  boost::json::object body;
  body["status"] = all_ok ? "ok" : "degraded";
  body["stage"] = stage->name;
  body["services"] = std::move(services);
  http::response<http::string_body> res{
      all_ok ? http::status::ok : http::status::service_unavailable, req->version()};
  res.set(http::field::content_type, "application/json");
  res.set("X-Request-Id", request_id);
  add_cors(res);
  res.body() = boost::json::serialize(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  co_await write_small(res);
}

}  // namespace enkisys::gateway::detail
