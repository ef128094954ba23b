// Test helpers: an in-process HttpServer on an OS-chosen port, and a raw socket client.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "enkisys/core/server.hpp"

namespace enkisys::core::testing {

class TestServer {
 public:
  TestServer(const std::function<void(Router&)>& wire, ServerOptions opts = {});
  ~TestServer();
  unsigned short port() const { return port_; }
  HttpServer& server() { return *server_; }
  MetricsRegistry& metrics() { return metrics_; }
  // Stops gracefully and waits for run() to return.
  void stop();

 private:
  Logger log_{"test", LogLevel::kError};
  MetricsRegistry metrics_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  unsigned short port_ = 0;
};

// Connects to 127.0.0.1:port, writes `bytes`, reads until the peer closes or `timeout_ms`
// passes with no data, and returns everything read.
std::string raw_exchange(unsigned short port, const std::string& bytes, int timeout_ms = 5000);

// A simple GET/POST via a fresh connection ("Connection: close"); returns the raw response.
std::string http_request(unsigned short port, const std::string& method, const std::string& target,
                         const std::string& body = {}, const std::string& extra_headers = {});

// Status code of a raw HTTP response, or 0.
int status_of(const std::string& raw);
// Body of a raw HTTP response (after the blank line), de-chunking not supported.
std::string body_of(const std::string& raw);

// A raw response with its status and its body parsed as JSON (null when empty or not JSON).
struct JsonReply {
  int status = 0;
  boost::json::value body;
  std::string raw;
  // A header's value (name matched without regard to case), or "" when absent.
  std::string header(const std::string& name) const;
};
JsonReply json_reply(std::string raw);

}  // namespace enkisys::core::testing
