// Proxy engine against real upstreams: forwarding, headers, keep-alive, timeouts, streaming,
// WebSocket, health aggregation and every rejected attack.
#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>

#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string config(const FakeUpstream& up, const std::string& extra_limits = "") {
  const std::string yaml = R"(
limits: {upstream_timeout_ms: 5000, max_body_bytes: 1000, max_header_bytes: 4096, eject_after_failures: 3, eject_for_ms: 60000 LIMITS}
stages:
  dev:
    routes:
      - {prefix: /api/tools, name: tools, upstream: "{UP}"}
      - {prefix: /api/slow, name: slow, upstream: "{UP}", strip_prefix: true, timeout_ms: 300}
      - {prefix: /api/based, upstream: "{UP}/base", strip_prefix: true}
      - {prefix: /api/auth, upstream: "{UP}"}
      - {prefix: /raw, upstream: "{UP}", strip_prefix: true, health: null}
  prod:
    routes:
      - {prefix: /api/tools, upstream: "{UP}"}
)";
  return replace_all(replace_all(yaml, "{UP}", up.url()), " LIMITS", extra_limits);
}

boost::json::object echo(const StringResponse& r) {
  return boost::json::parse(r.body()).as_object();
}
std::string hdr(const boost::json::object& e, const char* name) {
  const auto* h = e.at("headers").as_object().if_contains(name);
  return h ? std::string(h->as_string()) : std::string("<absent>");
}
std::string error_code(const StringResponse& r) {
  return std::string(boost::json::parse(r.body()).at("error").at("code").as_string());
}

TEST(ProxyTest, ForwardsWithStagePrefixStrippedAndForwardingHeaders) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto r = get(gw.port(), "/dev/api/tools/list?x=1");
  ASSERT_EQ(r.result_int(), 200) << r.body();
  auto e = echo(r);
  EXPECT_EQ(e.at("target"), "/api/tools/list?x=1");
  EXPECT_EQ(hdr(e, "x-forwarded-for"), "127.0.0.1");
  EXPECT_EQ(hdr(e, "x-forwarded-proto"), "http");
  EXPECT_EQ(hdr(e, "x-forwarded-host"), "gw.test");
  EXPECT_EQ(hdr(e, "x-stage"), "dev");
  const std::string rid = hdr(e, "x-request-id");
  EXPECT_EQ(rid.size(), 32u);
  EXPECT_EQ(r["X-Request-Id"], rid);
}

TEST(ProxyTest, KeepsValidClientRequestIdAndReplacesInvalidOne) {
  FakeUpstream up;
  Gateway gw(config(up));
  EXPECT_EQ(hdr(echo(get(gw.port(), "/dev/api/tools", {{"X-Request-Id", "client-id-1"}})),
                "x-request-id"),
            "client-id-1");
  auto r = get(gw.port(), "/dev/api/tools", {{"X-Request-Id", "bad id <script>"}});
  EXPECT_NE(hdr(echo(r), "x-request-id"), "bad id <script>");
  EXPECT_EQ(r["X-Request-Id"].size(), 32u);
}

TEST(ProxyTest, StripPrefixAndBasePath) {
  FakeUpstream up;
  Gateway gw(config(up));
  EXPECT_EQ(echo(get(gw.port(), "/dev/api/based/a/b")).at("target"), "/base/a/b");
  EXPECT_EQ(echo(get(gw.port(), "/dev/api/based")).at("target"), "/base/");
}

TEST(ProxyTest, RemovesHopByHopAndClientIdentityHeaders) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto e = echo(get(gw.port(), "/dev/api/tools",
                    {{"Connection", "keep-alive, X-Secret"},
                     {"X-Secret", "s"},
                     {"Keep-Alive", "timeout=5"},
                     {"TE", "trailers"},
                     {"Proxy-Authorization", "Basic eA=="},
                     {"X-User-Id", "admin"},
                     {"X-User-Roles", "admin"},
                     {"X-Other", "kept"}}));
  for (const char* h :
       {"x-secret", "keep-alive", "te", "proxy-authorization", "x-user-id", "x-user-roles"}) {
    EXPECT_EQ(hdr(e, h), "<absent>") << h;
  }
  EXPECT_EQ(hdr(e, "x-other"), "kept");
}

TEST(ProxyTest, UnknownStageAndRouteAreJson404) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto a = get(gw.port(), "/nope/api/tools");
  EXPECT_EQ(a.result_int(), 404);
  EXPECT_EQ(error_code(a), "not_found");
  auto b = get(gw.port(), "/prod/api/rag");
  EXPECT_EQ(b.result_int(), 404);
  EXPECT_EQ(a[http::field::content_type], "application/json");
  EXPECT_EQ(up.requests(), 0);
}

TEST(ProxyTest, GatewayHealth) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto r = get(gw.port(), "/health");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_NE(r.body().find("\"service\":\"gateway\""), std::string::npos);
}

