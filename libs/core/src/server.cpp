#include "enkisys/core/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/value.hpp>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "stream_state.hpp"

namespace enkisys::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What stop() needs to reach a live connection: its socket, touched only on its strand.
struct Conn {
  beast::tcp_stream* stream = nullptr;
  bool idle = true;  // waiting for the next request (nothing in flight)
  std::shared_ptr<detail::StreamState> streaming;  // set while a response stream is open
};
}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions o, Router& r, Logger& l, MetricsRegistry& m)
      : opt(std::move(o)),
        router(r),
        log(l),
        metrics(m),
        pool(opt.blocking_threads),
        control(asio::make_strand(ioc)),
        acceptor(control),
        signals(control),
        drain_timer(control),
        requests(m.counter("http_requests_total", "HTTP requests by route, method and status.",
                           {"route", "method", "status"})),
        latency(m.histogram("http_request_duration_seconds", "HTTP request latency by route.",
                            {"route"})),
        open_conns(m.gauge("http_open_connections", "Open client connections.").with({})) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);
  // `m` is the router's match for req (matched once per request by the session).
  asio::awaitable<Response> dispatch(Request& req, RequestContext& ctx, const RouteMatch& m);
  void begin_stop();
  void record(const Request& req, unsigned status, std::size_t bytes, const std::string& route,
              const RequestContext& ctx, std::chrono::steady_clock::time_point start);

  ServerOptions opt;
  Router& router;
  Logger& log;
  MetricsRegistry& metrics;
  asio::io_context ioc;
  asio::thread_pool pool;
  // Acceptor, signals and the drain timer are touched only on this strand.
  asio::strand<asio::io_context::executor_type> control;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer drain_timer;
  std::atomic<bool> stopping{false};
  bool listening = false;
  std::mutex mu;
  std::unordered_set<std::shared_ptr<Conn>> conns;
  Family<Counter>& requests;
  Family<Histogram>& latency;
  Gauge& open_conns;
};

HttpServer::HttpServer(ServerOptions options, Router& router, Logger& logger,
                       MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, logger, metrics)) {}

HttpServer::~HttpServer() {
  impl_->pool.join();
}

asio::thread_pool& HttpServer::blocking_pool() {
  return impl_->pool;
}

void HttpServer::listen() {
  auto& a = impl_->acceptor;
  const auto address = asio::ip::make_address(impl_->opt.address);
  const tcp::endpoint ep{address, impl_->opt.port};
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  error_code ec;
  a.bind(ep, ec);
  if (ec) {
    throw std::system_error(
        ec, "cannot bind " + impl_->opt.address + ":" + std::to_string(impl_->opt.port));
  }
  a.listen(asio::socket_base::max_listen_connections);
  impl_->listening = true;
}

unsigned short HttpServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void HttpServer::run() {
  if (!impl_->listening) listen();
  auto& im = *impl_;
  if (im.opt.handle_signals) {
    im.signals.add(SIGTERM);
    im.signals.add(SIGINT);
    im.signals.async_wait([this](const error_code& ec, int sig) {
      if (ec) return;
      impl_->log.info("signal received, draining", {{"signal", sig}});
      impl_->begin_stop();
    });
  }
  asio::co_spawn(im.control, im.accept_loop(), asio::detached);
  const unsigned n = std::max(1U, im.opt.threads);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([&im] { im.ioc.run(); });
  im.ioc.run();
  for (auto& t : threads) t.join();
}

void HttpServer::stop() {
  asio::post(impl_->control, [this] { impl_->begin_stop(); });
}

void HttpServer::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  std::vector<std::pair<std::shared_ptr<Conn>, asio::any_io_executor>> live;
  {
    std::lock_guard lock(mu);
    for (const auto& c : conns) {
      if (c->stream) live.emplace_back(c, c->stream->get_executor());
    }
  }
  for (auto& [c, ex] : live) {
    asio::post(ex, [c = c] {
      if (!c->stream) return;
      if (c->idle) {
        c->stream->socket().cancel();
      } else if (c->streaming) {
        c->streaming->cancel(false);  // the handler sees cancelled() and ends its stream
      }
    });
  }
  // Connections still busy after the drain timeout are cut.
  drain_timer.expires_after(opt.drain_timeout);
  drain_timer.async_wait([this](const error_code& e) {
    if (e) return;
    std::lock_guard lock(mu);
    for (const auto& c : conns) {
      if (c->stream) {
        asio::post(c->stream->get_executor(), [c] {
          if (c->stream) c->stream->socket().close();
        });
      }
    }
  });
  // When the last connection ends, the timer must not keep run() alive.
  std::lock_guard lock(mu);
  if (conns.empty()) drain_timer.cancel();
}

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  for (;;) {
    // With several threads each connection runs on a strand of its own; with one thread the
    // strand would only add a lock and an executor indirection to every operation.
    asio::any_io_executor conn_ex = ioc.get_executor();
    if (opt.threads > 1) conn_ex = asio::make_strand(ioc);
    auto [ec, socket] = co_await acceptor.async_accept(conn_ex, kTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      log.warn("accept failed", {{"error", ec.message()}});
      // e.g. EMFILE: back off briefly instead of spinning.
      asio::steady_timer t(ioc, std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, session(std::move(socket)), asio::detached);
  }
}

