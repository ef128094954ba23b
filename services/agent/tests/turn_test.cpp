// The TurnRunner on its own (both backends): citations from rag, the tool loop (a round trip,
// malformed arguments, a failing tool, the rounds bound), the memory window far past the
// budget, a model that is down.
#include <boost/json.hpp>

#include "agent_fixture.hpp"
#include "enkisys/agent/memory.hpp"

namespace enkisys::agent::testing {
namespace {

namespace json = boost::json;

class TurnTest : public AgentTest {
 protected:
  FixtureOptions options() const override {
    FixtureOptions o;
    o.turn.max_tool_rounds = 3;
    return o;
  }
};

TEST_P(TurnTest, AnswerCitesOnlyThePassagesItUses) {
  f().rag_answers({{"Rome guide", "Rome is the capital of Italy."},
                   {"Paris guide", "Paris is the capital of France."},
                   {"Oslo guide", "Oslo is the capital of Norway."}});
  const std::string id = f().conversation("alice", R"({"collections":["col_1"]})");
  f().model().push(answer({"Rome is the capital ", "of Italy [1]."}, {20, 8}));
  auto r = f().turn("alice", id, "What is the capital of Italy?");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& citations = r->json.at("citations").as_array();
  ASSERT_EQ(citations.size(), 1U);
  EXPECT_EQ(citations[0].at("index"), 1);
  EXPECT_EQ(citations[0].at("title"), "Rome guide");
  // The passage itself travels with the citation, so a client can show it without a search.
  EXPECT_EQ(citations[0].at("text"), "Rome is the capital of Italy.");
  EXPECT_EQ(citations[0].at("document_id"), "doc1");
  EXPECT_EQ(citations[0].at("page"), 1);
  EXPECT_EQ(citations[0].at("location").at("page"), 1);
  EXPECT_GT(citations[0].at("location").at("end").to_number<int>(), 0);
  EXPECT_EQ(citations[0].at("heading_path").as_array().size(), 2U);
  // The model saw the numbered passages as text and as ChatRequest::context.
  const auto req = f().model().requests().back();
  ASSERT_EQ(req.context.size(), 3U);
  bool rendered = false;
  for (const auto& m : message_views(req)) {
    rendered =
        rendered || (m.role == "system" && m.content.find("[2] Paris guide") != std::string::npos);
  }
  EXPECT_TRUE(rendered);
  EXPECT_EQ(req.messages.back().content, "What is the capital of Italy?");
  // rag was asked with the caller's identity and the conversation's collections.
  const auto sent = f().http().requests().front();
  EXPECT_NE(sent.body.find("col_1"), std::string::npos);
  bool user_header = false;
  for (const auto& [k, v] : sent.headers)
    user_header = user_header || (k == "X-User-Id" && v == "alice");
  EXPECT_TRUE(user_header);
  // Stored: the user message and the answer with its citations and usage.
  const auto stored = f().messages("alice", id);
  ASSERT_EQ(stored.size(), 2U);
  EXPECT_EQ(stored[1].usage.prompt_tokens, 20);
  EXPECT_NE(stored[1].citations.find("Rome guide"), std::string::npos);
  EXPECT_EQ(stored[1].citations.find("Paris guide"), std::string::npos);
}

TEST_P(TurnTest, RagFailureIsNotFatal) {
  f().http().respond(std::string(kRag) + "/api/rag/search", 503, R"({"error":{"code":"x"}})");
  const std::string id = f().conversation("alice", R"({"collections":["col_1"]})");
  auto r = f().turn("alice", id, "hello");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(f().model().requests().back().context.empty());
}

TEST_P(TurnTest, CalculatorRoundTrip) {
  f().tools_offer({"calculator", "current_time"});
  f().http().respond(std::string(kTools) + "/api/tools/calculator/invoke", 200,
                     R"({"result":{"value":4}})");
  const std::string id = f().conversation("alice", R"({"tools":["calculator"]})");
  f().model().push(tools({call("call_1", "calculator", R"({"expression":"2+2"})")}));
  f().model().push(answer({"2+2 = 4"}));
  auto r = f().turn("alice", id, "what is 2+2?");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->json.at("content"), "2+2 = 4");
  ASSERT_EQ(r->tool_calls.size(), 1U);
  EXPECT_EQ(r->tool_calls[0].at("result").at("value"), 4);
  // Only the conversation's tools were offered; the result went back to the model.
  const auto reqs = f().model().requests();
  ASSERT_EQ(reqs.size(), 2U);
  ASSERT_EQ(reqs[0].tools.size(), 1U);
  EXPECT_EQ(reqs[0].tools[0].name, "calculator");
  EXPECT_EQ(reqs[1].messages.back().role, "tool");
  EXPECT_EQ(reqs[1].messages.back().tool_call_id, "call_1");
  EXPECT_EQ(reqs[1].messages.back().content, R"({"value":4})");
  // The invocation carried the caller's identity and the arguments.
  bool invoked = false;
  for (const auto& q : f().http().requests()) {
    if (q.url.find("/invoke") == std::string::npos) continue;
    invoked = true;
    EXPECT_EQ(json::parse(q.body).at("arguments").at("expression"), "2+2");
    bool user = false;
    for (const auto& [k, v] : q.headers) user = user || (k == "X-User-Id" && v == "alice");
    EXPECT_TRUE(user);
  }
  EXPECT_TRUE(invoked);
  // Stored: user, assistant tool call, tool result, answer.
  const auto stored = f().messages("alice", id);
  ASSERT_EQ(stored.size(), 4U);
  EXPECT_EQ(stored[1].tool_calls.size(), 1U);
  EXPECT_EQ(stored[2].role, "tool");
  EXPECT_EQ(stored[3].content, "2+2 = 4");
}

TEST_P(TurnTest, MalformedArgumentsAndFailingToolsAreToolErrorsAndTheLoopGoesOn) {
  f().tools_offer({"calculator"});
  f().http().respond(std::string(kTools) + "/api/tools/calculator/invoke", 500,
                     R"({"error":{"code":"tool_failed","message":"division by zero"}})");
  const std::string id = f().conversation("alice", R"({"tools":"all"})");
  f().model().push(tools({call("call_1", "calculator", R"({"expression": "1/0)")}));
  f().model().push(tools({call("call_2", "calculator", R"({"expression":"1/0"})")}));
  f().model().push(tools({call("call_3", "rm_rf", "{}")}));
  f().model().push(answer({"I could not compute it."}));
  auto r = f().turn("alice", id, "what is 1/0?");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->json.at("content"), "I could not compute it.");
  ASSERT_EQ(r->tool_calls.size(), 3U);
  EXPECT_EQ(r->tool_calls[0].at("error").at("code"), "invalid_arguments");
  EXPECT_EQ(r->tool_calls[1].at("error").at("code"), "tool_failed");
  EXPECT_EQ(r->tool_calls[1].at("error").at("message"), "division by zero");
  EXPECT_EQ(r->tool_calls[2].at("error").at("code"), "unknown_tool");
  const auto reqs = f().model().requests();
  ASSERT_EQ(reqs.size(), 4U);
  EXPECT_NE(reqs[1].messages.back().content.find("invalid_arguments"), std::string::npos);
  EXPECT_NE(reqs[2].messages.back().content.find("division by zero"), std::string::npos);
  // Only the well-formed call reached the tools service.
  int invocations = 0;
  for (const auto& q : f().http().requests())
    invocations += q.url.find("/invoke") != std::string::npos;
  EXPECT_EQ(invocations, 1);
}

TEST_P(TurnTest, ToolRoundsAreBounded) {
  f().tools_offer({"calculator"});
  f().http().respond(std::string(kTools) + "/api/tools/calculator/invoke", 200, R"({"result":1})");
  const std::string id = f().conversation("alice", R"({"tools":"all"})");
  for (int i = 0; i < 10; ++i) {
    f().model().push(tools({call("c" + std::to_string(i), "calculator", R"({"expression":"1"})")}));
  }
  auto r = f().turn("alice", id, "loop forever");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto reqs = f().model().requests();
  ASSERT_EQ(reqs.size(), 4U);  // 3 rounds of tools, then one call without tools
  EXPECT_TRUE(reqs.back().tools.empty());
  EXPECT_EQ(r->tool_calls.size(), 3U);
}

TEST_P(TurnTest, ModelDownKeepsTheUserMessage) {
  const std::string id = f().conversation("alice");
  f().model().push(failure(
      core::make_error(core::ErrorKind::kUnavailable, "model_unreachable", "connection refused")));
  auto r = f().turn("alice", id, "are you there?");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "model_unavailable");
  EXPECT_EQ(core::http_status_of(r.error().kind), 502);
  const auto stored = f().messages("alice", id);
  ASSERT_EQ(stored.size(), 1U);
  EXPECT_EQ(stored[0].content, "are you there?");
}

TEST_P(TurnTest, ToolTimeoutIsAToolErrorToo) {
  f().tools_offer({"slow"});
  f().http().fail(std::string(kTools) + "/api/tools/slow/invoke", core::ClientError::Code::kTimeout,
                  "timed out");
  const std::string id = f().conversation("alice", R"({"tools":"all"})");
  f().model().push(tools({call("call_1", "slow", "{}")}));
  f().model().push(answer({"The tool was too slow."}));
  auto r = f().turn("alice", id, "run the slow tool");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->tool_calls.size(), 1U);
  EXPECT_EQ(r->tool_calls[0].at("error").at("code"), "tool_timeout");
  EXPECT_EQ(r->json.at("content"), "The tool was too slow.");
}

class ShortTurnTest : public AgentTest {
 protected:
  FixtureOptions options() const override {
    FixtureOptions o;
    o.turn.turn_timeout = std::chrono::milliseconds(300);
    return o;
  }
};

TEST_P(ShortTurnTest, TurnOverItsTimeBudgetIsCutAndKeptInterrupted) {
  const std::string id = f().conversation("alice");
  Step s = answer({"Half an answer"});
  s.hang = true;
  f().model().push(s);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = f().turn("alice", id, "take your time");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // cut at 300 ms
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "turn_timeout");
  EXPECT_EQ(core::http_status_of(r.error().kind), 504);
  const auto stored = f().messages("alice", id);
  ASSERT_EQ(stored.size(), 2U);
  EXPECT_EQ(stored[1].content, "Half an answer");
  EXPECT_TRUE(stored[1].interrupted);
}

