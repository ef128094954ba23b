#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <future>

#include "enkisys/core/testing.hpp"

namespace enkisys::core {
namespace {

using testing::body_of;
using testing::http_request;
using testing::raw_exchange;
using testing::status_of;
using testing::TestServer;
namespace json = boost::json;

void wire_basic(Router& r) {
  r.add(http::verb::get, "/hello/{who}",
        [](Request&, RequestContext& ctx) -> boost::asio::awaitable<Response> {
          co_return json_response(http::status::ok, json::object{{"hello", ctx.param("who")}});
        });
  r.add(http::verb::post, "/echo",
        [](Request& req, RequestContext&) -> boost::asio::awaitable<Response> {
          auto obj = parse_json_object(req);
          co_return json_response(http::status::created, obj);
        });
  r.add(http::verb::get, "/teapot",
        [](Request&, RequestContext&) -> boost::asio::awaitable<Response> {
          throw ApiError(http::status::conflict, "already_exists", "tool exists",
                         json::object{{"name", "x"}});
          co_return Response{};
        });
  r.add(http::verb::get, "/boom",
        [](Request&, RequestContext& ctx) -> boost::asio::awaitable<Response> {
          co_await ctx.blocking(
              []() -> int { throw std::runtime_error("db exploded: secret detail"); });
          co_return Response{};
        });
}

TEST(HttpServer, RoutesAndAnswersJsonWithRequestId) {
  TestServer s(wire_basic);
  auto raw = http_request(s.port(), "GET", "/hello/world", "", "X-Request-Id: abc-123\r\n");
  EXPECT_EQ(status_of(raw), 200);
  EXPECT_NE(raw.find("X-Request-Id: abc-123"), std::string::npos);
  EXPECT_EQ(json::parse(body_of(raw)).at("hello"), "world");
}

TEST(HttpServer, InvalidClientRequestIdIsReplaced) {
  TestServer s(wire_basic);
  auto raw = http_request(s.port(), "GET", "/hello/x", "", "X-Request-Id: bad id with spaces\r\n");
  EXPECT_EQ(raw.find("bad id"), std::string::npos);
  EXPECT_NE(raw.find("X-Request-Id: "), std::string::npos);
}

TEST(HttpServer, UnknownRouteIs404JsonAndWrongMethodIs405WithAllow) {
  TestServer s(wire_basic);
  auto nf = http_request(s.port(), "GET", "/nope");
  EXPECT_EQ(status_of(nf), 404);
  auto err = json::parse(body_of(nf)).at("error");
  EXPECT_EQ(err.at("code"), "not_found");
  EXPECT_FALSE(err.at("request_id").as_string().empty());
  auto na = http_request(s.port(), "DELETE", "/echo");
  EXPECT_EQ(status_of(na), 405);
  EXPECT_NE(na.find("Allow: POST"), std::string::npos);
}

TEST(HttpServer, ApiErrorBecomesItsStatusWithDetails) {
  TestServer s(wire_basic);
  auto raw = http_request(s.port(), "GET", "/teapot");
  EXPECT_EQ(status_of(raw), 409);
  auto err = json::parse(body_of(raw)).at("error");
  EXPECT_EQ(err.at("code"), "already_exists");
  EXPECT_EQ(err.at("name"), "x");
}

TEST(HttpServer, ExceptionInBlockingWorkIs500WithoutLeakingDetail) {
  TestServer s(wire_basic);
  auto raw = http_request(s.port(), "GET", "/boom");
  EXPECT_EQ(status_of(raw), 500);
  EXPECT_EQ(raw.find("secret detail"), std::string::npos);
}

TEST(HttpServer, MalformedJsonIs400AndWrongContentTypeIs415) {
  TestServer s(wire_basic);
  EXPECT_EQ(status_of(http_request(s.port(), "POST", "/echo", "{\"a\":")), 400);
  EXPECT_EQ(status_of(http_request(s.port(), "POST", "/echo", "[1,2]")), 400);
  EXPECT_EQ(status_of(http_request(s.port(), "POST", "/echo", "{\"a\":\"\xff\xfe\"}")), 400);
  auto raw = raw_exchange(s.port(),
                          "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                          "text/plain\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(status_of(raw), 415);
  EXPECT_EQ(status_of(http_request(s.port(), "POST", "/echo", "{\"a\":1}")), 201);
}

TEST(HttpServer, OversizedHeaderIs431AndOversizedBodyIs413) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  o.max_body_bytes = 2048;
  TestServer s(wire_basic, o);
  auto big_header =
      http_request(s.port(), "GET", "/hello/x", "", "X-Big: " + std::string(4000, 'a') + "\r\n");
  EXPECT_EQ(status_of(big_header), 431);
  auto big_body =
      http_request(s.port(), "POST", "/echo", "{\"a\":\"" + std::string(5000, 'b') + "\"}");
  EXPECT_EQ(status_of(big_body), 413);
  EXPECT_EQ(json::parse(body_of(big_body)).at("error").at("code"), "body_too_large");
  // Chunked body without Content-Length is capped too.
  std::string chunk(3000, 'c');
  char hex[16];
  std::snprintf(hex, sizeof hex, "%zx", chunk.size());
  auto chunked = raw_exchange(
      s.port(), std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n") +
                    hex + "\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(chunked), 413);
}

TEST(HttpServer, GarbageIs400) {
  TestServer s(wire_basic);
  auto raw = raw_exchange(s.port(), "HELLO THERE\r\n\r\n");
  EXPECT_EQ(status_of(raw), 400);
  EXPECT_NE(body_of(raw).find("\"error\""), std::string::npos);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestServer s(wire_basic);
  std::string two =
      "GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/b HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\n\r\n";
  auto raw = raw_exchange(s.port(), two);
  EXPECT_NE(raw.find("\"hello\":\"a\""), std::string::npos);
  EXPECT_NE(raw.find("\"hello\":\"b\""), std::string::npos);
}

TEST(HttpServer, SlowHeaderSenderIsDisconnected) {
  ServerOptions o;
  o.header_timeout = std::chrono::milliseconds(200);
  TestServer s(wire_basic, o);
  const auto start = std::chrono::steady_clock::now();
  // Sends part of a header and never finishes it: the server must hang up on its own.
  auto raw = raw_exchange(s.port(), "GET /hello/x HTTP/1.1\r\nHost: x\r\nX-Slow: ", 5000);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(raw, "");
  EXPECT_LT(waited, std::chrono::seconds(4));
}

TEST(HttpServer, GracefulStopFinishesInFlightRequest) {
  std::promise<void> entered;
  std::promise<void> release;
  auto release_f = release.get_future().share();
  TestServer s([&](Router& r) {
    r.add(http::verb::get, "/slow",
          [&, release_f](Request&, RequestContext& ctx) -> boost::asio::awaitable<Response> {
            // Only trivially destructible captures in a co_await expression (GCC 12 destroys
            // such a temporary twice).
            co_await ctx.blocking([&entered, f = &release_f] {
              entered.set_value();
              f->wait();
              return 0;
            });
            co_return json_response(http::status::ok, json::object{{"done", true}});
          });
  });
  auto fut = std::async(std::launch::async, [&] { return http_request(s.port(), "GET", "/slow"); });
  entered.get_future().wait();
  s.server().stop();
  release.set_value();
  const auto raw = fut.get();
  EXPECT_EQ(status_of(raw), 200);
  EXPECT_NE(raw.find("\"done\":true"), std::string::npos);
  s.stop();  // run() returned: the join inside completes
}

TEST(HttpServer, CountsRequestsInMetrics) {
  TestServer s(wire_basic);
  http_request(s.port(), "GET", "/hello/a");
  http_request(s.port(), "GET", "/nope");
  const auto text = s.metrics().render();
  EXPECT_NE(
      text.find("http_requests_total{route=\"/hello/{who}\",method=\"GET\",status=\"200\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"unmatched\",method=\"GET\",status=\"404\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::core
