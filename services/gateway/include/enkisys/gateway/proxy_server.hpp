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
//    401/502/503/504), never a hang.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "enkisys/gateway/auth.hpp"
#include "enkisys/gateway/rate_limiter.hpp"
#include "enkisys/gateway/state.hpp"
#include "enkisys/gateway/telemetry.hpp"

namespace enkisys::gateway {

struct ProxyOptions {
  std::string address = "0.0.0.0";
  unsigned short port = 8080;
  unsigned threads = 1;
  std::chrono::milliseconds drain_timeout{10'000};
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
  // Number of client connections currently open (all workers).
  std::size_t connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace enkisys::gateway