TEST(ProxyTest, StageHealthAggregatesUpstreams) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto ok = get(gw.port(), "/dev/health");
  EXPECT_EQ(ok.result_int(), 200) << ok.body();
  EXPECT_NE(ok.body().find("\"stage\":\"dev\""), std::string::npos);
  // Each service's version, as its own /health names it.
  EXPECT_NE(ok.body().find("\"version\":\"1.2.3\""), std::string::npos) << ok.body();
  up.set_health_status(503);
  auto bad = get(gw.port(), "/dev/health");
  EXPECT_EQ(bad.result_int(), 503);
  EXPECT_NE(bad.body().find("\"status\":\"degraded\""), std::string::npos);
}

TEST(ProxyTest, ReusesUpstreamConnections) {
  FakeUpstream up;
  Gateway gw(config(up));
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::seconds(10));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw.port()));
  beast::flat_buffer b;
  for (int i = 0; i < 20; ++i) {
    http::request<http::empty_body> req{http::verb::get, "/dev/api/tools/" + std::to_string(i), 11};
    req.set(http::field::host, "gw.test");  // HTTP/1.1 requires Host
    http::write(s, req);
    StringResponse res;
    http::read(s, b, res);
    ASSERT_EQ(res.result_int(), 200);
  }
  EXPECT_EQ(up.requests(), 20);
  EXPECT_EQ(up.connections(), 1);
}

TEST(ProxyTest, PostBodiesAndChunkedBodiesAreForwarded) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto e = echo(request(gw.port(), http::verb::post, "/dev/api/tools",
                        {{"Content-Type", "text/plain"}}, "hello"));
  EXPECT_EQ(e.at("body"), "hello");
  const std::string chunked =
      "POST /dev/api/tools HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: "
      "close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  const auto out = raw_exchange(gw.port(), chunked);
  EXPECT_NE(out.find("200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("\"body\":\"hello world\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"content-length\":\"11\""), std::string::npos) << out;
}

TEST(ProxyTest, PipelinedRequestsAreAnsweredInOrder) {
  FakeUpstream up;
  Gateway gw(config(up));
  const auto out =
      raw_exchange(gw.port(),
                   "GET /dev/api/tools/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                   "GET /dev/api/tools/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto p1 = out.find("/api/tools/1"), p2 = out.find("/api/tools/2");
  ASSERT_NE(p1, std::string::npos) << out;
  ASSERT_NE(p2, std::string::npos) << out;
  EXPECT_LT(p1, p2);
}

TEST(ProxyTest, UpstreamTimeoutIs504) {
  FakeUpstream up;
  Gateway gw(config(up));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = get(gw.port(), "/dev/api/slow/slow?ms=3000");
  EXPECT_EQ(r.result_int(), 504);
  EXPECT_EQ(error_code(r), "upstream_timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));
}

TEST(ProxyTest, ConnectFailureIs502ThenEjectionIs503) {
  tcp::endpoint dead;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    dead = a.local_endpoint();
  }  // closed: connections are refused
  Gateway gw(
      "limits: {eject_after_failures: 4, eject_for_ms: 60000}\nstages:\n  dev:\n    routes:\n"
      "      - {prefix: /, upstream: \"http://127.0.0.1:" +
      std::to_string(dead.port()) + "\"}\n");
  auto r = get(gw.port(), "/dev/x");
  EXPECT_EQ(r.result_int(), 502);
  EXPECT_EQ(error_code(r), "upstream_unreachable");
  get(gw.port(), "/dev/x");  // GET retries once: 2 failures per request → ejected after 2 requests
  auto e = get(gw.port(), "/dev/x");
  EXPECT_EQ(e.result_int(), 503);
  EXPECT_EQ(error_code(e), "upstream_unavailable");
}

TEST(ProxyTest, UpstreamClosingWithoutAnswerIs502) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto r = get(gw.port(), "/dev/raw/close");
  EXPECT_EQ(r.result_int(), 502);
}

TEST(ProxyTest, Upstream5xxIsPassedThroughAndCountsForEjection) {
  FakeUpstream up;
  Gateway gw(config(up));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(gw.port(), "/dev/raw/status/500").result_int(), 500);
  EXPECT_EQ(get(gw.port(), "/dev/raw/status/200").result_int(), 503);  // ejected
}

