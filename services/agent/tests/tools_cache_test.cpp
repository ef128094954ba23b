// The tools listing cache (ToolsCacheOptions): one listing per caller while fresh, a new one
// after the TTL, none shared between users or roles, the conversation's own tool choice applied
// at once, and a listing dropped when an invocation says the tool is gone.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "agent_fixture.hpp"

namespace enkisys::agent::testing {
namespace {

namespace asio = boost::asio;

class ToolsCacheTest : public AgentTest {
 protected:
  FixtureOptions options() const override {
    FixtureOptions o;
    o.tools.ttl = std::chrono::seconds(5);
    return o;
  }
  std::size_t listings() {
    std::size_t n = 0;
    for (const auto& r : f().http().requests()) {
      n += r.url.find("/api/tools?") != std::string::npos ? 1 : 0;
    }
    return n;
  }
  std::vector<std::string> offered() {
    std::vector<std::string> names;
    const auto requests = f().model().requests();
    for (const auto& t : requests.back().tools) names.push_back(t.name);
    return names;
  }
};

TEST_P(ToolsCacheTest, ACallersListingIsReusedUntilItsTtlPasses) {
  f().tools_offer({"calculator"});
  const std::string id = f().conversation("alice", R"({"tools":"all"})");
  for (int i = 0; i < 3; ++i) {
    f().model().push(answer({"ok"}));
    ASSERT_TRUE(f().turn("alice", id, "hi").ok());
  }
  EXPECT_EQ(listings(), 1U);
  EXPECT_EQ(offered(), std::vector<std::string>{"calculator"});
  f().clock().advance(std::chrono::seconds(5));
  f().model().push(answer({"ok"}));
  ASSERT_TRUE(f().turn("alice", id, "hi").ok());
  EXPECT_EQ(listings(), 2U);
  // Another user has a listing of their own.
  const std::string bobs = f().conversation("bob", R"({"tools":"all"})");
  f().model().push(answer({"ok"}));
  ASSERT_TRUE(f().turn("bob", bobs, "hi").ok());
  EXPECT_EQ(listings(), 3U);
}

TEST_P(ToolsCacheTest, AConversationsToolChoiceAppliesAtOnce) {
  f().tools_offer({"calculator", "current_time"});
  const std::string id = f().conversation("alice", R"({"tools":["calculator"]})");
  f().model().push(answer({"ok"}));
  ASSERT_TRUE(f().turn("alice", id, "hi").ok());
  EXPECT_EQ(offered(), std::vector<std::string>{"calculator"});
  ASSERT_EQ(
      f().as("alice", "PATCH", "/api/chat/conversations/" + id, R"({"tools":["current_time"]})")
          .status,
      200);
  f().model().push(answer({"ok"}));
  ASSERT_TRUE(f().turn("alice", id, "hi").ok());
  EXPECT_EQ(offered(), std::vector<std::string>{"current_time"});
  EXPECT_EQ(listings(), 1U);
}

TEST_P(ToolsCacheTest, AToolAnsweredAsGoneDropsTheListing) {
  f().tools_offer({"calculator"});
  f().http().respond(std::string(kTools) + "/api/tools/calculator/invoke", 404,
                     R"({"error":{"code":"not_found","message":"no tool 'calculator'"}})");
  const std::string id = f().conversation("alice", R"({"tools":"all"})");
  f().model().push(tools({call("call_1", "calculator", R"({"expression":"1"})")}));
  f().model().push(answer({"it is gone"}));
  ASSERT_TRUE(f().turn("alice", id, "hi").ok());
  EXPECT_EQ(listings(), 1U);
  f().model().push(answer({"ok"}));
  ASSERT_TRUE(f().turn("alice", id, "hi").ok());
  EXPECT_EQ(listings(), 2U);
}

TEST(ToolsCache, ListingsAreKeptPerRolesAndNotWhenTheyFail) {
  core::testing::FakeClock clock;
  core::testing::FakeHttpClient http;
  http.respond(std::string(kTools) + "/api/tools", 503, R"({"error":{"code":"down"}})", {}, 1);
  http.respond(std::string(kTools) + "/api/tools", 200,
               R"({"tools":[{"type":"function","function":{"name":"calculator"}}]})");
  ToolsCacheOptions o;
  o.ttl = std::chrono::seconds(5);
  ToolsClient client(http, kTools, clock, o);
  asio::io_context ioc;
  auto list = [&](const std::string& roles) {
    auto fut = asio::co_spawn(ioc, client.list(Caller{"alice", roles, "req"}), asio::use_future);
    ioc.restart();
    ioc.run();
    return fut.get();
  };
  EXPECT_FALSE(list("").ok());  // not kept
  ASSERT_TRUE(list("").ok());
  ASSERT_TRUE(list("").ok());
  ASSERT_TRUE(list("admin").ok());
  ASSERT_TRUE(list("admin").ok());
  EXPECT_EQ(http.requests().size(), 3U);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ToolsCacheTest);

}  // namespace
}  // namespace enkisys::agent::testing
