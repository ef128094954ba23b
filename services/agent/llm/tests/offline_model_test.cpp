// The offline answerer: tool detection, tool results, extractive answers with citations.
#include "enkisys/agent/offline_model.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include "offline_text.hpp"

namespace enkisys::agent {
namespace {

namespace json = boost::json;

ChatRequest ask(std::string question, bool tools = true) {
  ChatRequest r;
  r.messages.push_back({"system", "You are helpful.", {}, {}, {}});
  r.messages.push_back({"user", std::move(question), {}, {}, {}});
  if (tools) {
    r.tools.push_back({"calculator", "Evaluate arithmetic", nullptr});
    r.tools.push_back({"current_time", "Current time", nullptr});
  }
  return r;
}

json::value args_of(const ChatResult& r) {
  return json::parse(r.tool_calls.at(0).arguments);
}

TEST(OfflineModel, CallsTheCalculatorForArithmetic) {
  OfflineModel m;
  for (const auto& [q, want] : std::vector<std::pair<std::string, std::string>>{
           {"what is 6*7?", "6 * 7"},
           {"How much is 12% of 250?", "12 / 100 * 250"},
           {"¿Cuánto es 3 más 4?", "3 + 4"},
           {"(2+3)*4", "( 2 + 3 ) * 4"},
           {"calculate 10 divided by 4", "10 / 4"}}) {
    const auto r = m.answer(ask(q));
    ASSERT_EQ(r.tool_calls.size(), 1U) << q;
    EXPECT_EQ(r.tool_calls[0].name, "calculator");
    EXPECT_EQ(args_of(r), json::parse(R"({"expression":")" + want + "\"}")) << q;
    EXPECT_EQ(r.finish_reason, "tool_calls");
    EXPECT_EQ(r.model, "enkisys-offline");
    EXPECT_FALSE(r.tool_calls[0].id.empty());
  }
}

TEST(OfflineModel, DoesNotCallToolsUnlessClearlyAsked) {
  OfflineModel m;
  for (const std::string q : {"Tell me about the 2024 release of version 3 of the API",
                              "what is the capital of France?", "hello"}) {
    EXPECT_TRUE(m.answer(ask(q)).tool_calls.empty()) << q;
  }
  EXPECT_TRUE(m.answer(ask("what is 6*7?", /*tools=*/false)).tool_calls.empty());
}

TEST(OfflineModel, CallsCurrentTimeWithTheCitysZone) {
  OfflineModel m;
  for (const auto& [q, zone] : std::vector<std::pair<std::string, std::string>>{
           {"What time is it in Madrid?", "Europe/Madrid"},
           {"what time is it in Tokyo", "Asia/Tokyo"},
           {"What's the time in New York right now?", "America/New_York"},
           {"¿Qué hora es en Nueva York?", "America/New_York"},
           {"hora en Buenos Aires", "America/Argentina/Buenos_Aires"},
           {"what time is it?", "UTC"}}) {
    const auto r = m.answer(ask(q));
    ASSERT_EQ(r.tool_calls.size(), 1U) << q;
    EXPECT_EQ(r.tool_calls[0].name, "current_time");
    EXPECT_EQ(args_of(r), (json::object{{"timezone", zone}})) << q;
  }
}

TEST(OfflineModel, AnswersWithToolResults) {
  OfflineModel m;
  auto req = ask("what is 6*7?");
  req.messages.push_back({"assistant", "", {{"call_1", "calculator", "{}"}}, {}, {}});
  req.messages.push_back({"tool", "42", {}, "call_1", {}});
  EXPECT_EQ(m.answer(req).content, "The result is 42.");
  auto t = ask("¿Qué hora es en Madrid?");
  t.messages.push_back({"assistant", "", {{"call_2", "current_time", "{}"}}, {}, {}});
  t.messages.push_back(
      {"tool",
       R"({"result":{"timezone":"Europe/Madrid","iso8601":"2026-11-30T14:05:09+01:00"}})",
       {},
       "call_2",
       {}});
  const auto r = m.answer(t);
  EXPECT_TRUE(r.tool_calls.empty());
  EXPECT_EQ(r.content, "Son las 14:05 en Europe/Madrid (2026-11-30T14:05:09+01:00).");
  auto e = ask("what is 1/0?");
  e.messages.push_back({"assistant", "", {{"call_3", "calculator", "{}"}}, {}, {}});
  e.messages.push_back(
      {"tool", R"({"error":{"code":"invalid","message":"division by zero"}})", {}, "call_3", {}});
  EXPECT_EQ(m.answer(e).content, "The tool calculator failed: division by zero.");
}

std::vector<Passage> passages() {
  Passage a;
  a.index = 1;
  a.text = "Enkisys is a platform. The gateway routes stages by prefix. It was written in C++.";
  Passage b;
  b.index = 2;
  b.text = "Backups run nightly at 02:00.\nThe gateway verifies JWT tokens with JWKS keys.";
  return {a, b};
}

TEST(OfflineModel, ExtractsTheBestSentencesWithCitations) {
  OfflineModel m;
  auto req = ask("How does the gateway verify tokens?");
  req.context = passages();
  const auto r = m.answer(req);
  EXPECT_TRUE(r.tool_calls.empty());
  EXPECT_EQ(r.content,
            "According to the documents: The gateway verifies JWT tokens with JWKS keys. [2]");
  auto es = ask("¿Cuándo se ejecutan los backups?");
  es.context = passages();
  EXPECT_EQ(m.answer(es).content, "Según los documentos: Backups run nightly at 02:00. [2]");
}

TEST(OfflineModel, SaysSoWithoutDocuments) {
  OfflineModel m;
  EXPECT_NE(m.answer(ask("who won the match?")).content.find("offline answerer"),
            std::string::npos);
  EXPECT_NE(m.answer(ask("¿quién ganó el partido?")).content.find("sin conexión"),
            std::string::npos);
}

TEST(OfflineModel, StreamsWordSizedFragments) {
  OfflineModel m;
  auto req = ask("How does the gateway verify tokens?");
  req.context = passages();
  std::vector<std::string> pieces;
  boost::asio::io_context io;
  auto fut = boost::asio::co_spawn(
      io, m.complete(req, [&](std::string_view p) { pieces.emplace_back(p); }),
      boost::asio::use_future);
  io.run();
  auto r = fut.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model, "enkisys-offline");
  EXPECT_GT(pieces.size(), 5U);
  std::string joined;
  for (const auto& p : pieces) {
    joined += p;
    const auto space = p.find(' ');
    EXPECT_TRUE(space == std::string::npos || p.find_first_not_of(' ', space) == std::string::npos)
        << p;  // one word and the spaces after it
  }
  EXPECT_EQ(joined, r->content);
  EXPECT_GT(r->usage.prompt_tokens, 0);
  EXPECT_GT(r->usage.completion_tokens, 0);
  EXPECT_EQ(m.models(), std::vector<std::string>{"enkisys-offline"});
}

}  // namespace
}  // namespace enkisys::agent
