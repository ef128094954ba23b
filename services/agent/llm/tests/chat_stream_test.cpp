// The stream reader of OpenAiChatModel: SSE framing and chunk assembly as real servers send them.
#include "chat_stream.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace enkisys::agent::detail {
namespace {

std::string chunk(const std::string& delta, const std::string& finish = "null") {
  return "data: {\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + finish +
         "}]}\n\n";
}

TEST(ChatStream, JoinsTextAcrossArbitraryPieces) {
  std::string seen;
  ChatAccumulator acc([&](std::string_view t) { seen += t; });
  const std::string body = ": keep-alive\r\n\r\n" + chunk(R"({"role":"assistant","content":""})") +
                           chunk(R"({"content":"Hel"})") + chunk(R"({"content":"lo"})") +
                           chunk("{}", "\"stop\"") +
                           "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
                           "\"completion_tokens\":2}}\r\n\r\ndata: [DONE]\r\n\r\n";
  for (std::size_t i = 0; i < body.size(); i += 7) acc.feed(std::string_view(body).substr(i, 7));
  ASSERT_FALSE(acc.error());
  EXPECT_TRUE(acc.complete());
  EXPECT_EQ(seen, "Hello");
  const auto r = acc.result({}, "m");
  EXPECT_EQ(r.content, "Hello");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.prompt_tokens, 5);
  EXPECT_EQ(r.usage.completion_tokens, 2);
  EXPECT_EQ(r.model, "m");
}

TEST(ChatStream, ToolCallFragmentsJoinedByIndexWithGeneratedIds) {
  ChatAccumulator acc({});
  acc.feed(chunk(R"({"tool_calls":[{"index":1,"function":{"name":"current_","arguments":""}}]})"));
  acc.feed(chunk(R"({"tool_calls":[{"index":0,"id":"call_x","function":{"name":"calculator"}}]})"));
  acc.feed(
      chunk(R"({"tool_calls":[{"index":1,"function":{"name":"time","arguments":"{\"time"}}]})"));
  acc.feed(chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"expression\":"}}]})"));
  acc.feed(chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"zone\":\"UTC\"}"}}]})"));
  acc.feed(chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"6*7\"}"}}]})"));
  acc.feed(chunk("{}", "\"function_call\""));
  acc.feed("data: [DONE]\n\n");
  const auto r = acc.result({}, "m");
  EXPECT_EQ(r.finish_reason, "tool_calls");
  ASSERT_EQ(r.tool_calls.size(), 2U);
  EXPECT_EQ(r.tool_calls[0].id, "call_x");
  EXPECT_EQ(r.tool_calls[0].name, "calculator");
  EXPECT_EQ(r.tool_calls[0].arguments, R"({"expression":"6*7"})");
  EXPECT_EQ(r.tool_calls[1].id.rfind("call_", 0), 0U);
  EXPECT_NE(r.tool_calls[1].id, "call_x");
  EXPECT_EQ(r.tool_calls[1].name, "current_time");
  EXPECT_EQ(r.tool_calls[1].arguments, R"({"timezone":"UTC"})");
  EXPECT_GT(r.usage.completion_tokens, 0);  // estimated: no usage chunk
}

TEST(ChatStream, EventsWithoutBlankLinesAndALastLineWithoutItsEnd) {
  std::string seen;
  ChatAccumulator acc([&](std::string_view t) { seen += t; });
  acc.feed(
      "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n"
      "data: [DONE]");
  EXPECT_EQ(seen, "a");  // "b" is known to be whole at the next line
  EXPECT_FALSE(acc.complete());
  acc.end();
  EXPECT_EQ(seen, "ab");
  EXPECT_TRUE(acc.complete());
  EXPECT_FALSE(acc.error());
}

TEST(ChatStream, FinishReasonVariants) {
  for (const auto& [sent, want] : std::vector<std::pair<std::string, std::string>>{
           {"\"length\"", "length"}, {"\"eos\"", "stop"}, {"null", "stop"}}) {
    ChatAccumulator acc({});
    acc.feed(chunk(R"({"content":"x"})", sent) + "data: [DONE]\n\n");
    EXPECT_TRUE(acc.complete());
    EXPECT_EQ(acc.result({}, "m").finish_reason, want) << sent;
  }
  ChatAccumulator cut({});
  cut.feed(chunk(R"({"content":"x"})"));
  EXPECT_FALSE(cut.complete());
  EXPECT_TRUE(cut.delivered());
}

TEST(ChatStream, ErrorObjectInsideTheStream) {
  ChatAccumulator acc({});
  acc.feed(chunk(R"({"content":"par"})"));
  acc.feed("data: {\"error\":{\"message\":\"upstream overloaded\"}}\n\n");
  ASSERT_TRUE(acc.error());
  EXPECT_EQ(acc.error()->kind, core::ErrorKind::kUpstream);
  EXPECT_EQ(acc.error()->code, "model_error");
  EXPECT_NE(acc.error()->message.find("upstream overloaded"), std::string::npos);
}

TEST(ChatStream, WholeResponsesAndArgumentObjects) {
  ChatAccumulator acc({});
  acc.whole(R"({"model":"llama","choices":[{"message":{"role":"assistant","content":null,
    "tool_calls":[{"function":{"name":"calculator","arguments":{"expression":"1+1"}}}]},
    "finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}})");
  ASSERT_FALSE(acc.error());
  const auto r = acc.result({}, "m");
  EXPECT_EQ(r.model, "llama");
  EXPECT_EQ(r.finish_reason, "tool_calls");
  ASSERT_EQ(r.tool_calls.size(), 1U);
  EXPECT_EQ(r.tool_calls[0].arguments, R"({"expression":"1+1"})");
  EXPECT_FALSE(r.tool_calls[0].id.empty());
}

TEST(EstimateTokens, BytesAndWords) {
  EXPECT_EQ(estimate_tokens(""), 0);
  EXPECT_EQ(estimate_tokens("a b c d e"), 5);              // at least one per word
  EXPECT_EQ(estimate_tokens(std::string(400, 'x')), 100);  // about 4 bytes per token
}

}  // namespace
}  // namespace enkisys::agent::detail