class LongTurnTest : public AgentTest {
 protected:
  FixtureOptions options() const override {
    FixtureOptions o;
    o.turn.context_tokens = 1500;
    return o;
  }
};

TEST_P(LongTurnTest, TwoHundredTurnsStayWithinTheBudgetAndKeepASummary) {
  const std::string id = f().conversation("alice", R"({"system_prompt":"You are terse."})");
  const std::string filler(300, 'x');
  for (int i = 0; i < 200; ++i) {
    f().model().push(answer({"answer " + std::to_string(i) + " " + filler}));
    auto r = f().turn("alice", id, "question " + std::to_string(i) + " " + filler);
    ASSERT_TRUE(r.ok()) << i << ": " << r.error().message;
  }
  const auto reqs = f().model().requests();
  ASSERT_EQ(reqs.size(), 200U);
  int worst = 0;
  for (const auto& req : reqs) {
    int tokens = 0;
    for (const auto& m : message_views(req)) tokens += message_tokens(m);
    worst = std::max(worst, tokens);
  }
  EXPECT_LE(worst, 1500);
  // The last request still holds the system prompt, the summary and the newest turn.
  const auto last = message_views(reqs.back());
  EXPECT_EQ(last.front().content, "You are terse.");
  EXPECT_NE(last[1].content.find("Summary of the earlier conversation"), std::string::npos);
  EXPECT_NE(last[last.size() - 2].content.find("answer 198"), std::string::npos);
  // The window is sent from the messages the window cache holds, not from a copy per turn:
  // consecutive turns send the very same message objects.
  const auto& before = reqs[198].history.messages;
  const auto& after = reqs[199].history.messages;
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(after.empty());
  std::size_t shared = 0;
  for (const auto& a : after) {
    for (const auto& b : before) shared += a == b ? 1 : 0;
  }
  EXPECT_GE(shared + 2, after.size());  // all but the newest turn's two messages
  auto c = f().store().get(Actor{"alice", false}, id);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->summary.empty());
  EXPECT_GT(c->summarized_upto, 300);
  EXPECT_LE(c->summary.size(), 2000U);
  EXPECT_EQ(f().messages("alice", id).size(), 400U);  // the history itself is all kept
}

ENKISYS_DB_ON_BOTH_BACKENDS(TurnTest);
ENKISYS_DB_ON_BOTH_BACKENDS(LongTurnTest);
ENKISYS_DB_ON_BOTH_BACKENDS(ShortTurnTest);

}  // namespace
}  // namespace enkisys::agent::testing
