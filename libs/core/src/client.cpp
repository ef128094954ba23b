#include "enkisys/core/client.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <filesystem>
#include <map>
#include <mutex>

namespace enkisys::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// getaddrinfo() cannot be interrupted (cancelling Asio's resolver still waits for it), so a
// lookup runs detached with its own state and the caller waits on a timer only: a DNS server
// that never answers costs the connect timeout, not the resolver's retries.
struct Lookup {
  explicit Lookup(const asio::strand<asio::any_io_executor>& s) : resolver(s), timer(s) {}
  tcp::resolver resolver;
  asio::steady_timer timer;
  std::mutex mu;  // the results may arrive after the waiter gave up
  bool done = false;
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

// Runs on the lookup's strand; returns when the lookup is done or `limit` has passed.
asio::awaitable<void> resolve_with_deadline(std::shared_ptr<Lookup> lookup, std::string host,
                                            std::string port, std::chrono::milliseconds limit) {
  lookup->timer.expires_after(limit);
  lookup->resolver.async_resolve(
      host, port,
      [lookup](const boost::system::error_code& ec, const tcp::resolver::results_type& rs) {
        std::lock_guard lock(lookup->mu);
        lookup->done = true;
        lookup->ec = ec;
        for (const auto& r : rs) lookup->endpoints.push_back(r.endpoint());
        lookup->timer.cancel();
      });
  co_await lookup->timer.async_wait(kTuple);
}

struct Target {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
  std::string path_and_query;
  std::string key() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

std::optional<Target> parse_target(std::string_view url, std::string* why) {
  auto r = boost::urls::parse_absolute_uri(url);
  if (!r) {
    *why = "not an absolute URL";
    return std::nullopt;
  }
  Target t;
  const auto scheme = r->scheme();
  if (beast::iequals(scheme, "http")) {
    t.tls = false;
  } else if (beast::iequals(scheme, "https")) {
    t.tls = true;
  } else {
    *why = "scheme must be http or https";
    return std::nullopt;
  }
  if (r->has_userinfo()) {
    *why = "credentials in URLs are not accepted";
    return std::nullopt;
  }
  t.host = r->encoded_host();  // for IPv6 literals encoded_host keeps brackets
  if (!t.host.empty() && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
  if (t.host.empty()) {
    *why = "URL has no host";
    return std::nullopt;
  }
  t.port = r->has_port() ? std::string(r->port()) : (t.tls ? "443" : "80");
  t.host_header = std::string(r->encoded_host_and_port());
  t.path_and_query = std::string(r->encoded_path());
  if (t.path_and_query.empty()) t.path_and_query = "/";
  if (r->has_query()) t.path_and_query += "?" + std::string(r->encoded_query());
  return t;
}

bool cancelled(const asio::cancellation_state& s) {
  return s.cancelled() != asio::cancellation_type::none;
}

// Why an operation failed: the cancellation of send() first, then a deadline, else `code`.
ClientError failure(bool stopped, error_code ec, ClientError::Code code, std::string what) {
  if (stopped) return ClientError{ClientError::Code::kCancelled, "request cancelled"};
  if (ec == beast::error::timeout) code = ClientError::Code::kTimeout;
  return ClientError{code, std::move(what)};
}

bool idempotent(http::verb v) {
  return v == http::verb::get || v == http::verb::head || v == http::verb::options ||
         v == http::verb::put || v == http::verb::delete_;
}
}  // namespace

std::string_view ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return {};
}

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*secure); }
};

struct HttpClient::Impl {
  std::size_t max_idle;
  mutable std::mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  std::once_flag tls_once;
  std::unique_ptr<ssl::context> tls_ctx;  // set once by tls()

  explicit Impl(std::size_t m) : max_idle(m) {}

  // The TLS context with the system's trust store, made at the first https request: a client
  // that only speaks http (a service on the stage network) neither parses the ~150 CA
  // certificates nor keeps them (~1 MB resident with the code that reads them).
  ssl::context& tls() {
    std::call_once(tls_once, [this] {
      tls_ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
      tls_ctx->set_verify_mode(ssl::verify_peer);
      tls_ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
      error_code ec;
      tls_ctx->set_default_verify_paths(ec);
      if (std::filesystem::exists("/etc/ssl/certs/ca-certificates.crt")) {
        tls_ctx->load_verify_file("/etc/ssl/certs/ca-certificates.crt", ec);
      }
    });
    return *tls_ctx;
  }