namespace {
std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}
std::string_view query_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}
}  // namespace

asio::awaitable<Response> HttpServer::Impl::dispatch(Request& req, RequestContext& ctx,
                                                     const RouteMatch& m) {
  const std::string_view target = req.target();
  if (target.empty() || target.front() != '/') {
    co_return error_response(http::status::bad_request, "invalid_target",
                             "request target must be an absolute path", ctx.request_id());
  }
  if (m.kind == RouteMatch::Kind::kNotFound) {
    co_return error_response(http::status::not_found, "not_found",
                             "no route for " + std::string(path_of(target)), ctx.request_id());
  }
  if (m.kind == RouteMatch::Kind::kMethodNotAllowed) {
    Response res =
        error_response(http::status::method_not_allowed, "method_not_allowed",
                       std::string(req.method_string()) + " is not allowed here", ctx.request_id());
    res.set(http::field::allow, m.allow);
    co_return res;
  }
  co_return co_await (*m.handler)(req, ctx);
}

void HttpServer::Impl::record(const Request& req, unsigned status_code, std::size_t bytes,
                              const std::string& route, const RequestContext& ctx,
                              std::chrono::steady_clock::time_point start) {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto status = std::to_string(status_code);
  requests.with({route, std::string(req.method_string()), status}).inc();
  latency.with({route}).observe(secs);
  if (opt.access_log && log.enabled(LogLevel::kInfo)) {
    log.log(LogLevel::kInfo, "request",
            boost::json::object{{"request_id", ctx.request_id()},
                                {"method", req.method_string()},
                                {"path", path_of(req.target())},
                                {"route", route},
                                {"status", status_code},
                                {"duration_ms", secs * 1000.0},
                                {"bytes", bytes},
                                {"client", ctx.client_ip()}});
  }
}

