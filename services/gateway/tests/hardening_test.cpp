// The attacks of a black-box run against the gateway, each reproduced on loopback: strict
// request parsing, identity claims that would split headers, upstream framing in doubt, bodies
// an upstream refuses, stalled uploads, idle connections and descriptor exhaustion.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>

#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Waits (bounded) until `done` holds.
bool eventually(const std::function<bool()>& done, milliseconds limit = milliseconds(5000)) {
  const auto until = SteadyClock::now() + limit;
  for (int i = 0; i < 100000 && SteadyClock::now() < until; ++i) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

// An upstream speaking raw HTTP/1.1 bytes: `answer(socket, method, target, content_length)` is
// called for every request head (the body, if any, is left for it to read).
class RawUpstream {
 public:
  using Answer = std::function<bool(tcp::socket&, const std::string& method,
                                    const std::string& target, std::size_t content_length)>;
  explicit RawUpstream(Answer answer, int rcvbuf = 0) : answer_(std::move(answer)), acc_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acc_.open(ep.protocol());
    if (rcvbuf > 0) acc_.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
    acc_.bind(ep);
    acc_.listen();
    port_ = acc_.local_endpoint().port();
    thread_ = std::thread([this] {
      for (int i = 0; i < 1000; ++i) {
        auto s = std::make_shared<tcp::socket>(ioc_);
        boost::system::error_code ec;
        acc_.accept(*s, ec);
        if (ec || stop_) return;
        std::lock_guard lock(mu_);
        socks_.push_back(s);
        conns_.emplace_back([this, s] {
          serve(*s);
          std::lock_guard closing(mu_);  // the destructor shuts sockets down under mu_
          boost::system::error_code ignored;
          s->close(ignored);  // unread request bytes make this a reset, as with a real server
        });
      }
    });
  }
  ~RawUpstream() {
    stop_ = true;
    {
      std::lock_guard lock(mu_);
      boost::system::error_code ec;
      for (auto& s : socks_) s->shutdown(tcp::socket::shutdown_both, ec);
    }
    try {
      tcp::socket s(ioc_);
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    } catch (...) {
    }
    thread_.join();
    std::vector<std::thread> conns;
    {
      std::lock_guard lock(mu_);
      conns.swap(conns_);
    }
    for (auto& t : conns) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> stray_sent{0};

 private:
  void serve(tcp::socket& s) {
    std::string buf;
    char data[4096];
    for (int n = 0; n < 1000; ++n) {
      std::size_t end;
      int reads = 0;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos && reads++ < 1000) {
        boost::system::error_code ec;
        const auto k = s.read_some(asio::buffer(data), ec);
        if (ec) return;
        buf.append(data, k);
      }
      if (end == std::string::npos) return;
      const std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      const auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
      std::size_t length = 0;
      if (const auto cl = head.find("Content-Length: "); cl != std::string::npos)
        length = std::stoul(head.substr(cl + 16));
      if (!answer_(s, head.substr(0, sp1), head.substr(sp1 + 1, sp2 - sp1 - 1), length)) return;
      buf.erase(0, std::min(buf.size(), length));  // small bodies only (the answer read none)
    }
  }
  Answer answer_;
  asio::io_context ioc_;
  tcp::acceptor acc_;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<tcp::socket>> socks_;
  std::vector<std::thread> conns_;
};

void send_all(tcp::socket& s, std::string_view bytes) {
  boost::system::error_code ec;
  asio::write(s, asio::buffer(bytes), ec);
}

tcp::socket connect(asio::io_context& ioc, unsigned short port) {
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

StringResponse read_response(tcp::socket& s, beast::flat_buffer& b, bool head = false) {
  http::response_parser<http::string_body> p;
  if (head) p.skip(true);
  boost::system::error_code ec;
  http::read(s, b, p, ec);
  if (ec) return StringResponse{http::status::unknown, 11};
  return p.release();
}

std::string simple_config(const std::string& up, const std::string& limits,
                          const std::string& route_extra = "") {
  return replace_all(replace_all(replace_all(R"(
limits: {upstream_timeout_ms: 5000 LIMITS}
stages:
  dev:
    routes:
      - {prefix: /api, upstream: "{UP}" EXTRA}
)",
                                             "{UP}", up),
                                 " LIMITS", limits),
                     " EXTRA", route_extra);
}

// ---- 8: parsing strictness ------------------------------------------------------------------

