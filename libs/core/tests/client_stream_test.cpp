// HttpClient's streamed bodies (ClientOptions::on_body), first-byte deadline and cancellation.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "enkisys/core/client.hpp"
#include "enkisys/core/testing.hpp"

namespace enkisys::core {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::TestServer;

// What the server side of the tests saw.
struct Seen {
  std::atomic<bool> first_read{false};         // the client reported the first piece
  std::atomic<bool> waited_for_client{false};  // piece 2 was written only after that
  std::atomic<bool> client_gone{false};
};

void wire(Router& r, Seen& seen) {
  r.add(http::verb::get, "/pieces",
        [&seen](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
          auto s = co_await ctx.stream();
          co_await s.write("one,");
          // The second piece waits until the client has handed the first one over.
          for (int i = 0; i < 500 && !seen.first_read; ++i) co_await s.wait(10ms);
          seen.waited_for_client = seen.first_read.load();
          co_await s.write("two,");
          co_await s.write("three");
          co_return s.done();
        });
  r.add(http::verb::get, "/until-gone",
        [&seen](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
          auto s = co_await ctx.stream();
          co_await s.write("first");
          bool open = true;
          for (int i = 0; i < 100 && open; ++i) open = co_await s.wait(50ms);
          seen.client_gone = !open && s.client_gone();
          co_return s.done();
        });
  r.add(http::verb::get, "/late-body",
        [](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
          auto s = co_await ctx.stream();  // the head goes out now, the body a second later
          co_await s.wait(1s);
          co_await s.write("late");
          co_return s.done();
        });
  r.add(http::verb::get, "/slow-second",
        [](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
          auto s = co_await ctx.stream();
          co_await s.write("one,");
          co_await s.wait(500ms);
          co_await s.write("two");
          co_return s.done();
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
    co_return json_response(http::status::ok, boost::json::object{});
  });
}

ClientResult run(HttpClient& c, asio::io_context& ioc, const std::string& url,
                 const ClientOptions& o) {
  auto fut = asio::co_spawn(ioc, c.send({http::verb::get, url, {}, {}}, o), asio::use_future);
  ioc.restart();
  ioc.run();
  return fut.get();
}

std::string url(const TestServer& s, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

TEST(HttpClientStream, HandsChunkedPiecesOverAsTheyArrive) {
  Seen seen;
  TestServer s([&](Router& r) { wire(r, seen); });
  asio::io_context ioc;
  HttpClient c;
  std::string got;
  ClientOptions o;
  o.on_body = [&](std::string_view piece) {
    got += piece;
    if (got.find("one,") != std::string::npos) seen.first_read = true;
    return true;
  };
  auto r = run(c, ioc, url(s, "/pieces"), o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200U);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(got, "one,two,three");
  EXPECT_TRUE(seen.waited_for_client);  // not accumulated until the end
  EXPECT_EQ(c.idle_connections(), 1U);  // read to its end: pooled
}

TEST(HttpClientStream, StreamedBodiesAreNotCappedAndFixedLengthWorks) {
  Seen seen;
  TestServer s([&](Router& r) { wire(r, seen); });
  asio::io_context ioc;
  HttpClient c;
  std::size_t total = 0;
  ClientOptions o;
  o.max_response_bytes = 1000;
  o.on_body = [&](std::string_view piece) {
    total += piece.size();
    return true;
  };
  auto r = run(c, ioc, url(s, "/big"), o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(total, 100000U);
}

TEST(HttpClientStream, StoppingClosesTheConnection) {
  Seen seen;
  TestServer s([&](Router& r) { wire(r, seen); });
  asio::io_context ioc;
  HttpClient c;
  int calls = 0;
  ClientOptions o;
  o.on_body = [&](std::string_view) {
    ++calls;
    return false;
  };
  auto r = run(c, ioc, url(s, "/until-gone"), o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200U);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(c.idle_connections(), 0U);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!seen.client_gone && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);  // polling a condition with a deadline
  }
  EXPECT_TRUE(seen.client_gone);
}

TEST(HttpClientStream, FirstByteTimeout) {
  Seen seen;
  TestServer s([&](Router& r) { wire(r, seen); });
  asio::io_context ioc;
  HttpClient c;
  ClientOptions o;
  o.first_byte_timeout = 100ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(c, ioc, url(s, "/slow"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClientError::Code::kTimeout);
  EXPECT_NE(r.error().message.find("no response within 100 ms"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
}

TEST(HttpClientStream, FirstByteTimeoutCoversAStreamedBody) {
  Seen seen;
  TestServer s([&](Router& r) { wire(r, seen); });
  asio::io_context ioc;
  HttpClient c;
  ClientOptions o;
  o.first_byte_timeout = 100ms;
  std::string got;
  o.on_body = [&](std::string_view piece) {
    got.append(piece);
    return true;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(c, ioc, url(s, "/late-body"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClientError::Code::kTimeout);
  EXPECT_NE(r.error().message.find("no response within 100 ms"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
  EXPECT_TRUE(got.empty());
}

TEST(HttpClientStream, FirstByteTimeoutEndsWithTheFirstPiece) {
  Seen seen;
  TestServer s([&](Router& r) { wire(r, seen); });
  asio::io_context ioc;
  HttpClient c;
  ClientOptions o;
  o.first_byte_timeout = 200ms;
  std::string got;
  o.on_body = [&](std::string_view piece) {
    got.append(piece);
    return true;
  };
  // The second piece comes 500 ms after the first: only `timeout` applies to it.
  auto r = run(c, ioc, url(s, "/slow-second"), o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(got, "one,two");
}

TEST(HttpClientStream, CancellationClosesTheSocket) {
  Seen seen;
  TestServer s([&](Router& r) { wire(r, seen); });
  asio::io_context ioc;
  HttpClient c;
  asio::cancellation_signal stop;
  ClientOptions o;
  o.on_body = [&](std::string_view) {
    // Cancel while the next read is pending.
    asio::post(ioc, [&] { stop.emit(asio::cancellation_type::terminal); });
    return true;
  };
  auto fut = asio::co_spawn(ioc, c.send({http::verb::get, url(s, "/until-gone"), {}, {}}, o),
                            asio::bind_cancellation_slot(stop.slot(), asio::use_future));
  ioc.run();
  auto r = fut.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ClientError::Code::kCancelled);
  EXPECT_EQ(c.idle_connections(), 0U);
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!seen.client_gone && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(seen.client_gone);
}

}  // namespace
}  // namespace enkisys::core
