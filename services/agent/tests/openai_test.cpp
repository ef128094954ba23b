// The OpenAI-compatible endpoint in the OpenAI wire format exactly (both backends: its usage
// counts toward the daily tokens kept in the store).
#include <boost/json.hpp>

#include "agent_fixture.hpp"

namespace enkisys::agent::testing {
namespace {

namespace json = boost::json;

class OpenAiTest : public AgentTest {};

std::vector<std::string> keys(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& [k, _] : v.as_object()) out.emplace_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(OpenAiTest, NonStreamingCompletion) {
  f().model().push(answer({"Hello ", "there."}, {12, 3}));
  const Reply r = f().as("alice", "POST", "/api/chat/v1/chat/completions",
                         R"({"model":"scripted-2","messages":[{"role":"system","content":"Be nice"},
                             {"role":"user","content":"Hi"}]})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(keys(r.body),
            (std::vector<std::string>{"choices", "created", "id", "model", "object", "usage"}));
  EXPECT_EQ(r.body.at("object"), "chat.completion");
  EXPECT_TRUE(r.body.at("id").as_string().starts_with("chatcmpl-"));
  EXPECT_TRUE(r.body.at("created").is_int64());
  EXPECT_EQ(r.body.at("model"), "scripted-2");
  const auto& choice = r.body.at("choices").at(0);
  EXPECT_EQ(keys(choice), (std::vector<std::string>{"finish_reason", "index", "message"}));
  EXPECT_EQ(choice.at("index"), 0);
  EXPECT_EQ(choice.at("message").at("role"), "assistant");
  EXPECT_EQ(choice.at("message").at("content"), "Hello there.");
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  EXPECT_EQ(r.body.at("usage").at("prompt_tokens"), 12);
  EXPECT_EQ(r.body.at("usage").at("completion_tokens"), 3);
  EXPECT_EQ(r.body.at("usage").at("total_tokens"), 15);
  // A plain model name passes through; the messages arrive as sent.
  const auto req = f().model().requests().back();
  EXPECT_EQ(req.model, "scripted-2");
  ASSERT_EQ(req.messages.size(), 2U);
  EXPECT_EQ(req.messages[0].role, "system");
}

TEST_P(OpenAiTest, StreamingCompletionChunksThenDone) {
  f().model().push(answer({"Hel", "lo"}));
  const std::string raw = core::testing::http_request(
      f().port(), "POST", "/api/chat/v1/chat/completions",
      R"({"model":"scripted-1","stream":true,"stream_options":{"include_usage":true},
          "messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]})",
      "X-User-Id: alice\r\n");
  ASSERT_EQ(core::testing::status_of(raw), 200) << raw;
  EXPECT_NE(raw.find("text/event-stream"), std::string::npos);
  const auto events = parse_sse(raw);
  ASSERT_EQ(events.size(), 6U) << raw;
  for (const auto& e : events) EXPECT_TRUE(e.name.empty());  // data-only lines
  EXPECT_EQ(events.back().data, "[DONE]");
  std::string text;
  std::string id;
  for (std::size_t i = 0; i + 2 < events.size(); ++i) {
    const auto c = events[i].json();
    EXPECT_EQ(keys(c), (std::vector<std::string>{"choices", "created", "id", "model", "object"}));
    EXPECT_EQ(c.at("object"), "chat.completion.chunk");
    EXPECT_EQ(c.at("model"), "scripted-1");
    if (id.empty()) id = std::string(c.at("id").as_string());
    EXPECT_EQ(c.at("id").as_string(), id);
    const auto& choice = c.at("choices").at(0);
    EXPECT_EQ(keys(choice), (std::vector<std::string>{"delta", "finish_reason", "index"}));
    if (const auto* t = choice.at("delta").as_object().if_contains("content")) {
      text += t->as_string();
    }
  }
  EXPECT_EQ(events[0].json().at("choices").at(0).at("delta").at("role"), "assistant");
  EXPECT_TRUE(events[1].json().at("choices").at(0).at("finish_reason").is_null());
  EXPECT_EQ(events[3].json().at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(text, "Hello");
  const auto usage = events[4].json();
  EXPECT_TRUE(usage.at("choices").as_array().empty());
  EXPECT_EQ(usage.at("usage").at("total_tokens"), 15);
}

TEST_P(OpenAiTest, CollectionModelAnswersFromThatCollection) {
  f().rag_answers({{"Handbook", "Leave is 25 days a year."}});
  f().model().push(answer({"25 days [1]."}));
  const Reply r =
      f().as("alice", "POST", "/api/chat/v1/chat/completions",
             R"({"model":"enkisys:col_1","messages":[{"role":"user","content":"Leave?"}]})");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("model"), "enkisys:col_1");
  const auto req = f().model().requests().back();
  EXPECT_TRUE(req.model.empty());  // the backend's default model answers
  ASSERT_EQ(req.context.size(), 1U);
  EXPECT_EQ(req.messages.back().content, "Leave?");
  EXPECT_NE(req.messages[req.messages.size() - 2].content.find("[1] Handbook"), std::string::npos);
  const auto search = f().http().requests().back();
  EXPECT_NE(search.body.find(R"("collections":["col_1"])"), std::string::npos);
}

TEST_P(OpenAiTest, ModelsListAndErrors) {
  f().http().respond(std::string(kRag) + "/api/rag/collections", 200,
                     R"({"collections":[{"id":"col_9","name":"n"}]})");
  const Reply r = f().as("alice", "GET", "/api/chat/v1/models");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.at("object"), "list");
  const auto& data = r.body.at("data").as_array();
  ASSERT_EQ(data.size(), 3U);
  EXPECT_EQ(keys(data[0]), (std::vector<std::string>{"created", "id", "object", "owned_by"}));
  EXPECT_EQ(data[0].at("object"), "model");
  EXPECT_EQ(data[2].at("id"), "enkisys:col_9");
  EXPECT_EQ(f().as("alice", "POST", "/api/chat/v1/chat/completions", R"({"model":"x"})").status,
            400);
  EXPECT_EQ(f().as("", "POST", "/api/chat/v1/chat/completions",
                   R"({"model":"x","messages":[{"role":"user","content":"hi"}]})")
                .status,
            401);
  f().model().push(
      failure(core::make_error(core::ErrorKind::kUnavailable, "model_unreachable", "down")));
  EXPECT_EQ(f().as("alice", "POST", "/api/chat/v1/chat/completions",
                   R"({"model":"x","messages":[{"role":"user","content":"hi"}]})")
                .status,
            502);
}

ENKISYS_DB_ON_BOTH_BACKENDS(OpenAiTest);

}  // namespace
}  // namespace enkisys::agent::testing