  std::unique_ptr<Connection> take(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }
  void give(const std::string& key, std::unique_ptr<Connection> c) {
    std::lock_guard lock(mu);
    auto& v = idle[key];
    if (v.size() < max_idle) v.push_back(std::move(c));
  }

  asio::awaitable<std::unique_ptr<Connection>> connect(const Target& t, const ClientOptions& o,
                                                       const EndpointVetter& vetter,
                                                       ClientError* err) {
    // I/O objects live on the caller's executor, so the client needs no io_context of its own.
    auto ex = co_await asio::this_coro::executor;
    // Timer and resolver live on a strand (the caller's io_context may run on several threads).
    const auto strand = asio::make_strand(ex);
    auto lookup = std::make_shared<Lookup>(strand);
    co_await asio::co_spawn(strand,
                            resolve_with_deadline(lookup, t.host, t.port, o.connect_timeout),
                            asio::use_awaitable);
    std::unique_lock lock(lookup->mu);
    if (cancelled(co_await asio::this_coro::cancellation_state)) {
      *err = {ClientError::Code::kCancelled, "request cancelled"};
      co_return nullptr;
    }
    if (!lookup->done) {
      *err = {ClientError::Code::kTimeout, "resolving " + t.host + " timed out"};
      co_return nullptr;
    }
    if (lookup->ec) {
      *err = {ClientError::Code::kResolve,
              "cannot resolve " + t.host + ": " + lookup->ec.message()};
      co_return nullptr;
    }
    std::vector<tcp::endpoint> eps = std::move(lookup->endpoints);
    lock.unlock();
    if (vetter) {
      if (auto why = vetter(t.host, eps)) {
        *err = {ClientError::Code::kRefused, *why};
        co_return nullptr;
      }
    }
    auto c = std::make_unique<Connection>();
    if (t.tls) {
      c->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, tls());
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(ex);
    }
    auto& low = c->lowest();
    low.expires_after(o.connect_timeout);
    auto [cec, ep] = co_await low.async_connect(eps, kTuple);
    if (cec) {
      const bool stopped = cancelled(co_await asio::this_coro::cancellation_state);
      *err = failure(stopped, cec, ClientError::Code::kConnect,
                     "cannot connect to " + t.host + ":" + t.port + ": " + cec.message());
      co_return nullptr;
    }
    low.socket().set_option(tcp::no_delay(true), cec);
    if (t.tls) {
      // SSL_set_tlsext_host_name() is a macro with a C cast; this is its expansion.
      if (SSL_ctrl(c->secure->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                   TLSEXT_NAMETYPE_host_name, const_cast<char*>(t.host.c_str())) != 1) {
        *err = {ClientError::Code::kTls, "cannot set TLS server name"};
        co_return nullptr;
      }
      c->secure->set_verify_callback(ssl::host_name_verification(t.host));
      auto [hec] = co_await c->secure->async_handshake(ssl::stream_base::client, kTuple);
      if (hec) {
        const bool stopped = cancelled(co_await asio::this_coro::cancellation_state);
        *err = failure(stopped, hec, ClientError::Code::kTls,
                       "TLS handshake with " + t.host + " failed: " + hec.message());
        co_return nullptr;
      }
    }
    co_return c;
  }

  // Sends `req` and reads the answer: buffered, or handed to o.on_body piece by piece.
  // The bool: the connection may be pooled.
  template <typename Stream>
  asio::awaitable<std::pair<ClientResult, bool>> exchange(Stream& s, beast::tcp_stream& low,
                                                          Request& req, const ClientOptions& o) {
    using Pair = std::pair<ClientResult, bool>;
    const auto deadline = std::chrono::steady_clock::now() + o.timeout;
    low.expires_at(deadline);
    auto [wec, wn] = co_await http::async_write(s, req, kTuple);
    if (wec) {
      const bool stopped = cancelled(co_await asio::this_coro::cancellation_state);
      co_return Pair(failure(stopped, wec, ClientError::Code::kProtocol,
                             "sending request failed: " + wec.message()),
                     false);
    }
    // Sent: only a retried idempotent request needs its body again, so a long exchange (a
    // streamed answer) does not hold it.
    if (!idempotent(req.method())) std::string().swap(req.body());
    beast::flat_buffer buf;
    if (o.on_body) co_return co_await stream_body(s, low, buf, req, o, deadline);
    http::response_parser<http::string_body> parser;
    parser.body_limit(o.max_response_bytes);
    parser.header_limit(64 * 1024);
    if (req.method() == http::verb::head) parser.skip(true);
    if (auto err = co_await read_head(s, low, buf, parser, o, deadline,
                                      first_byte_deadline(o, deadline), false)) {
      co_return Pair(std::move(*err), false);
    }
    auto [rec, rn] = co_await http::async_read(s, buf, parser, kTuple);
    if (rec) {
      if (rec == http::error::body_limit) {
        co_return Pair(
            ClientError{ClientError::Code::kTooLarge,
                        "response exceeds " + std::to_string(o.max_response_bytes) + " bytes"},
            false);
      }
      const bool stopped = cancelled(co_await asio::this_coro::cancellation_state);
      co_return Pair(failure(stopped, rec, ClientError::Code::kProtocol,
                             "reading response failed: " + rec.message()),
                     false);
    }
    auto& res = parser.get();
    ClientResponse r = head_of(res);
    r.body = std::move(res.body());
    const bool reusable = res.keep_alive() && buf.size() == 0;
    co_return Pair(ClientResult(std::move(r)), reusable);
  }

  // Reads the response head. With `first_byte` (first_byte_deadline()) and `until_body`, the
  // first-byte deadline stays set after the head (the caller resets it at the first body byte).
  template <typename Stream, typename Parser>
  asio::awaitable<std::optional<ClientError>> read_head(
      Stream& s, beast::tcp_stream& low, beast::flat_buffer& buf, Parser& parser,
      const ClientOptions& o, std::chrono::steady_clock::time_point deadline, bool first_byte,
      bool until_body) {
    if (first_byte) low.expires_after(o.first_byte_timeout);
    auto [hec, hn] = co_await http::async_read_header(s, buf, parser, kTuple);
    if (hec || !first_byte || !until_body) low.expires_at(deadline);
    if (!hec) co_return std::nullopt;
    if (hec == http::error::body_limit) {  // a Content-Length above the cap
      co_return ClientError{ClientError::Code::kTooLarge,
                            "response exceeds " + std::to_string(o.max_response_bytes) + " bytes"};
    }
    std::string what = "reading response failed: " + hec.message();
    if (first_byte && hec == beast::error::timeout) {
      what = "no response within " + std::to_string(o.first_byte_timeout.count()) + " ms";
    }
    const bool stopped = cancelled(co_await asio::this_coro::cancellation_state);
    co_return failure(stopped, hec, ClientError::Code::kProtocol, std::move(what));
  }

  template <typename Stream>
  asio::awaitable<std::pair<ClientResult, bool>> stream_body(
      Stream& s, beast::tcp_stream& low, beast::flat_buffer& buf, const Request& req,
      const ClientOptions& o, std::chrono::steady_clock::time_point deadline) {
    using Pair = std::pair<ClientResult, bool>;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(64 * 1024);
    if (req.method() == http::verb::head) parser.skip(true);
    // The first-byte deadline lasts until the first byte of the body (a server that sends its
    // head at once and then nothing is as silent as one that sends nothing).
    bool awaiting_body = first_byte_deadline(o, deadline);
    if (auto err = co_await read_head(s, low, buf, parser, o, deadline, awaiting_body, true)) {
      co_return Pair(std::move(*err), false);
    }
    ClientResponse r = head_of(parser.get());
    // In the coroutine frame: one per streamed answer in flight, which may be held open for
    // minutes; SSE pieces are small, so 1 KiB reads them whole.
    std::array<char, 1024> piece{};
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      auto [ec, n] = co_await http::async_read_some(s, buf, parser, kTuple);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        const bool stopped = cancelled(co_await asio::this_coro::cancellation_state);
        std::string what = "reading response failed: " + ec.message();
        if (awaiting_body && ec == beast::error::timeout) {
          what = "no response within " + std::to_string(o.first_byte_timeout.count()) + " ms";
        }
        co_return Pair(failure(stopped, ec, ClientError::Code::kProtocol, std::move(what)), false);
      }
      const std::size_t got = piece.size() - parser.get().body().size;
      if (awaiting_body && (got > 0 || parser.is_done())) {
        awaiting_body = false;
        low.expires_at(deadline);
      }
      if (got > 0 && !o.on_body(std::string_view(piece.data(), got))) {
        error_code ignored;
        low.socket().close(ignored);  // the rest of the body is not wanted
        co_return Pair(ClientResult(std::move(r)), false);
      }
    }
    const bool reusable = parser.get().keep_alive() && buf.size() == 0;
    co_return Pair(ClientResult(std::move(r)), reusable);
  }

  // Whether o.first_byte_timeout applies (set, and shorter than the whole exchange's deadline).
  static bool first_byte_deadline(const ClientOptions& o,
                                  std::chrono::steady_clock::time_point deadline) {
    return o.first_byte_timeout.count() > 0 &&
           std::chrono::steady_clock::now() + o.first_byte_timeout < deadline;
  }

  template <typename Message>
  static ClientResponse head_of(const Message& res) {
    ClientResponse r;
    r.status = res.result_int();
    for (const auto& f : res)
      r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    return r;
  }
};

