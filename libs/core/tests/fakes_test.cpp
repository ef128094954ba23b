// The test doubles of the service environment behave as their header says.
#include "enkisys/core/testing/fakes.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace enkisys::core::testing {
namespace {

TEST(FakeClock, MovesOnlyByHand) {
  FakeClock clock;
  const auto wall = clock.now();
  const auto steady = clock.steady_now();
  EXPECT_EQ(clock.now(), wall);
  clock.sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.now() - wall, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.steady_now() - steady, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.slept(), std::chrono::milliseconds(1500));
  clock.set(wall);  // wall time may jump back; steady time does not
  EXPECT_EQ(clock.now(), wall);
  EXPECT_EQ(clock.steady_now() - steady, std::chrono::milliseconds(1500));
}

ClientResult send(HttpSender& client, std::string url) {
  boost::asio::io_context io;
  ClientRequest req;
  req.url = std::move(url);
  auto f = boost::asio::co_spawn(io, client.send(std::move(req)), boost::asio::use_future);
  io.run();
  return f.get();
}

TEST(FakeHttpClient, AnswersFromTheScriptAndRecords) {
  FakeHttpClient http;
  http.respond("http://llm/v1/", 200, "{\"ok\":true}", {}, 1);
  http.respond("http://llm/", 503, "busy");
  http.fail("http://down/", ClientError::Code::kTimeout, "timed out");
  auto a = send(http, "http://llm/v1/chat");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, 200U);
  auto b = send(http, "http://llm/v1/chat");  // the one-shot answer is used up
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->status, 503U);
  auto c = send(http, "http://down/x");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ClientError::Code::kTimeout);
  EXPECT_FALSE(send(http, "http://other/").ok());
  ASSERT_EQ(http.requests().size(), 4U);
  EXPECT_EQ(http.requests()[3].url, "http://other/");
}

TEST(FakeHttpClient, StreamsTheScriptedBodyInPieces) {
  FakeHttpClient http;
  http.respond("http://llm/", 200, "data: 1\n\ndata: 2\n\ndata: [DONE]\n\n");
  std::vector<std::string> pieces;
  ClientOptions o;
  o.on_body = [&](std::string_view p) {
    pieces.emplace_back(p);
    return true;
  };
  boost::asio::io_context io;
  auto fut = boost::asio::co_spawn(io, http.send({http::verb::post, "http://llm/x", {}, {}}, o),
                                   boost::asio::use_future);
  io.run();
  auto r = fut.get();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->body.empty());
  ASSERT_EQ(pieces.size(), 3U);
  EXPECT_EQ(pieces[0] + pieces[1] + pieces[2], "data: 1\n\ndata: 2\n\ndata: [DONE]\n\n");
}

}  // namespace
}  // namespace enkisys::core::testing
