// Listener: a server a service runs beside (or instead of) its main core::HttpServer, started
// and stopped by the service skeleton together with the main one.
//
// Contract (what run_service relies on):
//  * listen() binds (throws std::exception naming the address on failure); port() is then the
//    bound port (useful with port 0).
//  * start() begins serving on the listener's own threads and returns.
//  * stop() is thread-safe and idempotent, may be called before start(), and begins a graceful
//    stop: stop accepting, finish in-flight requests, close the rest after a drain timeout.
//  * join() blocks until the listener has stopped serving; it rethrows a failure of the serving
//    threads. REQUIRES: start() was called.
#pragma once

#include <exception>
#include <memory>
#include <thread>

#include "enkisys/core/server.hpp"

namespace enkisys::core {

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void listen() = 0;
  virtual unsigned short port() const = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual void join() = 0;
};

// A core::HttpServer on its own threads (the main listener of most services, and every extra
// listener). ServerOptions::handle_signals is forced off: the skeleton owns the signals.
class HttpListener final : public Listener {
 public:
  HttpListener(ServerOptions options, Router& router, Logger& log, MetricsRegistry& metrics);
  ~HttpListener() override;
  void listen() override { server_.listen(); }
  unsigned short port() const override { return server_.port(); }
  void start() override;
  void stop() override { server_.stop(); }
  void join() override;

 private:
  static ServerOptions without_signals(ServerOptions o) {
    o.handle_signals = false;
    return o;
  }
  HttpServer server_;
  std::thread thread_;
  std::exception_ptr failure_;
};

// Adapts any server with listen()/port()/start()/stop()/join() of the same meaning (e.g. the
// gateway's ProxyServer). The server must outlive the adapter.
template <typename Server>
class ListenerOf final : public Listener {
 public:
  explicit ListenerOf(Server& server) : server_(server) {}
  void listen() override { server_.listen(); }
  unsigned short port() const override { return server_.port(); }
  void start() override { server_.start(); }
  void stop() override { server_.stop(); }
  void join() override { server_.join(); }

 private:
  Server& server_;
};

}  // namespace enkisys::core