TEST(StrictParsingTest, AmbiguousOrForbiddenRequestsAreRefusedAndNeverProxied) {
  FakeUpstream up;
  Gateway gw(simple_config(up.url(), ""));
  const std::string get = "GET /dev/api/x HTTP/1.1\r\n";
  const struct {
    std::string bytes;
    const char* status;
  } cases[] = {
      {get + "Host: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n", "400"},
      {get + "\r\n", "400"},                                       // HTTP/1.1 without Host
      {get + "Host: x\r\nHost: y\r\n\r\n", "400"},                 // two Hosts
      {"GET /dev/api/x#frag HTTP/1.1\r\nHost: x\r\n\r\n", "400"},  // fragment
      {"GET /dev/api/\xff HTTP/1.1\r\nHost: x\r\n\r\n", "400"},    // raw 0xFF
      {"POST /dev/api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n"
       "0\r\n\r\n",
       "400"},
      {"TRACE /dev/api/x HTTP/1.1\r\nHost: x\r\n\r\n", "405"},
      {"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", "405"},
  };
  for (const auto& c : cases) {
    const auto out = raw_exchange(gw.port(), c.bytes);
    EXPECT_EQ(out.rfind(std::string("HTTP/1.1 ") + c.status, 0), 0u) << c.bytes << "\n" << out;
    EXPECT_NE(out.find("\"request_id\""), std::string::npos) << out;
  }
  EXPECT_EQ(up.requests(), 0);
  // HTTP/1.0 may omit Host.
  EXPECT_EQ(raw_exchange(gw.port(), "GET /dev/api/x HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0),
            0u);
}

TEST(StrictParsingTest, ChunkedBodyFramedWithBareLfIs400AtOnce) {
  FakeUpstream up;
  Gateway gw(simple_config(up.url(), ", body_timeout_ms: 30000"));
  const auto t0 = SteadyClock::now();
  const auto out = raw_exchange(
      gw.port(),
      "POST /dev/api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
      10000);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_LT(SteadyClock::now() - t0, milliseconds(3000));
  EXPECT_EQ(up.requests(), 0);
}

// ---- 5: identity claims and upstream framing -------------------------------------------------

TEST(ClaimsTest, ClaimsThatWouldSplitTheForwardedHeadersAreRefused) {
  FakeUpstream up;
  const auto secret = write_secret_file();
  Gateway gw(replace_all(replace_all(R"(
jwt: {hs256_secret_file: "SECRET", issuer: test}
stages:
  dev:
    routes:
      - {prefix: /api, upstream: "{UP}", jwt: true}
)",
                                     "{UP}", up.url()),
                         "SECRET", secret));
  for (const auto& [sub, roles] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"u1\r\nX-Admin: yes", {}},
           {"u1", {"user\r\nX-Admin: yes"}},
           {"u1\n", {}},
           {"u1", {"user,admin"}},
       }) {
    const auto tok = hs256_token(secret, sub, roles);
    for (int i = 0; i < 2; ++i) {  // the second is a verification-cache hit
      const auto r = get(gw.port(), "/dev/api/x", {{"Authorization", "Bearer " + tok}});
      EXPECT_EQ(r.result_int(), 401) << sub;
      EXPECT_NE(r.body().find("invalid_claims"), std::string::npos) << r.body();
    }
  }
  EXPECT_EQ(up.requests(), 0);
  const auto ok = get(gw.port(), "/dev/api/x",
                      {{"Authorization", "Bearer " + hs256_token(secret, "u1", {"user"})}});
  EXPECT_EQ(ok.result_int(), 200);
}