HttpClient::HttpClient(std::size_t max_idle_per_host)
    : impl_(std::make_shared<Impl>(max_idle_per_host)) {}
HttpClient::~HttpClient() = default;

std::size_t HttpClient::idle_connections() const {
  std::lock_guard lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& [k, v] : impl_->idle) n += v.size();
  return n;
}

void HttpClient::close_idle() {
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  {
    std::lock_guard lock(impl_->mu);
    idle.swap(impl_->idle);
  }
  // Destroyed here, outside the lock: each closes its socket.
}

asio::awaitable<ClientResult> HttpClient::send(ClientRequest request, ClientOptions options,
                                               EndpointVetter vetter) {
  // An operation started after a cancellation throws operation_aborted (asio's default for
  // coroutines); it is the same outcome as one that was aborted.
  try {
    co_return co_await send_once(impl_, std::move(request), std::move(options), std::move(vetter));
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::operation_aborted) throw;
  }
  co_return ClientResult(ClientError{ClientError::Code::kCancelled, "request cancelled"});
}

asio::awaitable<ClientResult> HttpClient::send_once(
    std::shared_ptr<Impl> impl, ClientRequest request, ClientOptions options,
    EndpointVetter vetter) {  // keeps the pool alive across suspension
  std::string why;
  auto target = parse_target(request.url, &why);
  if (!target) {
    co_return ClientResult(ClientError{ClientError::Code::kBadUrl, "invalid URL: " + why});
  }
  Request req{request.method, target->path_and_query, 11};
  req.set(http::field::host, target->host_header);
  req.set(http::field::user_agent, "enkisys/" ENKISYS_VERSION);
  for (const auto& [k, v] : request.headers) {
    if (k.find_first_of("\r\n") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos) {
      co_return ClientResult(ClientError{ClientError::Code::kBadUrl, "header contains CR or LF"});
    }
    req.set(k, v);
  }
  req.body() = std::move(request.body);
  req.keep_alive(true);
  req.prepare_payload();

  // Vetted requests never share pooled connections with unvetted ones.
  const std::string key = target->key() + (vetter ? "|vetted" : "");
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> c = vetter ? nullptr : impl->take(key);
    const bool reused = c != nullptr;
    if (!c) {
      ClientError err;
      c = co_await impl->connect(*target, options, vetter, &err);
      if (!c) {
        co_return ClientResult(std::move(err));
      }
    }
    // (No co_await inside ?: — GCC 12 miscompiles that.)
    std::optional<std::pair<ClientResult, bool>> r;
    if (c->plain) {
      r = co_await impl->exchange(*c->plain, *c->plain, req, options);
    } else {
      r = co_await impl->exchange(*c->secure, beast::get_lowest_layer(*c->secure), req, options);
    }
    if (r->first.ok()) {
      if (r->second && !vetter) {
        c->lowest().expires_never();
        impl->give(key, std::move(c));
      }
      co_return std::move(r->first);
    }
    // A pooled connection the peer had closed: retry once on a fresh one if safe.
    if (!(reused && idempotent(request.method) &&
          r->first.error().code == ClientError::Code::kProtocol)) {
      co_return std::move(r->first);
    }
  }
  co_return ClientResult(ClientError{ClientError::Code::kProtocol, "connection closed by peer"});
}

}  // namespace enkisys::core
