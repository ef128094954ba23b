#include "enkisys/core/listener.hpp"

namespace enkisys::core {

HttpListener::HttpListener(ServerOptions options, Router& router, Logger& log,
                           MetricsRegistry& metrics)
    : server_(without_signals(std::move(options)), router, log, metrics) {}

HttpListener::~HttpListener() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

void HttpListener::start() {
  thread_ = std::thread([this] {
    try {
      server_.run();
    } catch (...) {
      failure_ = std::current_exception();
    }
  });
}

void HttpListener::join() {
  if (thread_.joinable()) thread_.join();
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

}  // namespace enkisys::core
