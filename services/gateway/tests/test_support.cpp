#include "test_support.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <random>

#include "enkisys/security/jwt.hpp"
#include "enkisys/security/keys.hpp"

namespace enkisys::gateway::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

FakeUpstream::FakeUpstream(std::string name, unsigned short port)
    : name_(std::move(name)), acceptor_(ioc_) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s(ioc_);
      acceptor_.accept(s, ec);
      if (ec) return;
      std::lock_guard lock(mu_);
      if (stopping_) return;
      auto sp = std::make_shared<tcp::socket>(std::move(s));
      conns_.push_back(sp);
      // The socket stays in conns_ so that the destructor can shut it down under a blocked read.
      conn_threads_.emplace_back([this, sp] {
        serve(*sp);
        boost::system::error_code ignored;
        sp->shutdown(tcp::socket::shutdown_both, ignored);  // the peer sees the close at once
      });
    }
  });
}

FakeUpstream::~FakeUpstream() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    released_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& c : conns_) {
      c->shutdown(tcp::socket::shutdown_both, ec);
    }
  }
  cv_.notify_all();
  // Unblock accept() by connecting once.
  try {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  } catch (...) {
  }
  accept_thread_.join();
  for (auto& t : conn_threads_) t.join();
}

void FakeUpstream::release_stream() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  cv_.notify_all();
}

void FakeUpstream::serve(tcp::socket& sock) {
  beast::flat_buffer buf;
  boost::system::error_code ec;
  for (int n = 0; n < 10000; ++n) {
    http::request_parser<http::string_body> p;
    p.body_limit(64 << 20);
    http::read(sock, buf, p, ec);
    if (ec) return;
    auto req = p.release();
    // The gateway's active health probes are counted apart from proxied traffic.
    if (req[http::field::user_agent] == "enkisys-gateway-health") {
      health_probes_++;
    } else {
      requests_++;
      if (n == 0) connections_++;
    }
    const std::string target(req.target());
    if (beast::websocket::is_upgrade(req)) {
      beast::websocket::stream<tcp::socket&> ws(sock);
      ws.accept(req, ec);
      if (ec) return;
      for (int i = 0; i < 1000; ++i) {
        beast::flat_buffer m;
        ws.read(m, ec);
        if (ec) return;
        ws.text(ws.got_text());
        ws.write(m.data(), ec);
        if (ec) return;
      }
      return;
    }
    if (target == "/close") return;
    StringResponse res{http::status::ok, req.version()};
    res.keep_alive(req.keep_alive());
    if (target.rfind("/status/", 0) == 0) {
      res.result(static_cast<unsigned>(std::stoi(target.substr(8))));
      res.body() = "status " + target.substr(8);
    } else if (target.rfind("/slow", 0) == 0) {
      const auto pos = target.find("ms=");
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(target.substr(pos + 3))));
      res.body() = "slow";
    } else if (target == "/health") {
      res.result(static_cast<unsigned>(health_status_.load()));
      res.body() = "{\"status\":\"ok\",\"version\":\"1.2.3\"}";
    } else if (target == "/stream") {
      http::response<http::empty_body> h{http::status::ok, 11};
      h.set(http::field::content_type, "text/event-stream");
      h.chunked(true);
      http::response_serializer<http::empty_body> sr{h};
      http::write_header(sock, sr, ec);
      if (ec) return;
      asio::write(sock, http::make_chunk(asio::buffer(std::string_view("first\n"))), ec);
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(5), [&] { return released_; });
      }
      asio::write(sock, http::make_chunk(asio::buffer(std::string_view("second\n"))), ec);
      asio::write(sock, http::make_chunk_last(), ec);
      continue;
    } else {
      boost::json::object headers;
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        headers[name] = std::string(f.value());
      }
      res.set(http::field::content_type, "application/json");
      res.body() =
          boost::json::serialize(boost::json::object{{"method", std::string(req.method_string())},
                                                     {"target", target},
                                                     {"headers", headers},
                                                     {"body", req.body()},
                                                     {"name", name_}});
    }
    res.prepare_payload();
    http::write(sock, res, ec);
    if (ec || !req.keep_alive()) return;
  }
}

