// Conversations over HTTP on both backends: create, list (paged, newest first), get with
// messages, rename, delete; another user's conversation is 404 on every route.
#include <boost/json.hpp>

#include "agent_fixture.hpp"
#include "enkisys/agent/window_cache.hpp"

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
  ids.reserve(5);
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
  EXPECT_EQ(turn->messages.front()->seq(), 5);
  EXPECT_EQ(turn->messages.back()->content(), "m6");
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

// The window cache (window_cache.hpp) serves what a turn already read; another instance of the
// service writing to the same database is seen, and so is a summary that moved on.
TEST_P(ConversationsTest, ATurnSeesEveryMessageAlthoughTheWindowIsCached) {
  ConversationStore& mine = f().store();
  auto other_db = store_->open();
  ConversationStore other(*other_db);  // another instance of the service
  const Actor alice{"alice", false};
  const std::string id = f().conversation("alice");
  auto message = [](const std::string& role, const std::string& content) {
    StoredMessage m;
    m.role = role;
    m.content = content;
    return m;
  };
  auto contents = [](const TurnStart& ts) {
    std::vector<std::string> out;
    for (const auto& m : ts.messages)
      out.push_back(std::to_string(m->seq()) + ":" + std::string(m->content()));
    return out;
  };
  auto t1 = mine.begin_turn(alice, id, message("user", "u1"));
  ASSERT_TRUE(t1);
  EXPECT_TRUE(t1->messages.empty());
  ASSERT_TRUE(mine.append(alice, id, {message("assistant", "a1")}));
  auto t2 = mine.begin_turn(alice, id, message("user", "u2"));
  ASSERT_TRUE(t2);
  EXPECT_EQ(contents(*t2), (std::vector<std::string>{"1:u1", "2:a1"}));
  // Written elsewhere: an answer and a whole turn.
  ASSERT_TRUE(other.append(alice, id, {message("assistant", "a2")}));
  ASSERT_TRUE(other.begin_turn(alice, id, message("user", "u3")));
  ASSERT_TRUE(other.append(alice, id, {message("assistant", "a3")}));
  auto t4 = mine.begin_turn(alice, id, message("user", "u4"));
  ASSERT_TRUE(t4);
  EXPECT_EQ(contents(*t4),
            (std::vector<std::string>{"1:u1", "2:a1", "3:u2", "4:a2", "5:u3", "6:a3"}));
  // The summary moved on: the older messages are no longer the memory's.
  ASSERT_TRUE(other.set_summary(alice, id, "four", 4));
  auto t5 = mine.begin_turn(alice, id, message("user", "u5"));
  ASSERT_TRUE(t5);
  EXPECT_EQ(contents(*t5), (std::vector<std::string>{"5:u3", "6:a3", "7:u4"}));
  // Someone else gets nothing from the cache; a deleted conversation is gone.
  EXPECT_FALSE(mine.begin_turn(Actor{"mallory", false}, id, message("user", "x")));
  ASSERT_TRUE(mine.remove(alice, id));
  EXPECT_FALSE(mine.begin_turn(alice, id, message("user", "x")));
}

TEST(WindowCache, KeepsCompleteRangesWithinItsBound) {
  auto m = [](std::int64_t seq) { return HistoryMessage::make(seq, "user", ""); };
  const std::size_t empty = WindowCache::bytes_of(*m(0));
  WindowCache cache(4 * empty);  // four empty messages
  WindowCache::Messages out;
  EXPECT_EQ(cache.read("c1", 0, &out), 0);  // nothing cached: read everything after 0
  cache.store("c1", 0, 3, {m(1), m(2), m(3)});
  EXPECT_EQ(cache.read("c1", 1, &out), 3);
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0]->seq(), 2);
  out.clear();
  EXPECT_EQ(cache.read("c1", 5, &out), 5);  // past the range: the cache cannot serve it
  EXPECT_TRUE(out.empty());
  StoredMessage next;
  next.role = "user";
  next.seq = 5;  // not consecutive: not added
  cache.extend("c1", {next});
  EXPECT_EQ(cache.size(), 3U);
  next.seq = 4;
  cache.extend("c1", {next});
  EXPECT_EQ(cache.read("c1", 0, &out), 4);
  EXPECT_EQ(out.size(), 4U);
  // Over the bound, the least recently used conversation goes.
  cache.store("c2", 0, 2, {m(1), m(2)});
  EXPECT_EQ(cache.size(), 2U);
  EXPECT_EQ(cache.bytes(), 2 * empty);
  out.clear();
  EXPECT_EQ(cache.read("c1", 0, &out), 0);
  // The bound is in bytes: one long message outweighs it and is not kept.
  cache.store("c3", 0, 1, {HistoryMessage::make(1, "user", std::string(10000, 'x'))});
  EXPECT_EQ(cache.read("c3", 0, &out), 0);
  EXPECT_LE(cache.bytes(), 4 * empty);
}

// A cached message keeps its tool fields (an assistant's calls, a result's call id and tool
// name); a plain one keeps none, so it costs its text and the lean struct only.
TEST(WindowCache, KeepsToolFieldsApartAndOnlyWhenThereAreAny) {
  WindowCache cache(1 << 20);
  cache.store("c", 0, 0, {});
  StoredMessage call, result, plain;
  call.seq = 1;
  call.role = "assistant";
  call.tool_calls = {ToolCall{"call_1", "calculator", R"({"expression":"6*7"})"}};
  result.seq = 2;
  result.role = "tool";
  result.tool_call_id = "call_1";
  result.name = "calculator";
  result.content = "42";
  plain.seq = 3;
  plain.role = "user";
  plain.content = "thanks";
  cache.extend("c", {call, result, plain});
  WindowCache::Messages out;
  ASSERT_EQ(cache.read("c", 0, &out), 3);
  ASSERT_EQ(out.size(), 3U);
  ASSERT_EQ(out[0]->tool_calls().size(), 1U);
  EXPECT_EQ(out[0]->tool_calls()[0].id, "call_1");
  EXPECT_EQ(out[0]->tool_calls()[0].arguments, R"({"expression":"6*7"})");
  EXPECT_EQ(out[1]->tool_call_id(), "call_1");
  EXPECT_EQ(out[1]->name(), "calculator");
  EXPECT_FALSE(out[2]->has_tool_fields());
  EXPECT_TRUE(out[2]->tool_calls().empty());
  EXPECT_TRUE(out[2]->tool_call_id().empty());
  EXPECT_LT(WindowCache::bytes_of(*out[2]), WindowCache::bytes_of(*out[1]));
  // One block holds a message and its text.
  EXPECT_LE(sizeof(WindowMessage), 32U);
  EXPECT_EQ(out[2]->content(), "thanks");
  EXPECT_EQ(out[2]->role(), "user");
  EXPECT_EQ(out[2]->footprint(), sizeof(WindowMessage) + 6);
  EXPECT_THROW(HistoryMessage::make(4, "wizard", "x"), std::invalid_argument);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ConversationsTest);

}  // namespace
}  // namespace enkisys::agent::testing