TEST(UpstreamFramingTest, ConnectionsWithStrayBytesAreNeverReused) {
  // /headbody answers HEAD with a body; /overlong sends more than its Content-Length. Both send
  // the stray bytes a little after the head, as a separate segment.
  RawUpstream* self = nullptr;
  RawUpstream up(
      [&](tcp::socket& s, const std::string& method, const std::string& target, std::size_t) {
        if (target == "/api/headbody" || target == "/api/overlong") {
          send_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
          if (method != "HEAD") send_all(s, "ok");
          std::this_thread::sleep_for(milliseconds(20));  // the upstream's misbehaviour, delayed
          send_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");
          self->stray_sent++;
          return true;
        }
        send_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nright");
        return true;
      });
  self = &up;
  Gateway gw(simple_config(up.url(), ""));
  asio::io_context ioc;
  auto c = connect(ioc, gw.port());
  beast::flat_buffer b;
  int expected_stray = 0;
  for (const char* first : {"HEAD /dev/api/headbody", "GET /dev/api/overlong"}) {
    const bool head = std::string_view(first).substr(0, 4) == "HEAD";
    send_all(c, std::string(first) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(read_response(c, b, head).result_int(), 200) << first;
    ++expected_stray;
    ASSERT_TRUE(eventually([&] { return up.stray_sent.load() >= expected_stray; }));
    send_all(c, "GET /dev/api/plain HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto next = read_response(c, b);
    EXPECT_EQ(next.result_int(), 200) << first;
    EXPECT_EQ(next.body(), "right") << first;
  }
}

// ---- 3: a body the upstream refuses is the client's failure -----------------------------------

TEST(EarlyAnswerTest, UpstreamRefusingABigBodyAnswersTheClientAndIsNotEjected) {
  // Like auth: the gateway lets 10 MiB through this route, the upstream takes 64 KiB and
  // answers 413 at once (then closes, unread bytes and all).
  RawUpstream up(
      [](tcp::socket& s, const std::string&, const std::string&, std::size_t length) {
        if (length > 64 * 1024) {
          send_all(s,
                   "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: "
                   "close\r\n\r\ntoo large");
          return false;
        }
        send_all(s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        return true;
      },
      16 * 1024);
  Gateway gw(simple_config(up.url(),
                           ", max_body_bytes: 10485760, eject_after_failures: 2, "
                           "eject_for_ms: 60000"));
  const std::string big(8 << 20, 'x');
  for (int i = 0; i < 5; ++i) {
    const auto r = request(gw.port(), http::verb::post, "/dev/api/signup", {}, big);
    EXPECT_EQ(r.result_int(), 413) << i << " " << r.body();
    EXPECT_EQ(r.body(), "too large") << i;
  }
  const auto after = get(gw.port(), "/dev/api/login");
  EXPECT_EQ(after.result_int(), 200) << after.body();
}

TEST(EarlyAnswerTest, TheRoutesOwnLimitIsEnforcedBeforeForwarding) {
  FakeUpstream up;
  Gateway gw(simple_config(up.url(), ", max_body_bytes: 10485760", ", max_body_bytes: 1024"));
  // Declared: 413 at once, without reading the body.
  const auto out = raw_exchange(gw.port(),
                                "POST /dev/api/x HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                "5000000\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  std::string chunked = "POST /dev/api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) chunked += "190\r\n" + std::string(400, 'y') + "\r\n";
  EXPECT_EQ(raw_exchange(gw.port(), chunked).rfind("HTTP/1.1 413", 0), 0u);
  EXPECT_EQ(up.requests(), 0);
}

// ---- 4: stalled uploads hold a bounded amount of memory ---------------------------------------

long rss_kib() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

TEST(BodyBudgetTest, StalledUploadsStayWithinTheBudgetAndOthersAreServed) {
  FakeUpstream up;
  constexpr std::int64_t kBudget = 4 << 20;
  Gateway gw(simple_config(up.url(),
                           ", max_body_bytes: 1048576, body_timeout_ms: 20000, "
                           "body_buffer_bytes: " +
                               std::to_string(kBudget)));
  const long rss0 = rss_kib();
  asio::io_context ioc;
  std::vector<tcp::socket> uploads;
  const std::string part(900'000, 'z');  // of a declared 1,000,000: then the client stalls
  for (int i = 0; i < 40; ++i) {
    uploads.push_back(connect(ioc, gw.port()));
    send_all(uploads.back(),
             "POST /dev/api/up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + part);
  }
  // Four fit (4,000,000 of 4 MiB); the other 36 are refused with 503 + Retry-After at once.
  int refused = 0;
  for (auto& s : uploads) {
    ::fcntl(s.native_handle(), F_SETFL, O_NONBLOCK);
  }
  std::vector<bool> answered(uploads.size(), false);
  ASSERT_TRUE(eventually([&] {
    for (std::size_t i = 0; i < uploads.size(); ++i) {
      char data[512];
      if (answered[i]) continue;
      const auto n = ::recv(uploads[i].native_handle(), data, sizeof data, 0);
      if (n > 0) {
        answered[i] = true;
        const std::string_view got(data, static_cast<std::size_t>(n));
        if (got.rfind("HTTP/1.1 503", 0) == 0 && got.find("Retry-After: 1") != got.npos) ++refused;
      }
    }
    return refused == 36;
  })) << refused;
  EXPECT_LE(gw.server().body_bytes_in_flight(), kBudget);
  EXPECT_EQ(gw.server().body_bytes_in_flight(), 4'000'000);
  // Others are served meanwhile.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(gw.port(), "/dev/api/ok").result_int(), 200);
  EXPECT_LT(rss_kib() - rss0, 16 * 1024) << "RSS grew by " << (rss_kib() - rss0) << " KiB";
  uploads.clear();  // the held uploads end: their budget comes back
  EXPECT_TRUE(eventually([&] { return gw.server().body_bytes_in_flight() == 0; }));
  EXPECT_EQ(up.requests(), 5);
}

// ---- 6: idle connections, per-client cap, descriptor exhaustion -------------------------------

TEST(IdleConnectionTest, AConnectionThatNeverSendsAByteIsClosedAfterTheHeaderTimeout) {
  FakeUpstream up;
  Gateway gw(simple_config(up.url(), ", header_timeout_ms: 200, idle_timeout_ms: 60000"));
  const auto t0 = SteadyClock::now();
  const auto out = raw_exchange(gw.port(), "", 10000);
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_LT(SteadyClock::now() - t0, milliseconds(3000));
}

TEST(IdleConnectionTest, ConnectionsPerClientAreCapped) {
  FakeUpstream up;
  Gateway gw(simple_config(up.url(), ", max_connections_per_ip: 5"));
  asio::io_context ioc;
  std::vector<tcp::socket> held;
  for (int i = 0; i < 5; ++i) held.push_back(connect(ioc, gw.port()));
  ASSERT_TRUE(eventually([&] { return gw.server().connections() == 5; }));
  // The sixth is closed at once, without an answer.
  const auto t0 = SteadyClock::now();
  EXPECT_TRUE(raw_exchange(gw.port(), "GET /dev/api/x HTTP/1.1\r\nHost: x\r\n\r\n").empty());
  EXPECT_LT(SteadyClock::now() - t0, milliseconds(2000));
  EXPECT_GE(gw.server().refused_per_ip(), 1u);
  held.pop_back();
  ASSERT_TRUE(eventually([&] { return gw.server().connections() == 4; }));
  EXPECT_EQ(get(gw.port(), "/dev/api/x").result_int(), 200);
}

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs in a child process (a death test): lowers RLIMIT_NOFILE, fills the descriptor table,
// leaves connections in the gateway's backlog, and checks that the gateway does not spin.
// Exit code 0 = as expected; other codes name the failed step.
int descriptor_exhaustion_child() {
  Gateway gw(simple_config("http://127.0.0.1:9", ""));
  std::vector<int> clients, fillers;
  for (int i = 0; i < 8; ++i) clients.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const int probe = ::open("/dev/null", O_RDONLY);
  ::close(probe);
  lim.rlim_cur = static_cast<rlim_t>(probe + 64);
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return 10;
  for (int i = 0; i < 1000; ++i) {
    const int fd = ::open("/dev/null", O_RDONLY);
    if (fd < 0) break;
    fillers.push_back(fd);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(gw.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int fd : clients) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 11;
  }
  // The gateway cannot accept them. Over 500 ms it must not burn a core.
  const double cpu0 = cpu_seconds();
  const auto t0 = SteadyClock::now();
  while (SteadyClock::now() - t0 < milliseconds(500)) ::usleep(10'000);
  const double cpu = cpu_seconds() - cpu0;
  if (gw.server().accept_pauses() == 0) return 12;
  if (cpu > 0.2) return 13;
  for (int fd : fillers) ::close(fd);
  // Descriptors are back: the waiting clients are accepted and served.
  const std::string req = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (::send(clients[0], req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) return 14;
  const timeval tv{5, 0};
  ::setsockopt(clients[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char data[64] = {};
  if (::recv(clients[0], data, sizeof data - 1, 0) <= 0) return 15;
  if (std::string_view(data).rfind("HTTP/1.1 200", 0) != 0) return 16;
  for (int fd : clients) ::close(fd);
  return 0;
}

TEST(DescriptorExhaustionTest, AcceptBacksOffInsteadOfSpinning) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(descriptor_exhaustion_child()), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace enkisys::gateway