GatewayConfig parse_or_die(const std::string& yaml) {
  auto c = load_config_text(yaml);
  if (!c.ok()) {
    ADD_FAILURE() << c.error().message;
    throw std::runtime_error(c.error().message);
  }
  return std::move(c.value());
}

Gateway::Gateway(const std::string& yaml, unsigned threads, const security::Clock* clock)
    : Gateway(yaml, GatewayOptions{threads, clock, nullptr, true}) {}

Gateway::Gateway(const std::string& yaml, GatewayOptions options) {
  const unsigned threads = options.threads;
  telemetry_ = std::make_unique<Telemetry>(metrics_, false);
  upstreams_ = std::make_unique<UpstreamRegistry>(threads);
  Verifiers::Options vopt;
  if (options.clock) vopt.clock = options.clock;
  if (options.fetch) vopt.fetch = options.fetch;
  verifiers_ = std::make_unique<Verifiers>(vopt);
  state_ = std::make_unique<GatewayState>(*upstreams_,
                                          [this](Generation& g) -> std::optional<std::string> {
                                            if (auto e = verifiers_->attach(g)) return e;
                                            telemetry_->prepare(g);
                                            return std::nullopt;
                                          });
  auto cfg = parse_or_die(yaml);
  if (auto err = state_->apply(std::move(cfg))) throw std::runtime_error(*err);
  if (options.fetch_keys_first) {
    if (auto err = verifiers_->refresh_all_now(); !err.empty()) throw std::runtime_error(err);
  }
  limiter_ = std::make_unique<RateLimiter>();
  ProxyOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.threads = threads;
  o.drain_timeout = std::chrono::milliseconds(2000);
  o.https_redirect_port = options.https_redirect_port;
  server_ = std::make_unique<ProxyServer>(o, ProxyDeps{*state_, *limiter_, telemetry_.get()});
  server_->listen();
  server_->start();
  health_ = std::make_unique<HealthChecker>(*state_);
  health_->start();
}

Authenticator* Gateway::auth(const std::string& stage) {
  const auto gen = state_->current();
  for (const auto& st : gen->stages) {
    if (st.name == stage) return st.auth.get();  // kept alive by the verifiers
  }
  return nullptr;
}

Gateway::~Gateway() {
  health_->stop();
  server_->stop();
  server_->join();
  server_.reset();
}

StringResponse request(unsigned short port, http::verb method, const std::string& target,
                       const std::map<std::string, std::string>& headers, const std::string& body) {
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::seconds(10));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "gw.test");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == http::verb::post || method == http::verb::put)
    req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer b;
  http::response_parser<http::string_body> p;
  p.body_limit(64 << 20);
  if (method == http::verb::head) p.skip(true);
  http::read(s, b, p);
  return p.release();
}

std::string raw_exchange(unsigned short port, const std::string& bytes, int timeout_ms) {
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::milliseconds(timeout_ms));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  // Sync reads ignore tcp_stream deadlines: bound them with SO_RCVTIMEO.
  const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(s.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  boost::system::error_code ec;
  asio::write(s, asio::buffer(bytes), ec);
  std::string out;
  char data[4096];
  for (int i = 0; i < 10000; ++i) {
    const auto n = s.read_some(asio::buffer(data), ec);
    out.append(data, n);
    if (ec) break;
  }
  return out;
}

std::string write_secret_file() {
  static std::atomic<int> counter{0};
  const std::string path = ::testing::TempDir() + "gw_secret_" + std::to_string(::getpid()) + "_" +
                           std::to_string(counter++);
  std::ofstream(path) << "0123456789abcdef0123456789abcdef-test-secret";
  return path;
}

std::string hs256_token(const std::string& secret_path, const std::string& sub,
                        const std::vector<std::string>& roles, long long exp_offset_s,
                        const std::string& iss) {
  std::ifstream in(secret_path);
  std::string secret;
  std::getline(in, secret);
  auto key = security::SigningKey::from_secret(secret, "hs256");
  boost::json::array r;
  for (const auto& x : roles) r.push_back(boost::json::string(x));
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return security::sign(
      key.value(),
      boost::json::object{
          {"sub", sub}, {"roles", r}, {"iss", iss}, {"exp", now + exp_offset_s}, {"iat", now}});
}

}  // namespace enkisys::gateway::testing