TEST(ProxyTest, StreamsChunkedResponsesAsTheyArrive) {
  FakeUpstream up;
  Gateway gw(config(up));
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::seconds(10));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw.port()));
  http::request<http::empty_body> req{http::verb::get, "/dev/raw/stream", 11};
  req.set(http::field::host, "gw.test");  // HTTP/1.1 requires Host
  http::write(s, req);
  beast::flat_buffer b;
  http::response_parser<http::string_body> p;
  http::read_header(s, b, p);
  EXPECT_EQ(p.get()[http::field::content_type], "text/event-stream");
  // The first event must arrive while the upstream still holds the second one back.
  boost::system::error_code ec;
  for (int i = 0; i < 100 && p.get().body().find("first\n") == std::string::npos; ++i) {
    http::read_some(s, b, p, ec);
    ASSERT_FALSE(ec && ec != http::error::need_buffer) << ec.message();
  }
  EXPECT_EQ(p.get().body(), "first\n");
  up.release_stream();
  http::read(s, b, p, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(p.get().body(), "first\nsecond\n");
}

TEST(ProxyTest, TunnelsWebSockets) {
  FakeUpstream up;
  Gateway gw(config(up));
  asio::io_context ioc;
  beast::websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw.port()));
  ws.handshake("gw.test", "/dev/raw/ws");
  for (const std::string msg : {"hello", "world"}) {
    ws.write(asio::buffer(msg));
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_EQ(beast::buffers_to_string(b.data()), msg);
  }
  ws.close(beast::websocket::close_code::normal);
}

TEST(ProxyTest, HeadRequests) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto r = request(gw.port(), http::verb::head, "/dev/api/tools");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(r.body().empty());
}

// ---- attacks -------------------------------------------------------------------------------

TEST(AttackTest, SmugglingIsRejected) {
  FakeUpstream up;
  Gateway gw(config(up));
  for (const std::string& attack : {
           std::string("POST /dev/api/tools HTTP/1.1\r\nHost: x\r\nContent-Length: "
                       "4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
           std::string("POST /dev/api/tools HTTP/1.1\r\nHost: x\r\nContent-Length: "
                       "4\r\nContent-Length: 5\r\n\r\nabcde"),
           std::string(
               "POST /dev/api/tools HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx"),
           std::string("POST /dev/api/tools HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, "
                       "identity\r\n\r\n0\r\n\r\n"),
           std::string("POST /dev/api/tools HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
       }) {
    const auto out = raw_exchange(gw.port(), attack);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << attack << "\n---\n" << out;
  }
  EXPECT_EQ(up.requests(), 0);
}

TEST(AttackTest, TraversalCannotEscapeStageOrRoute) {
  FakeUpstream up;
  Gateway gw(config(up));
  for (const char* t :
       {"/dev/../prod/api/tools", "/dev/%2e%2e/prod/api/tools", "/dev/api/tools/..%2f..%2fprod",
        "/dev/api%2ftools", "/dev/%2E%2E/%2E%2E/etc/passwd", "/dev/api/tools/../../../x",
        "/dev/api\\tools"}) {
    const auto out = raw_exchange(
        gw.port(), std::string("GET ") + t + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << t << "\n" << out;
  }
  EXPECT_EQ(up.requests(), 0);
  // Inside the stage, dot segments resolve before matching; the upstream sees the clean path.
  EXPECT_EQ(echo(get(gw.port(), "/dev/api/tools/../auth/me")).at("target"), "/api/auth/me");
  EXPECT_EQ(echo(get(gw.port(), "//dev//api//tools//x")).at("target"), "/api/tools/x");
}

TEST(AttackTest, OversizeBodyIs413) {
  FakeUpstream up;
  Gateway gw(config(up));
  auto r = request(gw.port(), http::verb::post, "/dev/api/tools", {}, std::string(2000, 'x'));
  EXPECT_EQ(r.result_int(), 413);
  std::string chunked =
      "POST /dev/api/tools HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "190\r\n" + std::string(400, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  EXPECT_EQ(raw_exchange(gw.port(), chunked).rfind("HTTP/1.1 413", 0), 0u);
  EXPECT_EQ(up.requests(), 0);
}

TEST(AttackTest, OversizeHeaderIs431) {
  FakeUpstream up;
  Gateway gw(config(up));
  const auto out = raw_exchange(gw.port(), "GET /dev/api/tools HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                               std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
}

TEST(AttackTest, MalformedRequestIs400) {
  FakeUpstream up;
  Gateway gw(config(up));
  EXPECT_EQ(raw_exchange(gw.port(), "GARBAGE\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(
      raw_exchange(gw.port(),
                   "GET http://evil.example/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .rfind("HTTP/1.1 400", 0),
      0u);
}

TEST(AttackTest, SlowlorisIsDisconnected) {
  FakeUpstream up;
  Gateway gw(config(up, ", header_timeout_ms: 200"));
  const auto t0 = std::chrono::steady_clock::now();
  // Headers never finish: the gateway must close the connection after ~200 ms.
  const auto out =
      raw_exchange(gw.port(), "GET /dev/api/tools HTTP/1.1\r\nHost: x\r\nX-a: b", 5000);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(elapsed, std::chrono::milliseconds(3000));
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_EQ(up.requests(), 0);
}

}  // namespace
}  // namespace enkisys::gateway
