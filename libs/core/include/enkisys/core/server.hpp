// HTTP/1.1 server on Boost.Beast and C++20 coroutines.
//
// Contract:
//  * run() blocks the calling thread and `threads - 1` more on one io_context until stop()
//    (or SIGTERM/SIGINT when `handle_signals`) has drained every connection, then returns.
//  * Every socket operation has a deadline: a client that sends headers slowly, stalls a body,
//    or does not read the response is disconnected (slowloris-safe).
//  * Header block larger than `max_header_bytes` → 431; body larger than `max_body_bytes` → 413;
//    malformed HTTP → 400 and close. All errors use the JSON error shape.
//  * Each request gets a request id (client's X-Request-Id if valid, else a new one), echoed
//    in the response and in the access log line.
//  * Handlers run on I/O threads and must not block: use RequestContext::blocking() for
//    database or file work.
//  * Graceful stop: stop accepting, close idle keep-alive connections, let in-flight requests
//    finish (their responses carry `Connection: close`), then return. After
//    `drain_timeout` the remaining connections are closed. A streaming handler sees the stop
//    as cancelled() on its stream (stream.hpp) and should end it.
//  * Streaming (stream.hpp): a handler may send its response as a chunked or SSE stream
//    (RequestContext::stream / stream_sse) and, on routes added with RouteOptions::stream_body,
//    pull its request body (RequestContext::body). Ordinary handlers are unaffected.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "enkisys/core/http.hpp"
#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/stream.hpp"

namespace enkisys::core {

struct ServerOptions {
  std::string address = "0.0.0.0";
  unsigned short port = 0;  // 0: chosen by the OS (see HttpServer::port())
  unsigned threads = 2;     // I/O threads
  unsigned blocking_threads = 4;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};  // first byte → end of headers
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  std::chrono::milliseconds drain_timeout{10'000};
  bool handle_signals = true;  // SIGTERM/SIGINT → graceful stop
  bool access_log = true;
  // Turns an exception a handler let escape into the error it stands for (e.g. a database
  // that cannot be reached → kUnavailable, 503), logged as a warning; nullopt (or unset): a
  // 500 "internal", logged as an error. Called on an I/O thread; must not throw.
  std::function<std::optional<Error>(const std::exception&)> classify_exception;
};

class HttpServer;

// Per-request state handed to handlers.
class RequestContext {
 public:
  const std::string& request_id() const { return request_id_; }
  const PathParams& params() const { return params_; }
  std::string_view param(std::string_view name) const { return params_.get(name); }
  const std::string& client_ip() const { return client_ip_; }
  std::string_view query() const { return query_; }
  Logger& log() const { return *logger_; }

  // Starts a chunked response: sends the status and headers now; the handler then writes with
  // the returned handle and returns its done(). At most one stream per request. Throws
  // StreamClosed when the header block cannot be written. See stream.hpp for the contract.
  // Pass a named StreamOptions: GCC 12 mishandles class-type temporaries in a co_await
  // expression (the options are copied before the first suspension).
  boost::asio::awaitable<ResponseStream> stream(const StreamOptions& options);
  boost::asio::awaitable<ResponseStream> stream();  // 200, application/octet-stream
  // The same as text/event-stream, with heartbeats every options.heartbeat.
  boost::asio::awaitable<SseStream> stream_sse(const StreamOptions& options);
  boost::asio::awaitable<SseStream> stream_sse();  // 200, heartbeat every 15 s
  // The request body of a stream_body route, not yet read. Throws std::logic_error on other
  // routes (their body is already in Request::body()).
  BodyStream& body();

  // Runs `fn` on the blocking pool and resumes on the I/O thread with its result. Exceptions
  // thrown by fn propagate to the awaiting coroutine.
  template <typename Fn>
  auto blocking(Fn fn) -> boost::asio::awaitable<decltype(fn())> {
    using R = decltype(fn());
    co_return co_await boost::asio::co_spawn(
        *pool_, [f = std::move(fn)]() -> boost::asio::awaitable<R> { co_return f(); },
        boost::asio::use_awaitable);
  }

 private:
  friend class HttpServer;
  friend class RequestContextForTest;
  std::string request_id_;
  PathParams params_;
  std::string client_ip_;
  std::string query_;
  Logger* logger_ = nullptr;
  boost::asio::thread_pool* pool_ = nullptr;
  detail::Exchange* exchange_ = nullptr;  // null outside a server (tests of handlers)

  std::shared_ptr<detail::StreamState> prepare_stream(const StreamOptions& o, bool sse);
  boost::asio::awaitable<void> start_stream(std::shared_ptr<detail::StreamState> st);
  boost::asio::awaitable<ResponseStream> open_stream(std::shared_ptr<detail::StreamState> st);
  boost::asio::awaitable<SseStream> open_sse(std::shared_ptr<detail::StreamState> st);
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Router& router, Logger& logger, MetricsRegistry& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (throws std::system_error with a clear message on failure).
  void listen();
  unsigned short port() const;  // REQUIRES: listen() succeeded

  // Serves until stopped. Calls listen() if not yet listening.
  void run();
  // Thread-safe, idempotent; begins a graceful stop.
  void stop();

  boost::asio::thread_pool& blocking_pool();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace enkisys::core
