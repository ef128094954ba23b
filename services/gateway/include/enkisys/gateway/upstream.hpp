// Upstreams (one per host:port) with per-worker keep-alive pools and passive health.
//
// Contract:
//  * An Upstream is shared by every config generation that names the same host:port
//    (UpstreamRegistry), so reloads keep warm connections.
//  * idle(worker) is touched only by that worker's thread (no locking on the hot path).
//  * Health counters are atomics, safe from any thread. After `eject_after_failures`
//    consecutive connect errors/5xx the upstream is ejected for `eject_for`; a success resets.
//  * Active health (HealthChecker, health_checker.hpp) is written by the checker thread through
//    record_probe() and read anywhere. An upstream is routable (healthy()) when it is neither
//    passively ejected nor actively unhealthy; one never probed counts as healthy.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "enkisys/gateway/config.hpp"

namespace enkisys::gateway {

struct UpstreamUrl {
  std::string host;
  std::string port;       // "80" when absent
  std::string base_path;  // "" or "/base" (no trailing slash)
};
core::Expected<UpstreamUrl> parse_upstream_url(const std::string& url);

// The proxy's I/O objects are bound to the concrete io_context executor (no type-erased
// any_io_executor on the hot path).
using IoExecutor = boost::asio::io_context::executor_type;
using IoSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, IoExecutor>;

// A kept-alive connection to an upstream, with its read buffer.
struct UpstreamConn {
  explicit UpstreamConn(const IoExecutor& ex) : socket(ex) {}
  IoSocket socket;
  boost::beast::flat_buffer buffer;
};

class Upstream {
 public:
  using Clock = std::chrono::steady_clock;
  Upstream(std::string host, std::string port, unsigned workers);

  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }
  const std::string& authority() const { return authority_; }  // "host:port"

  std::vector<std::unique_ptr<UpstreamConn>>& idle(unsigned worker) { return idle_[worker].conns; }

  bool ejected(Clock::time_point now) const {
    return now.time_since_epoch().count() < ejected_until_.load(std::memory_order_relaxed);
  }
  void record_success() {
    if (failures_.load(std::memory_order_relaxed) != 0)
      failures_.store(0, std::memory_order_relaxed);
  }
  void record_failure(Clock::time_point now, int eject_after, std::chrono::milliseconds eject_for);
  int consecutive_failures() const { return failures_.load(std::memory_order_relaxed); }

  enum class Active { kUnknown, kHealthy, kUnhealthy };
  bool healthy(Clock::time_point now) const {
    return !ejected(now) && active() != Active::kUnhealthy;
  }
  Active active() const { return active_.load(std::memory_order_relaxed); }
  // One active probe result (`status` 0 = no answer). `unhealthy_threshold` consecutive failures
  // mark the upstream unhealthy; `healthy_threshold` consecutive successes mark it healthy again
  // and lift a passive ejection that started before them.
  void record_probe(bool ok, int status, int healthy_threshold, int unhealthy_threshold);
  int last_probe_status() const { return last_probe_status_.load(std::memory_order_relaxed); }
  std::uint64_t probes() const { return probes_.load(std::memory_order_relaxed); }

  // Last successful resolution (thread-safe copy).
  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;
  void set_endpoints(std::vector<boost::asio::ip::tcp::endpoint> eps);

 private:
  struct alignas(64) Pool {
    std::vector<std::unique_ptr<UpstreamConn>> conns;
  };
  std::string host_, port_, authority_;
  std::vector<Pool> idle_;
  std::atomic<int> failures_{0};
  std::atomic<Clock::rep> ejected_until_{0};
  std::atomic<Active> active_{Active::kUnknown};
  std::atomic<int> probe_ok_streak_{0}, probe_fail_streak_{0}, last_probe_status_{0};
  std::atomic<std::uint64_t> probes_{0};
  mutable std::mutex ep_mu_;
  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
};

class UpstreamRegistry {
 public:
  explicit UpstreamRegistry(unsigned workers) : workers_(workers) {}
  std::shared_ptr<Upstream> get(const std::string& host, const std::string& port);
  std::vector<std::shared_ptr<Upstream>> all() const;
  unsigned workers() const { return workers_; }

 private:
  unsigned workers_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Upstream>> by_authority_;
};

}  // namespace enkisys::gateway
