// The TLS listener: accepts, then hands each connection to the ProxyServer (adopt_tls), whose
// worker does the handshake and serves it. See enkisys/gateway/tls.hpp.
#include <sys/socket.h>
#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "enkisys/gateway/proxy_server.hpp"
#include "enkisys/gateway/tls.hpp"

namespace enkisys::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kTok = asio::as_tuple(asio::use_awaitable);

struct FrontWorker {
  asio::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  bool stopping = false;
};

// The files of a TLS setting, as one comparable signature (inode, size, mtime of each).
std::string file_signature(const TlsOptions& o) {
  std::string sig;
  auto add = [&sig](const std::string& path) {
    if (path.empty()) return;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      sig += path + ":missing;";
      return;
    }
    sig += path + ":" + std::to_string(st.st_ino) + "," + std::to_string(st.st_size) + "," +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ";";
  };
  for (const auto& c : o.certificates) {
    add(c.chain_file);
    add(c.key_file);
  }
  add(o.client_ca_file);
  return sig;
}

}  // namespace

struct TlsFront::Impl {
  Impl(TlsOptions o, ProxyServer& p, LogFn l)
      : options(std::move(o)), proxy(p), log(std::move(l)) {}
  TlsOptions options;
  ProxyServer& proxy;
  LogFn log;
  std::vector<std::unique_ptr<FrontWorker>> workers;
  unsigned short bound_port = 0;
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> reloads{0};
  std::shared_ptr<TlsCounters> counters = std::make_shared<TlsCounters>();
  std::optional<asio::steady_timer> watch_timer;  // on workers[0]

  std::mutex mu;  // guards current and signature
  std::shared_ptr<const TlsContexts> current;
  std::string signature;

  std::shared_ptr<const TlsContexts> contexts() {
    std::lock_guard lock(mu);
    return current;
  }

  core::Status reload() {
    const std::string sig = file_signature(options);
    auto loaded = TlsContexts::load(options);
    std::lock_guard lock(mu);
    signature = sig;  // a broken file is not retried until it changes again
    if (!loaded) return core::unexpected(loaded.error());
    current = std::move(*loaded);
    reloads.fetch_add(1, std::memory_order_relaxed);
    return core::ok_status();
  }

  void note(const std::string& event, const std::string& detail) const {
    if (log) log(event, detail);
  }

  static asio::awaitable<void> accept_loop(Impl& self, FrontWorker& w) {
    for (;;) {
      auto [ec, sock] = co_await w.acceptor->async_accept(kTok);
      if (ec) {
        if (ec == asio::error::operation_aborted || w.stopping) co_return;
        asio::steady_timer pause(w.ioc, std::chrono::milliseconds(100));
        co_await pause.async_wait(kTok);
        continue;
      }
      error_code rec;
      const int fd = sock.release(rec);
      if (rec) continue;
      // The contexts of now: reloads change those of later handshakes only.
      self.proxy.adopt_tls(
          fd, TlsHandoff{self.contexts(), self.options.handshake_timeout, self.counters});
    }
  }

  static asio::awaitable<void> watch_loop(Impl& self) {
    for (;;) {
      self.watch_timer->expires_after(self.options.watch_interval);
      auto [ec] = co_await self.watch_timer->async_wait(kTok);
      if (ec || self.stopped) co_return;
      std::string known;
      {
        std::lock_guard lock(self.mu);
        known = self.signature;
      }
      if (file_signature(self.options) == known) continue;
      if (auto st = self.reload(); st) {
        self.note("tls certificates reloaded", "files changed");
      } else {
        self.note("tls reload failed, keeping the running certificates", st.error().message);
      }
    }
  }
};

TlsFront::TlsFront(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TlsFront::~TlsFront() {
  stop();
  join();
}

core::Expected<std::unique_ptr<TlsFront>> TlsFront::create(TlsOptions options, ProxyServer& proxy,
                                                           LogFn log) {
  auto impl = std::make_unique<Impl>(std::move(options), proxy, std::move(log));
  if (auto st = impl->reload(); !st) return core::unexpected(st.error());
  impl->reloads.store(0);
  return std::unique_ptr<TlsFront>(new TlsFront(std::move(impl)));
}

void TlsFront::listen() {
  const unsigned n = std::max(1u, impl_->options.threads);
  const auto addr = asio::ip::make_address(impl_->options.address);
  unsigned short port = impl_->options.port;
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<FrontWorker>();
    tcp::endpoint ep(addr, port);
    try {
      w->acceptor.emplace(w->ioc);
      w->acceptor->open(ep.protocol());
      w->acceptor->set_option(asio::socket_base::reuse_address(true));
      int one = 1;
      ::setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      w->acceptor->bind(ep);
      w->acceptor->listen(4096);
    } catch (const boost::system::system_error& e) {
      throw std::system_error(e.code(), "cannot listen (tls) on " + impl_->options.address + ":" +
                                            std::to_string(port));
    }
    port = w->acceptor->local_endpoint().port();
    impl_->workers.push_back(std::move(w));
  }
  impl_->bound_port = port;
}

unsigned short TlsFront::port() const {
  return impl_->bound_port;
}

void TlsFront::start() {
  if (impl_->workers.empty()) listen();
  for (auto& wp : impl_->workers) {
    asio::co_spawn(wp->ioc, Impl::accept_loop(*impl_, *wp), asio::detached);
  }
  if (impl_->options.watch_interval.count() > 0) {
    impl_->watch_timer.emplace(impl_->workers.front()->ioc);
    asio::co_spawn(impl_->workers.front()->ioc, Impl::watch_loop(*impl_), asio::detached);
  }
  for (auto& wp : impl_->workers) {
    FrontWorker& w = *wp;
    w.thread = std::thread([&w] { w.ioc.run(); });
  }
}

void TlsFront::stop() {
  if (impl_->stopped.exchange(true)) return;
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    FrontWorker& w = *impl_->workers[i];
    if (!w.thread.joinable()) continue;
    asio::post(w.ioc, [this, &w, i] {
      w.stopping = true;
      error_code ignored;
      if (w.acceptor) w.acceptor->close(ignored);
      if (i == 0 && impl_->watch_timer) impl_->watch_timer->cancel();
    });
  }
}

void TlsFront::join() {
  for (auto& w : impl_->workers) {
    if (w->thread.joinable()) w->thread.join();
  }
}

core::Status TlsFront::reload() {
  return impl_->reload();
}

std::uint64_t TlsFront::reloads() const {
  return impl_->reloads.load(std::memory_order_relaxed);
}

std::uint64_t TlsFront::handshakes() const {
  return impl_->counters->handshakes.load(std::memory_order_relaxed);
}

std::uint64_t TlsFront::failed_handshakes() const {
  return impl_->counters->failed.load(std::memory_order_relaxed);
}

}  // namespace enkisys::gateway
