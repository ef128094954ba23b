#include "enkisys/core/client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>

#include "enkisys/core/testing.hpp"

namespace enkisys::core {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using testing::TestServer;

void wire(Router& r) {
  r.add(http::verb::get, "/small", [](Request& req, RequestContext&) -> asio::awaitable<Response> {
    co_return json_response(http::status::ok,
                            json::object{{"ua", std::string(req[http::field::user_agent])}});
  });
  r.add(http::verb::get, "/big", [](Request&, RequestContext&) -> asio::awaitable<Response> {
    Response res{http::status::ok, 11};
    res.body() = std::string(100000, 'x');
    res.prepare_payload();
    co_return res;
  });
  r.add(http::verb::get, "/slow", [](Request&, RequestContext&) -> asio::awaitable<Response> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(1));
    co_await t.async_wait(asio::use_awaitable);
    co_return json_response(http::status::ok, json::object{});
  });
}

ClientResult run(HttpClient& c, asio::io_context& ioc, ClientRequest req, ClientOptions o = {},
                 EndpointVetter v = {}) {
  auto fut = asio::co_spawn(ioc, c.send(std::move(req), o, std::move(v)), asio::use_future);
  ioc.restart();
  ioc.run();
  return fut.get();
}

TEST(HttpClient, FetchesAndPoolsTheConnection) {
  TestServer s(wire);
  asio::io_context ioc;
  HttpClient c;
  const std::string url = "http://127.0.0.1:" + std::to_string(s.port()) + "/small";
  auto r1 = run(c, ioc, {http::verb::get, url, {}, {}});
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_EQ(r1->status, 200U);
  EXPECT_NE(r1->body.find("enkisys/"), std::string::npos) << r1->body;
  EXPECT_EQ(c.idle_connections(), 1U);
  auto r2 = run(c, ioc, {http::verb::get, url, {}, {}});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(c.idle_connections(), 1U);  // reused, not a second one
}

TEST(HttpClient, CapsResponseSize) {
  TestServer s(wire);
  asio::io_context ioc;
  HttpClient c;
  ClientOptions o;
  o.max_response_bytes = 1000;
  auto r =
      run(c, ioc,
          {http::verb::get, "http://127.0.0.1:" + std::to_string(s.port()) + "/big", {}, {}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClientError::Code::kTooLarge);
}

TEST(HttpClient, TimesOut) {
  TestServer s(wire);
  asio::io_context ioc;
  HttpClient c;
  ClientOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto r =
      run(c, ioc,
          {http::verb::get, "http://127.0.0.1:" + std::to_string(s.port()) + "/slow", {}, {}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClientError::Code::kTimeout);
}

TEST(HttpClient, VetterRefusesBeforeConnecting) {
  TestServer s(wire);
  asio::io_context ioc;
  HttpClient c;
  std::vector<asio::ip::tcp::endpoint> seen;
  auto r =
      run(c, ioc,
          {http::verb::get, "http://127.0.0.1:" + std::to_string(s.port()) + "/small", {}, {}}, {},
          [&](std::string_view,
              const std::vector<asio::ip::tcp::endpoint>& eps) -> std::optional<std::string> {
            seen = eps;
            return "loopback is not allowed";
          });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClientError::Code::kRefused);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_TRUE(seen[0].address().is_loopback());
}

TEST(HttpClient, RejectsBadUrlsAndHeaderInjection) {
  asio::io_context ioc;
  HttpClient c;
  EXPECT_EQ(run(c, ioc, {http::verb::get, "ftp://x/", {}, {}}).error().code,
            ClientError::Code::kBadUrl);
  EXPECT_EQ(run(c, ioc, {http::verb::get, "not a url", {}, {}}).error().code,
            ClientError::Code::kBadUrl);
  EXPECT_EQ(run(c, ioc, {http::verb::get, "http://u:p@127.0.0.1/", {}, {}}).error().code,
            ClientError::Code::kBadUrl);
  EXPECT_EQ(run(c, ioc, {http::verb::get, "http://127.0.0.1:1/", {{"X-A", "b\r\nX-Evil: 1"}}, {}})
                .error()
                .code,
            ClientError::Code::kBadUrl);
}

TEST(HttpClient, ConnectionRefusedIsAConnectError) {
  // Bind a port and close it again so nothing listens there.
  unsigned short port;
  {
    TestServer s(wire);
    port = s.port();
  }
  asio::io_context ioc;
  HttpClient c;
  auto r = run(c, ioc, {http::verb::get, "http://127.0.0.1:" + std::to_string(port) + "/", {}, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClientError::Code::kConnect);
}

}  // namespace
}  // namespace enkisys::core
