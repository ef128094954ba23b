// Internal: per-thread worker state shared by proxy_server.cpp and connection.cpp.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "enkisys/gateway/headers.hpp"
#include "enkisys/gateway/proxy_server.hpp"

namespace enkisys::gateway::detail {

using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// Coroutines and I/O objects of the proxy, on the concrete executor (see upstream.hpp).
template <class T = void>
using Task = boost::asio::awaitable<T, IoExecutor>;
using IoTimer =
    boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, IoExecutor>;
using IoResolver = boost::asio::ip::basic_resolver<tcp, IoExecutor>;
using IoAcceptor = boost::asio::basic_socket_acceptor<tcp, IoExecutor>;
inline constexpr auto kTok = boost::asio::as_tuple(boost::asio::use_awaitable_t<IoExecutor>{});

// steady_clock's epoch (CLOCK_MONOTONIC) read at tick resolution (a few ms, no rdtsc): enough for
// connection deadlines, which the sweeper checks every few ms anyway.
inline Clock::time_point coarse_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
      std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

// Deadline bookkeeping for one client connection, scanned by the worker's sweeper. On expiry in
// the upstream phase the upstream socket/resolver is cancelled (the connection answers 504);
// otherwise the client socket is closed.
struct ConnCtl {
  IoSocket* client = nullptr;
  IoSocket* upstream = nullptr;
  IoResolver* resolver = nullptr;
  Clock::time_point deadline{};  // epoch = none
  bool upstream_phase = false;
  bool timed_out = false;
  bool idle = false;  // between requests (closed at once on stop)
  bool tls = false;   // served over TLS (adopt_tls)
  ConnCtl* prev = nullptr;
  ConnCtl* next = nullptr;

  void expire_in(std::chrono::milliseconds d, bool upstream_side) {
    deadline = coarse_now() + d;
    upstream_phase = upstream_side;
  }
  void clear() { deadline = {}; }
};

inline constexpr std::size_t kRelayBufferSize = 16 * 1024;

struct Worker {
  explicit Worker(unsigned i)
      : index(i), ioc(1), sweeper(ioc.get_executor()), resolver(ioc.get_executor()) {
    conns.next = conns.prev = &conns;
  }
  unsigned index;
  boost::asio::io_context ioc;
  std::optional<IoAcceptor> acceptor;
  IoTimer sweeper;
  IoResolver resolver;
  ConnCtl conns;  // sentinel of a circular list
  std::atomic<std::size_t> connection_count{0};
  std::vector<std::unique_ptr<char[]>> free_buffers;
  std::shared_ptr<const Generation> gen;
  std::uint64_t gen_version = 0;
  RequestIdGenerator ids;
  std::mt19937_64 rng{std::random_device{}()};
  bool stopping = false;
  Clock::time_point drain_deadline{};
  std::thread thread;

  void add(ConnCtl* s) {
    s->next = conns.next;
    s->prev = &conns;
    conns.next->prev = s;
    conns.next = s;
    connection_count.fetch_add(1, std::memory_order_relaxed);
  }
  void remove(ConnCtl* s) {
    s->prev->next = s->next;
    s->next->prev = s->prev;
    connection_count.fetch_sub(1, std::memory_order_relaxed);
  }
  std::unique_ptr<char[]> take_buffer() {
    if (free_buffers.empty()) return std::make_unique<char[]>(kRelayBufferSize);
    auto b = std::move(free_buffers.back());
    free_buffers.pop_back();
    return b;
  }
  void give_buffer(std::unique_ptr<char[]> b) {
    if (b && free_buffers.size() < 64) free_buffers.push_back(std::move(b));
  }
  // The generation to use for the next request (refreshed when the state's version moved).
  const std::shared_ptr<const Generation>& generation(const GatewayState& state) {
    const auto v = state.version();
    if (v != gen_version) {
      gen = state.current();
      gen_version = v;
    }
    return gen;
  }
};

// Open client connections per client address, shared by the workers (sharded locks; touched
// once when a connection opens and once when it closes, never per request).
class PerIpConnections {
 public:
  // Counts one more connection of `ip`; false (nothing counted) when it has `cap` already.
  bool acquire(const std::string& ip, std::size_t cap) {
    auto& sh = shard(ip);
    std::lock_guard lock(sh.mu);
    auto& n = sh.count[ip];
    if (n >= cap) {
      if (n == 0) sh.count.erase(ip);
      return false;
    }
    ++n;
    return true;
  }
  void release(const std::string& ip) {
    auto& sh = shard(ip);
    std::lock_guard lock(sh.mu);
    const auto it = sh.count.find(ip);
    if (it != sh.count.end() && --it->second == 0) sh.count.erase(it);
  }

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::size_t> count;
  };
  Shard& shard(const std::string& ip) { return shards_[std::hash<std::string>{}(ip) % 16]; }
  std::array<Shard, 16> shards_;
};

// One connection's place in PerIpConnections, given back on destruction.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() {
    if (table_) table_->release(ip_);
  }
  bool acquire(PerIpConnections& table, const std::string& ip, std::size_t cap) {
    if (!table.acquire(ip, cap)) return false;
    table_ = &table;
    ip_ = ip;
    return true;
  }

 private:
  PerIpConnections* table_ = nullptr;
  std::string ip_;
};

struct Shared {
  ProxyOptions options;
  ProxyDeps deps;
  std::string health_body;  // the gateway's own /health
  // Bytes of request bodies held in memory by all workers (limits.body_buffer_bytes bounds it).
  std::shared_ptr<std::atomic<std::int64_t>> body_bytes =
      std::make_shared<std::atomic<std::int64_t>>(0);
  std::shared_ptr<PerIpConnections> per_ip_table = std::make_shared<PerIpConnections>();
  // Connections closed at once for the per-IP cap; accept pauses for lack of descriptors.
  std::shared_ptr<std::atomic<std::uint64_t>> refused_per_ip =
      std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<std::atomic<std::uint64_t>> accept_pauses =
      std::make_shared<std::atomic<std::uint64_t>>(0);
};

// One request's share of Shared::body_bytes, released on destruction. Not thread-safe (one
// request); the counter it updates is.
class BodyReservation {
 public:
  explicit BodyReservation(std::atomic<std::int64_t>& used) : used_(used) {}
  ~BodyReservation() {
    if (held_ > 0) used_.fetch_sub(held_, std::memory_order_relaxed);
  }
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  // Grows the reservation to `bytes`; false (nothing taken) when the total would pass `budget`.
  bool grow_to(std::int64_t bytes, std::int64_t budget) {
    if (bytes <= held_) return true;
    const std::int64_t add = bytes - held_;
    if (used_.fetch_add(add, std::memory_order_relaxed) + add > budget) {
      used_.fetch_sub(add, std::memory_order_relaxed);
      return false;
    }
    held_ = bytes;
    return true;
  }

 private:
  std::atomic<std::int64_t>& used_;
  std::int64_t held_ = 0;
};

// Serves one client connection until it closes; with `tls`, after a server handshake on it.
Task<> run_connection(Worker& w, Shared& shared, IoSocket socket,
                      std::optional<TlsHandoff> tls = std::nullopt);

}  // namespace enkisys::gateway::detail
