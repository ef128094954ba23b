#include "enkisys/gateway/proxy_server.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <utility>

#include "worker.hpp"

namespace enkisys::gateway {

namespace asio = boost::asio;
using detail::Clock;
using detail::tcp;
using detail::Worker;

struct ProxyServer::Impl {
  explicit Impl(detail::Shared s) : shared(std::move(s)) {}
  detail::Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  unsigned short bound_port = 0;
  std::atomic<bool> stopped{false};
  std::chrono::milliseconds sweep_every{250};
  std::chrono::milliseconds accept_pause{100};
  std::atomic<unsigned> next_adopt{0};

  detail::Task<> accept_loop(Worker& w) {
    for (;;) {
      auto [ec, sock] = co_await w.acceptor->async_accept(detail::kTok);
      if (ec) {
        if (ec == asio::error::operation_aborted || w.stopping) co_return;
        // Out of descriptors (or kernel memory): the pending connection stays in the backlog
        // and accept would fail again at once. Pause instead of spinning; closing connections
        // free descriptors meanwhile.
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE ||
            ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
          shared.accept_pauses->fetch_add(1, std::memory_order_relaxed);
          detail::IoTimer pause(w.ioc.get_executor(), accept_pause);
          co_await pause.async_wait(detail::kTok);
        }
        continue;
      }
      asio::co_spawn(w.ioc, detail::run_connection(w, shared, std::move(sock)), asio::detached);
    }
  }

  detail::Task<> sweep_loop(Worker& w) {
    for (;;) {
      w.sweeper.expires_after(sweep_every);
      co_await w.sweeper.async_wait(detail::kTok);  // cancel = sweep now
      const auto now = Clock::now();
      const bool drain_over = w.stopping && now >= w.drain_deadline;
      for (auto* s = w.conns.next; s != &w.conns; s = s->next) {
        boost::system::error_code ignored;
        if (drain_over || (w.stopping && s->idle)) {
          if (s->upstream) s->upstream->close(ignored);
          if (s->client) s->client->close(ignored);
          continue;
        }
        if (s->deadline == Clock::time_point{} || now < s->deadline) continue;
        s->timed_out = true;
        s->deadline = {};
        if (s->upstream_phase) {
          if (s->upstream) s->upstream->cancel(ignored);
          if (s->resolver) s->resolver->cancel();
        } else {
          if (s->upstream) s->upstream->close(ignored);
          if (s->client) s->client->close(ignored);
        }
      }
      if (w.stopping && w.connection_count.load(std::memory_order_relaxed) == 0) co_return;
    }
  }

  void stop_worker(Worker& w) {
    w.stopping = true;
    w.drain_deadline = Clock::now() + shared.options.drain_timeout;
    boost::system::error_code ignored;
    if (w.acceptor) w.acceptor->close(ignored);
    w.sweeper.cancel();  // sweep now: closes idle connections
  }
};

ProxyServer::ProxyServer(ProxyOptions options, ProxyDeps deps)
    : impl_(std::make_unique<Impl>(detail::Shared{std::move(options), deps, {}})) {
  impl_->shared.health_body =
      std::string("{\"status\":\"ok\",\"service\":\"gateway\",\"version\":\"") + ENKISYS_VERSION +
      "\",\"checks\":{\"config\":{\"ok\":true}}}";
  const auto gen = deps.state.current();
  if (gen) {
    const auto& L = gen->config.limits;
    auto m =
        std::min({L.header_timeout, L.idle_timeout, L.body_timeout, L.upstream_connect_timeout});
    for (const auto& s : gen->stages) {
      for (const auto& r : s.routes) m = std::min(m, r.timeout);
    }
    impl_->sweep_every =
        std::clamp(m / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
  }
}

ProxyServer::~ProxyServer() {
  stop();
  join();
  // Pooled upstream sockets belong to the workers' io_contexts: drop them first.
  for (const auto& up : impl_->shared.deps.state.upstreams().all()) {
    for (auto& w : impl_->workers) up->idle(w->index).clear();
  }
}

void ProxyServer::listen() {
  const unsigned n = std::max(1u, impl_->shared.options.threads);
  const auto addr = asio::ip::make_address(impl_->shared.options.address);
  unsigned short port = impl_->shared.options.port;
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(i);
    tcp::endpoint ep(addr, port);
    try {
      w->acceptor.emplace(w->ioc.get_executor());
      w->acceptor->open(ep.protocol());
      w->acceptor->set_option(asio::socket_base::reuse_address(true));
      int one = 1;
      ::setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      w->acceptor->bind(ep);
      w->acceptor->listen(4096);
    } catch (const boost::system::system_error& e) {
      throw std::system_error(e.code(), "cannot listen on " + impl_->shared.options.address + ":" +
                                            std::to_string(port));
    }
    port = w->acceptor->local_endpoint().port();  // port 0: the others share the chosen one
    impl_->workers.push_back(std::move(w));
  }
  impl_->bound_port = port;
}

unsigned short ProxyServer::port() const {
  return impl_->bound_port;
}

void ProxyServer::start() {
  if (impl_->workers.empty()) listen();
  for (auto& wp : impl_->workers) {
    Worker& w = *wp;
    asio::co_spawn(w.ioc, impl_->accept_loop(w), asio::detached);
    asio::co_spawn(w.ioc, impl_->sweep_loop(w), asio::detached);
    w.thread = std::thread([&w] { w.ioc.run(); });
  }
}

void ProxyServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  for (auto& wp : impl_->workers) {
    Worker& w = *wp;
    if (!w.thread.joinable()) continue;
    asio::post(w.ioc, [this, &w] { impl_->stop_worker(w); });
  }
}

void ProxyServer::join() {
  for (auto& w : impl_->workers) {
    if (w->thread.joinable()) w->thread.join();
  }
}

namespace {

// A descriptor closed on destruction unless released (adopt's handler may never run).
struct OwnedFd {
  int fd = -1;
  explicit OwnedFd(int f) : fd(f) {}
  OwnedFd(OwnedFd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  OwnedFd& operator=(OwnedFd&&) = delete;
  OwnedFd(const OwnedFd&) = delete;
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

}  // namespace

void ProxyServer::adopt_tls(int fd, TlsHandoff handoff) {
  OwnedFd owned(fd);
  Impl& impl = *impl_;
  if (impl.workers.empty() || impl.stopped.load()) return;
  Worker& w =
      *impl.workers[impl.next_adopt.fetch_add(1, std::memory_order_relaxed) % impl.workers.size()];
  asio::post(w.ioc, [&impl, &w, owned = std::move(owned), h = std::move(handoff)]() mutable {
    if (w.stopping) return;
    IoSocket s(w.ioc.get_executor());
    boost::system::error_code ec;
    s.assign(tcp::v4(), owned.fd, ec);
    if (ec) return;
    owned.release();
    asio::co_spawn(w.ioc, detail::run_connection(w, impl.shared, std::move(s), std::move(h)),
                   asio::detached);
  });
}

std::int64_t ProxyServer::body_bytes_in_flight() const {
  return impl_->shared.body_bytes->load(std::memory_order_relaxed);
}

std::uint64_t ProxyServer::accept_pauses() const {
  return impl_->shared.accept_pauses->load(std::memory_order_relaxed);
}

std::uint64_t ProxyServer::refused_per_ip() const {
  return impl_->shared.refused_per_ip->load(std::memory_order_relaxed);
}

std::size_t ProxyServer::connections() const {
  std::size_t n = 0;
  for (const auto& w : impl_->workers) n += w->connection_count.load(std::memory_order_relaxed);
  return n;
}

}  // namespace enkisys::gateway