asio::awaitable<void> HttpServer::Impl::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto conn = std::make_shared<Conn>();
  conn->stream = &stream;
  {
    std::lock_guard lock(mu);
    conns.insert(conn);
  }
  open_conns.add(1);
  error_code ec;
  std::string client_ip;
  {
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) client_ip = ep.address().to_string();
  }
  beast::flat_buffer buffer;
  detail::Exchange ex;
  ex.stream = &stream;
  ex.buffer = &buffer;
  ex.opt = &opt;
  ex.stopping = &stopping;
  ex.conn_slot = &conn->streaming;
  for (;;) {
    conn->idle = true;
    if (stopping) break;
    if (buffer.size() == 0) {
      // Keep-alive wait for the first byte of the next request.
      stream.expires_after(opt.idle_timeout);
      auto [rec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (rec) break;
      buffer.commit(n);
    }
    conn->idle = false;
    const auto start = std::chrono::steady_clock::now();
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
    // Streamed-body routes may accept more than max_body_bytes: the route's cap is applied
    // once the route is known.
    const std::uint64_t head_limit =
        std::max<std::uint64_t>(opt.max_body_bytes, router.max_stream_body_bytes());
    parser.body_limit(head_limit);
    stream.expires_after(opt.header_timeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    std::string request_id;
    auto fail = [&](http::status st, std::string_view code, std::string_view msg) {
      return error_response(st, code, msg, request_id.empty() ? new_request_id() : request_id, 11,
                            false);
    };
    std::optional<Response> early;
    Request* const buffered = &parser.get();  // not used once `body` took the parser
    RouteMatch m;
    std::unique_ptr<detail::BodyState> body;  // stream_body routes only
    if (hec == http::error::body_limit) {
      early = fail(http::status::payload_too_large, "body_too_large",
                   "request body exceeds " + std::to_string(opt.max_body_bytes) + " bytes");
    } else if (hec == http::error::header_limit) {
      early = fail(http::status::request_header_fields_too_large, "headers_too_large",
                   "request header block is too large");
    } else if (hec == beast::error::timeout || hec == http::error::end_of_stream ||
               hec == asio::error::operation_aborted || hec == asio::error::eof ||
               hec == asio::error::connection_reset) {
      break;
    } else if (hec) {
      early = fail(http::status::bad_request, "bad_request",
                   "malformed HTTP request: " + hec.message());
    }
    if (!early) {
      auto& hdr = parser.get();
      const auto rid = hdr["X-Request-Id"];
      request_id = valid_request_id(rid) ? std::string(rid) : new_request_id();
      m = router.match(hdr.method(), path_of(hdr.target()));
      const bool stream_body = m.kind == RouteMatch::Kind::kFound && m.options->stream_body;
      std::uint64_t cap = opt.max_body_bytes;
      if (stream_body && m.options->max_body_bytes != 0) cap = m.options->max_body_bytes;
      if (!parser.is_done() && parser.content_length() && *parser.content_length() > cap) {
        early = fail(http::status::payload_too_large, "body_too_large",
                     "request body exceeds " + std::to_string(cap) + " bytes");
      } else if (stream_body) {
        body = std::make_unique<detail::BodyState>(std::move(parser), ex, cap);
      } else if (!parser.is_done()) {
        if (head_limit != opt.max_body_bytes) parser.body_limit(opt.max_body_bytes);
        {
          if (beast::iequals(hdr[http::field::expect], "100-continue")) {
            http::response<http::empty_body> cont{http::status::continue_, 11};
            stream.expires_after(opt.write_timeout);
            auto [cec, cn] = co_await http::async_write(stream, cont, kTuple);
            if (cec) break;
          }
          stream.expires_after(opt.body_timeout);
          auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kTuple);
          if (bec == http::error::body_limit) {
            early = fail(http::status::payload_too_large, "body_too_large",
                         "request body exceeds " + std::to_string(opt.max_body_bytes) + " bytes");
          } else if (bec == beast::error::timeout || bec == asio::error::operation_aborted) {
            early = fail(http::status::request_timeout, "request_timeout",
                         "request body was not received in time");
          } else if (bec) {
            early = fail(http::status::bad_request, "bad_request",
                         "malformed HTTP request body: " + bec.message());
          }
        }
      }
    }
    if (early) {
      // The stream is in an unknown state: answer and close.
      stream.expires_after(opt.write_timeout);
      co_await http::async_write(stream, *early, kTuple);
      break;
    }
    // A streamed body's parser took the header: the handler gets a copy of it.
    std::optional<Request> streamed_head;
    if (body) {
      streamed_head.emplace();
      streamed_head->base() = body->parser.get().base();
    }
    Request& req = body ? *streamed_head : *buffered;
    ex.req = &req;
    ex.body = body.get();
    RequestContext ctx;
    ctx.exchange_ = &ex;
    ctx.request_id_ = request_id;
    ctx.client_ip_ = client_ip;
    ctx.query_ = std::string(query_of(req.target()));
    ctx.logger_ = &log;
    ctx.pool_ = &pool;
    Response res;
    std::string route = "unmatched";
    bool socket_failed = false;  // StreamClosed: the connection cannot carry a response
    bool handler_ok = false;
    try {
      if (m.kind != RouteMatch::Kind::kNotFound) route = m.pattern;
      ctx.params_ = std::move(m.params);
      // A handler may run for minutes (a streamed answer): an emptied read buffer is given back
      // until the next request needs one.
      if (!body && buffer.size() == 0) buffer.shrink_to_fit();
      res = co_await dispatch(req, ctx, m);
      handler_ok = true;
    } catch (const StreamClosed&) {
      socket_failed = true;
    } catch (const ApiError& e) {
      if (ex.response) {
        log.warn("error after the response stream began",
                 {{"request_id", request_id}, {"error", e.what()}});
      }
      res = error_response(e, request_id, req.version(), true);
    } catch (const std::exception& e) {
      std::optional<Error> known =
          opt.classify_exception ? opt.classify_exception(e) : std::nullopt;
      if (known) {
        log.warn("request failed", {{"request_id", request_id},
                                    {"code", std::string(known->code_or_default())},
                                    {"error", e.what()}});
        res = error_response(ApiError(*known), request_id, req.version(), true);
      } else {
        log.error("unhandled error", {{"request_id", request_id}, {"error", e.what()}});
        res = error_response(http::status::internal_server_error, "internal",
                             "internal error (see logs for request id)", request_id);
      }
    }
    if (ex.response) {
      // Streamed: the body is on the wire; end it (the last chunk only if the handler finished).
      const auto st = std::move(ex.response);
      const bool reusable = co_await st->finish(handler_ok);
      conn->streaming.reset();
      record(req, st->status, st->bytes, route, ctx, start);
      if (!reusable || stopping || (body && !body->complete())) break;
      continue;
    }
    if (socket_failed) break;
    const bool keep_alive = req.keep_alive() && !stopping && (!body || body->complete());
    res.version(req.version());
    res.keep_alive(keep_alive);
    res.set("X-Request-Id", request_id);
    if (req.method() == http::verb::head) {
      res.prepare_payload();
      res.body().clear();
    } else if (!res.has_content_length() && !res.chunked()) {
      res.prepare_payload();
    }
    record(req, res.result_int(), res.body().size(), route, ctx, start);
    stream.expires_after(opt.write_timeout);
    http::response_serializer<http::string_body> sr{res};
    if (req.method() == http::verb::head) sr.split(true);
    error_code wec;
    if (req.method() == http::verb::head) {
      std::tie(wec, std::ignore) = co_await http::async_write_header(stream, sr, kTuple);
    } else {
      std::tie(wec, std::ignore) = co_await http::async_write(stream, sr, kTuple);
    }
    if (wec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn->stream = nullptr;
  open_conns.add(-1);
  bool last = false;
  {
    std::lock_guard lock(mu);
    conns.erase(conn);
    last = conns.empty();
  }
  if (last && stopping) {
    asio::post(control, [this] { drain_timer.cancel(); });
  }
}

}  // namespace enkisys::core
