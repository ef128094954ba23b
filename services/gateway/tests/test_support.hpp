// Test support: a real upstream HTTP server on a port-0 socket (thread per connection), a
// gateway started in-process on port 0, and small blocking clients.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "enkisys/core/metrics.hpp"
#include "enkisys/gateway/health_checker.hpp"
#include "enkisys/gateway/proxy_server.hpp"

namespace enkisys::gateway::testing {

namespace http = boost::beast::http;
using StringResponse = http::response<http::string_body>;

// Serves, on 127.0.0.1:port():
//   /status/N       → status N, body "status N"
//   /slow?ms=N      → waits N ms, then 200
//   /stream         → chunked: "first\n", then waits for release_stream() (max 5 s), "second\n"
//   /ws             → WebSocket echo
//   /close          → closes the connection without answering
//   /health         → set_health_status() (default 200)
//   anything else   → 200 JSON {"method","target","headers":{lower-case name: value},"body","name"}
class FakeUpstream {
 public:
  // port 0: an OS-chosen port; a given port lets a test bring an upstream back where it was.
  explicit FakeUpstream(std::string name = "up", unsigned short port = 0);
  ~FakeUpstream();
  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }  // excluding health probes
  int health_probes() const { return health_probes_.load(); }
  void set_health_status(int s) { health_status_ = s; }
  void release_stream();

 private:
  void serve(boost::asio::ip::tcp::socket& sock);
  std::string name_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  bool stopping_ = false;
  std::vector<std::thread> conn_threads_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> conns_;
  std::atomic<int> requests_{0}, connections_{0}, health_probes_{0}, health_status_{200};
};

struct GatewayOptions {
  unsigned threads = 1;
  const security::Clock* clock = nullptr;  // default: the system clock
  JwksRefresher::Fetch fetch;              // default: HTTP GET of the stage's jwks_url
  bool fetch_keys_first = true;            // every stage's keys fetched before the first request
  unsigned short https_redirect_port = 0;  // ProxyOptions::https_redirect_port
};

// A gateway on 127.0.0.1:port() for `yaml` (with "{UP}" replaced by `upstream_url`).
class Gateway {
 public:
  Gateway(const std::string& yaml, GatewayOptions options);
  // With a `jwt.jwks_url`, every stage's key set is fetched (synchronously) before the gateway
  // starts; its refreshers keep running (unknown kid → refetch);
  // `clock` (default: the system clock) is the time the JWT checks use.
  explicit Gateway(const std::string& yaml, unsigned threads = 1,
                   const security::Clock* clock = nullptr);
  ~Gateway();
  unsigned short port() const { return server_->port(); }
  GatewayState& state() { return *state_; }
  // The verifier of stage `stage` (null without a jwt section).
  Authenticator* auth(const std::string& stage = "dev");
  enkisys::core::MetricsRegistry& metrics() { return metrics_; }
  ProxyServer& server() { return *server_; }

 private:
  enkisys::core::MetricsRegistry metrics_;
  std::unique_ptr<Telemetry> telemetry_;
  std::unique_ptr<UpstreamRegistry> upstreams_;
  std::unique_ptr<Verifiers> verifiers_;
  std::unique_ptr<GatewayState> state_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<ProxyServer> server_;
  std::unique_ptr<HealthChecker> health_;
};

inline std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

// Loads and compiles a config or fails the test with the error.
GatewayConfig parse_or_die(const std::string& yaml);

// One request on a new connection.
StringResponse request(unsigned short port, http::verb method, const std::string& target,
                       const std::map<std::string, std::string>& headers = {},
                       const std::string& body = {});
inline StringResponse get(unsigned short port, const std::string& target,
                          const std::map<std::string, std::string>& headers = {}) {
  return request(port, http::verb::get, target, headers);
}

// Sends raw bytes, returns everything the server sends until it closes or `timeout_ms` passes.
std::string raw_exchange(unsigned short port, const std::string& bytes, int timeout_ms = 3000);

// Writes a secret file for HS256 and returns its path; token() signs claims with it.
std::string write_secret_file();
std::string hs256_token(const std::string& secret_path, const std::string& sub,
                        const std::vector<std::string>& roles, long long exp_offset_s = 3600,
                        const std::string& iss = "test");

}  // namespace enkisys::gateway::testing
