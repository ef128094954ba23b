// Conversations over HTTP on both backends: create, list (paged, newest first), get with
// messages, rename, delete; another user's conversation is 404 on every route.
#include <boost/json.hpp>

#include "agent_fixture.hpp"

namespace enkisys::agent::testing {
namespace {

namespace json = boost::json;

class ConversationsTest : public AgentTest {};

TEST_P(ConversationsTest, CreateGetRenameDelete) {
  const std::string id = f().conversation(
      "alice",
      R"({"title":"Trip","collections":["col_1"],"tools":"all","system_prompt":"Be brief"})");
  Reply r = f().as("alice", "GET", "/api/chat/conversations/" + id);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("title"), "Trip");
  EXPECT_EQ(r.body.at("tools"), "all");
  EXPECT_EQ(r.body.at("collections").as_array().size(), 1U);
  EXPECT_EQ(r.body.at("system_prompt"), "Be brief");
  EXPECT_TRUE(r.body.at("messages").as_array().empty());

  r = f().as("alice", "PATCH", "/api/chat/conversations/" + id,
             R"({"title":"Trip to Rome","tools":["calculator"]})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("title"), "Trip to Rome");
  EXPECT_EQ(r.body.at("tools").as_array().size(), 1U);

  ASSERT_EQ(f().say("alice", id, "hello").status, 200);
  r = f().as("alice", "GET", "/api/chat/conversations/" + id);
  ASSERT_EQ(r.body.at("messages").as_array().size(), 2U);
  EXPECT_EQ(r.body.at("messages").at(0).at("role"), "user");
  EXPECT_EQ(r.body.at("messages").at(1).at("role"), "assistant");

  EXPECT_EQ(f().as("alice", "DELETE", "/api/chat/conversations/" + id).status, 204);
  EXPECT_EQ(f().as("alice", "GET", "/api/chat/conversations/" + id).status, 404);
}

TEST_P(ConversationsTest, ListIsPagedNewestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(f().conversation("alice", R"({"title":"c)" + std::to_string(i) + R"("})"));
  }
  f().conversation("bob");
  // The newest activity first: a message moves a conversation to the top.
  ASSERT_EQ(f().say("alice", ids[1], "hi").status, 200);
  Reply r = f().as("alice", "GET", "/api/chat/conversations?limit=2");
  ASSERT_EQ(r.status, 200) << r.raw;
  const auto& page = r.body.at("conversations").as_array();
  ASSERT_EQ(page.size(), 2U);
  EXPECT_EQ(page.at(0).at("id").as_string(), ids[1]);
  r = f().as("alice", "GET", "/api/chat/conversations?limit=10&offset=2");
  EXPECT_EQ(r.body.at("conversations").as_array().size(), 3U);
  EXPECT_EQ(f().as("alice", "GET", "/api/chat/conversations?limit=0").status, 400);
}

TEST_P(ConversationsTest, AnotherUsersConversationIsNotFoundEverywhere) {
  const std::string id = f().conversation("alice", R"({"title":"secret"})");
  ASSERT_EQ(f().as("alice", "GET", "/api/chat/conversations/" + id).status, 200);  // control
  const std::string url = "/api/chat/conversations/" + id;
  EXPECT_EQ(f().as("mallory", "GET", url).status, 404);
  EXPECT_EQ(f().as("mallory", "PATCH", url, R"({"title":"mine"})").status, 404);
  EXPECT_EQ(f().as("mallory", "DELETE", url).status, 404);
  const Reply post = f().say("mallory", id, "hello");
  EXPECT_EQ(post.status, 404);
  EXPECT_EQ(post.body.at("error").at("code"), "not_found");
  const std::string streamed = f().say_streamed("mallory", id, "hello");
  EXPECT_EQ(core::testing::status_of(streamed), 404) << streamed;
  // Nothing of mallory's reached alice's conversation.
  const Reply r = f().as("alice", "GET", url);
  EXPECT_EQ(r.body.at("title"), "secret");
  EXPECT_TRUE(r.body.at("messages").as_array().empty());
  EXPECT_EQ(f().as("", "GET", "/api/chat/conversations").status, 401);
}

TEST_P(ConversationsTest, BadInputIsRefusedWithNothingWritten) {
  EXPECT_EQ(f().as("alice", "POST", "/api/chat/conversations", R"({"tools":"some"})").status, 400);
  EXPECT_EQ(f().as("alice", "POST", "/api/chat/conversations", R"({"colour":"red"})").status, 400);
  EXPECT_EQ(f().as("alice", "POST", "/api/chat/conversations", R"({"collections":[1]})").status,
            400);
  const Reply r = f().as("alice", "GET", "/api/chat/conversations");
  EXPECT_TRUE(r.body.at("conversations").as_array().empty());
}

// A turn reads what its memory can use, not the whole conversation: the messages after the
// rolling summary, in the same transaction that stores the user's message; the answer and the
// tokens it cost are written together.
TEST_P(ConversationsTest, ATurnReadsOnlyTheMessagesAfterTheSummary) {
  ConversationStore& store = f().store();
  const Actor alice{"alice", false};
  const std::string id = f().conversation("alice");
  std::vector<StoredMessage> history(6);
  for (std::size_t i = 0; i < history.size(); ++i) {
    history[i].role = i % 2 == 0 ? "user" : "assistant";
    history[i].content = "m" + std::to_string(i + 1);
  }
  ASSERT_TRUE(store.append(alice, id, history));
  ASSERT_TRUE(store.set_summary(alice, id, "the first four", 4));

  StoredMessage user;
  user.role = "user";
  user.content = "m7";
  auto turn = store.begin_turn(alice, id, user);
  ASSERT_TRUE(turn) << turn.error().message;
  EXPECT_EQ(turn->conversation.summary, "the first four");
  ASSERT_EQ(turn->messages.size(), 2U);
  EXPECT_EQ(turn->messages.front().seq, 5);
  EXPECT_EQ(turn->messages.back().content, "m6");
  // The user's message is stored (seq 7), not among the messages read.
  auto all = store.get_with_messages(alice, id);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->messages.size(), 7U);
  EXPECT_EQ(all->messages.back().content, "m7");
  EXPECT_EQ(all->messages.back().seq, 7);
  // Someone else's turn stores nothing.
  EXPECT_FALSE(store.begin_turn(Actor{"mallory", false}, id, user));
  EXPECT_EQ(store.get_with_messages(alice, id)->messages.size(), 7U);

  StoredMessage answer;
  answer.role = "assistant";
  answer.content = "m8";
  const ConversationStore::TokenCharge charge{"alice", "2026-11-30", 42};
  ASSERT_TRUE(store.append(alice, id, {answer}, &charge));
  EXPECT_EQ(store.tokens_used("alice", "2026-11-30"), 42);
  // A refused append charges nothing.
  EXPECT_FALSE(store.append(Actor{"mallory", false}, id, {answer}, &charge));
  EXPECT_EQ(store.tokens_used("alice", "2026-11-30"), 42);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ConversationsTest);

}  // namespace
}  // namespace enkisys::agent::testing
