// The public proxy: N worker threads, each with its own io_context, SO_REUSEPORT acceptor,
// upstream keep-alive pools and deadline sweeper, so the hot path takes no locks.
//
// Contract:
//  * listen() binds every worker's acceptor (throws std::system_error with the address on
//    failure); port() is then the bound port (useful with port 0 in tests).
//  * start() runs the workers on their own threads; stop() is thread-safe and idempotent:
//    acceptors close, idle keep-alive connections close, in-flight requests finish (their
//    responses carry Connection: close); after `drain_timeout` everything is closed; join()
//    returns when all workers are done.
//  * Every wait has a deadline (idle, header, body, upstream connect/response, client write):
//    a stalled peer never pins a connection. Failures become JSON errors (400/404/413/429/431/
//    401/502/503/504), never a hang. A connection that never sends a byte is closed after the
//    header timeout.
//  * Memory: request bodies are buffered (to be sent with a Content-Length); all of them
//    together hold at most limits.body_buffer_bytes (the declared length is reserved before
//    reading; chunked bodies as they grow); past it a request gets 503 + Retry-After at once.
//  * Descriptors: at most limits.max_connections_per_ip connections per client (the TCP peer
//    unless it is a trusted proxy); when accept fails for lack of descriptors the worker pauses
//    accepting for 100 ms instead of spinning.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "enkisys/gateway/auth.hpp"
#include "enkisys/gateway/rate_limiter.hpp"
#include "enkisys/gateway/state.hpp"
#include "enkisys/gateway/telemetry.hpp"

namespace enkisys::gateway {

class TlsContexts;

struct ProxyOptions {
  std::string address = "0.0.0.0";
  unsigned short port = 8080;
  unsigned threads = 1;
  std::chrono::milliseconds drain_timeout{10'000};
  // When set, plain-HTTP requests other than GET/HEAD /health and /{stage}/health (probes and
  // deploy health gates) are answered 308 with
  // Location: https://<Host without port>[:https_redirect_port]<target> (the connection closes).
  unsigned short https_redirect_port = 0;
  // Strict-Transport-Security on every answer over TLS (adopt_tls connections); "" = none.
  std::string hsts = "max-age=31536000";
};

// Handshake counts of a TLS listener (updated by the workers that handshake its connections).
struct TlsCounters {
  std::atomic<std::uint64_t> handshakes{0};  // completed
  std::atomic<std::uint64_t> failed{0};      // refused, broken or timed out
};

// What a worker needs to handshake a connection a TLS listener accepted.
struct TlsHandoff {
  // The contexts the handshake starts with; the connection keeps them (SNI switches among them)
  // until it closes, whatever reloads happen meanwhile.
  std::shared_ptr<const TlsContexts> contexts;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::shared_ptr<TlsCounters> counters;  // REQUIRES: not null
};

struct ProxyDeps {
  GatewayState& state;
  RateLimiter& limiter;
  Telemetry* telemetry = nullptr;
};

class ProxyServer {
 public:
  ProxyServer(ProxyOptions options, ProxyDeps deps);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  void listen();
  unsigned short port() const;
  void start();
  void stop();
  void join();
  // Serves an accepted TCP connection `fd` (owned from now on) as a TLS client connection: a
  // worker does the server handshake (bounded by handoff.handshake_timeout, counted in
  // handoff.counters), then serves it with the same request loop, limits and shutdown as a plain
  // connection, plus HSTS on its answers and X-Forwarded-Proto: https upstream (no redirect).
  // Closing it sends close_notify, waiting at most about a second for the peer's. Thread-safe;
  // REQUIRES start(). After stop() the descriptor is closed at once.
  void adopt_tls(int fd, TlsHandoff handoff);
  // Number of client connections currently open (all workers).
  std::size_t connections() const;
  // Request-body bytes held in memory now (bounded by limits.body_buffer_bytes).
  std::int64_t body_bytes_in_flight() const;
  // Times accept paused (100 ms) for lack of file descriptors (EMFILE/ENFILE).
  std::uint64_t accept_pauses() const;
  // Connections closed at once because their client had limits.max_connections_per_ip open.
  std::uint64_t refused_per_ip() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace enkisys::gateway
