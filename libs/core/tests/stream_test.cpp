#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <future>

#include "enkisys/core/testing.hpp"
#include "stream_client.hpp"

namespace enkisys::core {
namespace {

using testing::dechunk;
using testing::StreamClient;
using testing::TestServer;
namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr auto kDeadline = 5000ms;

std::string get(std::string_view path, std::string_view extra = {}) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra) + "\r\n";
}

TEST(SseFormat, SplitsMultiLineDataAndWritesIdAndName) {
  EXPECT_EQ(format_sse_event("message.delta", "a\nb\r\nc\rd", "7"),
            "event: message.delta\nid: 7\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(format_sse_event("", "x"), "data: x\n\n");
  EXPECT_EQ(format_sse_event("e", ""), "event: e\ndata: \n\n");
  EXPECT_EQ(format_sse_event("e", "end\n"), "event: e\ndata: end\ndata: \n\n");
  EXPECT_THROW(format_sse_event("bad\nname", "x"), std::invalid_argument);
  EXPECT_THROW(format_sse_event("e", "x", "bad\rid"), std::invalid_argument);
}

TEST(SseStream, EventsArriveBeforeTheHandlerWritesTheNext) {
  std::promise<void> go;
  auto go_f = go.get_future().share();
  TestServer s([&](Router& r) {
    r.add(http::verb::get, "/events",
          [go_f](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
            auto sse = co_await ctx.stream_sse();
            co_await sse.retry(1500ms);
            const json::value first = json::object{{"text", "Hel"}};
            const json::value second = json::object{{"text", "lo"}};
            co_await sse.event("message.delta", first, std::string_view("1"));
            // Held until the client saw the first event.
            // Only trivially destructible captures in a co_await expression (GCC 12).
            co_await ctx.blocking([f = &go_f] {
              f->wait();
              return 0;
            });
            co_await sse.event("message.delta", second, std::string_view("2"));
            co_return sse.done();
          });
  });
  StreamClient c(s.port());
  c.send(get("/events"));
  const bool first_seen = c.read_until("data: {\"text\":\"Hel\"}\n\n", kDeadline);
  const bool second_early = c.data().find("\"lo\"") != std::string::npos;
  go.set_value();
  ASSERT_TRUE(first_seen) << c.data();
  EXPECT_FALSE(second_early);
  EXPECT_NE(c.data().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(c.data().find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(c.data().find("retry: 1500\n\n"), std::string::npos);
  ASSERT_TRUE(c.read_until("\r\n0\r\n\r\n", kDeadline)) << c.data();
  const auto body = dechunk(testing::body_of(c.data()));
  EXPECT_EQ(body,
            "retry: 1500\n\nevent: message.delta\nid: 1\ndata: {\"text\":\"Hel\"}\n\n"
            "event: message.delta\nid: 2\ndata: {\"text\":\"lo\"}\n\n");
}

TEST(ResponseStream, ChunkedRoundTripThenKeepAliveAndMetrics) {
  TestServer s([](Router& r) {
    r.add(http::verb::get, "/chunks",
          [](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
            StreamOptions o;
            o.content_type = "text/plain";
            o.headers.set("X-Extra", "yes");
            auto st = co_await ctx.stream(o);
            for (const char* piece : {"alpha", "", "beta", "gamma"}) co_await st.write(piece);
            co_return st.done();
          });
    r.add(http::verb::get, "/plain", [](Request&, RequestContext&) -> asio::awaitable<Response> {
      co_return json_response(http::status::ok, json::object{{"plain", true}});
    });
  });
  StreamClient c(s.port());
  c.send(get("/chunks"));
  ASSERT_TRUE(c.read_until("\r\n0\r\n\r\n", kDeadline)) << c.data();
  EXPECT_NE(c.data().find("X-Extra: yes"), std::string::npos);
  EXPECT_NE(c.data().find("Content-Type: text/plain"), std::string::npos);
  EXPECT_EQ(dechunk(testing::body_of(c.data())), "alphabetagamma");
  // The same connection serves the next request.
  const auto mark = c.data().size();
  c.send(get("/plain", "Connection: close\r\n"));
  ASSERT_TRUE(c.read_until("{\"plain\":true}", kDeadline, mark)) << c.data();
  EXPECT_TRUE(c.wait_closed(kDeadline));
  const auto text = s.metrics().render();
  EXPECT_NE(text.find("route=\"/chunks\",method=\"GET\",status=\"200\"} 1"), std::string::npos)
      << text;
}

TEST(ResponseStream, ClientThatStopsReadingIsCutOffAndTheHandlerSeesIt) {
  ServerOptions o;
  o.write_timeout = 300ms;
  std::promise<std::pair<bool, std::uint64_t>> outcome;
  TestServer s(
      [&](Router& r) {
        r.add(http::verb::get, "/flood",
              [&](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
                auto st = co_await ctx.stream();
                const std::string piece(64 * 1024, 'x');
                bool closed = false;
                try {
                  // Bounded: 4096 × 64 KiB is far beyond any socket buffer.
                  for (int i = 0; i < 4096; ++i) co_await st.write(piece);
                } catch (const StreamClosed&) {
                  closed = true;
                }
                outcome.set_value({closed, st.bytes_written()});
                co_return st.done();
              });
      },
      o);
  StreamClient c(s.port(), 4096);
  c.send(get("/flood"));
  auto f = outcome.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  const auto [closed, bytes] = f.get();
  EXPECT_TRUE(closed);
  EXPECT_LT(bytes, 4096ULL * 64 * 1024);
  EXPECT_TRUE(c.wait_closed(kDeadline));
}

TEST(ResponseStream, DisconnectCancelsTheHandlersWaitPromptly) {
  std::promise<std::pair<bool, bool>> outcome;  // {aborted, cancelled()}
  TestServer s([&](Router& r) {
    r.add(http::verb::get, "/llm", [&](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
      auto sse = co_await ctx.stream_sse();
      co_await sse.event("ready", "1");
      // Stands for an LLM call: long, bound to the stream's cancellation.
      asio::steady_timer t(co_await asio::this_coro::executor, 60s);
      auto [ec] = co_await t.async_wait(asio::bind_cancellation_slot(
          sse.cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
      outcome.set_value({ec == asio::error::operation_aborted, sse.cancelled()});
      co_return sse.done();
    });
  });
  StreamClient c(s.port());
  c.send(get("/llm"));
  ASSERT_TRUE(c.read_until("data: 1\n\n", kDeadline));
  const auto start = std::chrono::steady_clock::now();
  c.close();
  auto f = outcome.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  const auto [aborted, cancelled] = f.get();
  EXPECT_TRUE(aborted);
  EXPECT_TRUE(cancelled);
}

TEST(SseStream, HeartbeatWhenIdleAndWaitEndsWhenTheClientLeaves) {
  std::promise<bool> waited;  // wait()'s result
  TestServer s([&](Router& r) {
    r.add(http::verb::get, "/idle",
          [&](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
            StreamOptions o;
            o.heartbeat = 50ms;
            auto sse = co_await ctx.stream_sse(o);
            co_await sse.event("hello", "x");
            waited.set_value(co_await sse.wait(60s));
            co_return sse.done();
          });
  });
  StreamClient c(s.port());
  c.send(get("/idle"));
  ASSERT_TRUE(c.read_until("data: x\n\n", kDeadline));
  const auto mark = c.data().size();
  ASSERT_TRUE(c.read_until(": ping\n\n", kDeadline, mark)) << c.data();
  ASSERT_TRUE(c.read_until(": ping\n\n", kDeadline, c.data().find(": ping", mark) + 1));
  c.close();
  auto f = waited.get_future();
  ASSERT_EQ(f.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(f.get());
}

TEST(SseStream, GracefulStopCancelsTheStreamWhichEndsWithConnectionClose) {
  TestServer s([&](Router& r) {
    r.add(http::verb::get, "/long",
          [&](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
            auto sse = co_await ctx.stream_sse();
            co_await sse.event("ready", "1");
            co_await sse.wait(60s);
            co_await sse.event("bye", sse.client_gone() ? "gone" : "stopping");
            co_return sse.done();
          });
  });
  StreamClient c(s.port());
  c.send(get("/long"));
  ASSERT_TRUE(c.read_until("data: 1\n\n", kDeadline));
  s.server().stop();
  ASSERT_TRUE(c.read_until("\r\n0\r\n\r\n", kDeadline)) << c.data();
  EXPECT_NE(c.data().find("event: bye\ndata: stopping\n\n"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(kDeadline));
  s.stop();
}

TEST(SseStream, HeadSendsHeadersOnly) {
  TestServer s([&](Router& r) {
    r.add(http::verb::get, "/h", [&](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
      auto sse = co_await ctx.stream_sse();
      co_await sse.event("e", "never sent");
      co_return sse.done();
    });
  });
  StreamClient c(s.port());
  c.send("HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(c.wait_closed(kDeadline));
  EXPECT_EQ(testing::status_of(c.data()), 200);
  EXPECT_EQ(c.data().find("never sent"), std::string::npos);
}

}  // namespace
}  // namespace enkisys::core
