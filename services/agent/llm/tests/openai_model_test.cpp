// OpenAiChatModel against the scripted fake OpenAI-compatible server: wire format, streamed
// and whole answers, tool calls, retries, timeouts, cut streams and cancellation.
#include "enkisys/agent/openai_model.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <thread>

#include "enkisys/agent/testing/fake_openai.hpp"
#include "enkisys/core/testing/fakes.hpp"

namespace enkisys::agent {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::FakeOpenAiServer;
using testing::FakeReply;

OpenAiOptions options_for(const FakeOpenAiServer& s) {
  OpenAiOptions o;
  o.base_url = s.base_url();
  o.model = "fake-model";
  o.api_key = "sk-secret-123";
  o.initial_backoff = 5ms;
  o.max_backoff = 2s;
  o.first_token_timeout = 5s;
  o.timeout = 20s;
  return o;
}

ChatRequest question() {
  ChatRequest r;
  r.messages.push_back({"system", "Be brief.", {}, {}, {}});
  r.messages.push_back({"user", "What is 6*7?", {}, {}, {}});
  r.tools.push_back({"calculator", "Evaluate arithmetic",
                     std::make_shared<const json::value>(json::parse(
                         R"({"type":"object","properties":{"expression":{"type":"string"}}})"))});
  return r;
}

struct Outcome {
  core::Expected<ChatResult> result;
  std::vector<std::string> deltas;
  std::chrono::steady_clock::duration took;
};

// Runs one call; streamed when `stream`. `cancel_after` ≥ 1: cancels after that many deltas.
Outcome call(const OpenAiOptions& o, bool stream, const ChatRequest& req = question(),
             int cancel_after = 0) {
  asio::io_context ioc;
  core::HttpClient http;
  OpenAiChatModel model(http, o);
  asio::cancellation_signal stop;
  std::vector<std::string> deltas;
  DeltaSink sink;
  if (stream) {
    sink = [&](std::string_view t) {
      deltas.emplace_back(t);
      if (static_cast<int>(deltas.size()) == cancel_after) {
        asio::post(ioc, [&] { stop.emit(asio::cancellation_type::terminal); });
      }
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto fut = asio::co_spawn(ioc, model.complete(req, sink),
                            asio::bind_cancellation_slot(stop.slot(), asio::use_future));
  ioc.run();
  return {fut.get(), std::move(deltas), std::chrono::steady_clock::now() - t0};
}

TEST(OpenAiChatModel, WholeAnswerAndWireFormat) {
  FakeOpenAiServer s;
  s.push(FakeReply::text({"The answer", " is 42."}));
  auto req = question();
  req.messages.push_back(
      {"assistant", "", {{"call_1", "calculator", R"({"expression":"6*7"})"}}, {}, {}});
  req.messages.push_back({"tool", "42", {}, "call_1", "calculator"});
  req.max_tokens = 100;
  auto out = call(options_for(s), false, req);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  EXPECT_EQ(out.result->content, "The answer is 42.");
  EXPECT_EQ(out.result->finish_reason, "stop");
  EXPECT_EQ(out.result->model, "fake-model");
  EXPECT_EQ(out.result->usage.prompt_tokens, 11);
  EXPECT_EQ(out.result->usage.completion_tokens, 7);
  const auto reqs = s.requests();
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].path, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer sk-secret-123");
  const auto body = json::parse(reqs[0].body).as_object();
  EXPECT_EQ(body.at("model"), "fake-model");
  EXPECT_FALSE(body.contains("stream"));
  EXPECT_EQ(body.at("max_tokens"), 100);
  EXPECT_EQ(body.at("tools"), json::parse(R"([{"type":"function","function":{"name":"calculator",
    "description":"Evaluate arithmetic","parameters":{"type":"object","properties":{
    "expression":{"type":"string"}}}}}])"));
  const auto& msgs = body.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 4U);
  EXPECT_EQ(msgs[1], json::parse(R"({"role":"user","content":"What is 6*7?"})"));
  EXPECT_EQ(msgs[2], json::parse(R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1",
    "type":"function","function":{"name":"calculator","arguments":"{\"expression\":\"6*7\"}"}}]})"));
  EXPECT_EQ(msgs[3], json::parse(R"({"role":"tool","content":"42","tool_call_id":"call_1"})"));
}

// A turn's memory window is shared with the agent's cache (ChatRequest::history): it is sent
// after the leading messages, and an interrupted call (no results) goes as text.
TEST(OpenAiChatModel, SharedHistoryGoesBetweenTheLeadingMessagesAndTheRest) {
  FakeOpenAiServer s;
  s.push(FakeReply::text({"ok"}));
  auto req = question();  // system, user
  auto earlier = HistoryMessage::make(1, "user", "Earlier question");
  auto interrupted = HistoryMessage::make(2, "assistant", "", {{"call_9", "calculator", "{}"}});
  auto called = HistoryMessage::make(3, "assistant", "Let me compute.",
                                     {{"call_7", "calculator", R"({"expression":"1+1"})"}});
  auto result = HistoryMessage::make(4, "tool", "2", {}, "call_7", "calculator");
  req.history.messages = {earlier, interrupted, called, result};
  req.history.without_calls = {1};
  req.history_at = 1;
  auto out = call(options_for(s), false, req);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  const auto msgs = json::parse(s.requests().at(0).body).at("messages").as_array();
  ASSERT_EQ(msgs.size(), 6U);
  EXPECT_EQ(msgs[0], json::parse(R"({"role":"system","content":"Be brief."})"));
  EXPECT_EQ(msgs[1], json::parse(R"({"role":"user","content":"Earlier question"})"));
  EXPECT_EQ(msgs[2], json::parse(R"j({"role":"assistant","content":"(interrupted)"})j"));
  EXPECT_EQ(msgs[3], json::parse(R"({"role":"assistant","content":"Let me compute.","tool_calls":[
    {"id":"call_7","type":"function","function":{"name":"calculator",
    "arguments":"{\"expression\":\"1+1\"}"}}]})"));
  EXPECT_EQ(msgs[4], json::parse(R"({"role":"tool","content":"2","tool_call_id":"call_7"})"));
  EXPECT_EQ(msgs[5], json::parse(R"({"role":"user","content":"What is 6*7?"})"));
}

// The body is written message by message (no document built first): every text is escaped,
// a tool without a schema gets {"type":"object"}, and the numbers are JSON numbers.
TEST(OpenAiChatModel, BodyEscapesEveryTextAndKeepsEveryField) {
  FakeOpenAiServer s;
  s.push(FakeReply::text({"ok"}));
  const std::string tricky = "say \"hi\"\n\tback\\slash \x01 caf\xc3\xa9 </script>";
  ChatRequest req;
  req.messages.push_back({"user", tricky, {}, {}, {}});
  req.messages.push_back({"assistant", "", {{"id \"1\"", "calc\n", R"({"a":"\"x\""})"}}, {}, {}});
  req.messages.push_back({"tool", tricky, {}, "id \"1\"", "calc\n"});
  req.tools.push_back({"bare", "no \"schema\"", nullptr});
  req.temperature = 0.75;
  auto out = call(options_for(s), false, req);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  const auto body = json::parse(s.requests().at(0).body).as_object();
  const auto& msgs = body.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 3U);
  EXPECT_EQ(msgs[0].at("content").as_string(), tricky);
  const auto& call0 = msgs[1].at("tool_calls").at(0);
  EXPECT_EQ(call0.at("id").as_string(), "id \"1\"");
  EXPECT_EQ(call0.at("function").at("name").as_string(), "calc\n");
  EXPECT_EQ(call0.at("function").at("arguments").as_string(), R"({"a":"\"x\""})");
  EXPECT_TRUE(msgs[1].at("content").is_null());
  EXPECT_EQ(msgs[2].at("tool_call_id").as_string(), "id \"1\"");
  EXPECT_EQ(msgs[2].at("content").as_string(), tricky);
  EXPECT_EQ(body.at("tools"), json::parse(R"([{"type":"function","function":{"name":"bare",
    "description":"no \"schema\"","parameters":{"type":"object"}}}])"));
  EXPECT_DOUBLE_EQ(body.at("temperature").as_double(), 0.75);
  EXPECT_FALSE(body.contains("max_tokens"));
}

TEST(OpenAiChatModel, StreamsDeltas) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({"Hel", "lo", " there"});
  reply.pacing = 5ms;
  s.push(reply);
  auto out = call(options_for(s), true);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  EXPECT_EQ(out.deltas, (std::vector<std::string>{"Hel", "lo", " there"}));
  EXPECT_EQ(out.result->content, "Hello there");
  EXPECT_EQ(out.result->usage.completion_tokens, 7);
  const auto reqs = s.requests();
  ASSERT_EQ(reqs.size(), 1U);
  const auto body = json::parse(reqs[0].body).as_object();
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(body.at("stream_options"), json::parse(R"({"include_usage":true})"));
  EXPECT_EQ(reqs[0].header("Accept"), "text/event-stream");
}

TEST(OpenAiChatModel, EstimatesUsageWhenTheServerSendsNone) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({"Forty", " two"});
  reply.usage = false;
  reply.finish_reason = "";  // null finish_reason, then [DONE]
  s.push(reply);
  auto out = call(options_for(s), true);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  EXPECT_EQ(out.result->finish_reason, "stop");
  EXPECT_GT(out.result->usage.prompt_tokens, 0);
  EXPECT_EQ(out.result->usage.completion_tokens, estimate_tokens("Forty two"));
}

TEST(OpenAiChatModel, SplitToolCallArgumentsAndMissingIds) {
  for (const bool stream : {true, false}) {
    FakeOpenAiServer s;
    s.push(FakeReply::tool("calculator", {"{\"expre", "ssion\": \"6", "*7\"}"}, ""));
    auto out = call(options_for(s), stream);
    ASSERT_TRUE(out.result.ok()) << out.result.error().message;
    ASSERT_EQ(out.result->tool_calls.size(), 1U);
    const auto& c = out.result->tool_calls[0];
    EXPECT_EQ(c.id.rfind("call_", 0), 0U) << c.id;
    EXPECT_EQ(c.name, "calculator");
    EXPECT_EQ(c.arguments, "{\"expression\": \"6*7\"}");
    EXPECT_EQ(out.result->finish_reason, "tool_calls");
    EXPECT_TRUE(out.deltas.empty());
  }
}

TEST(OpenAiChatModel, MalformedArgumentsAreReturnedAsSent) {
  FakeOpenAiServer s;
  s.push(FakeReply::tool("calculator", {"{\"expression\": "}, "call_9"));
  auto out = call(options_for(s), true);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  ASSERT_EQ(out.result->tool_calls.size(), 1U);
  EXPECT_EQ(out.result->tool_calls[0].id, "call_9");
  EXPECT_EQ(out.result->tool_calls[0].arguments, "{\"expression\": ");
}

TEST(OpenAiChatModel, RetriesA429HonouringRetryAfter) {
  FakeOpenAiServer s;
  s.push(FakeReply::error(429, "slow down").retry_after(1));
  s.push(FakeReply::text({"ok"}));
  auto out = call(options_for(s), true);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  EXPECT_EQ(out.result->content, "ok");
  EXPECT_EQ(s.request_count(), 2U);
  EXPECT_GE(out.took, 1s);  // waited as asked, not the 5 ms backoff
}

TEST(OpenAiChatModel, RetriesAreBounded) {
  FakeOpenAiServer s;
  for (int i = 0; i < 5; ++i) s.push(FakeReply::error(500, "broken"));
  auto o = options_for(s);
  o.max_attempts = 3;
  auto out = call(o, false);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kUpstream);
  EXPECT_EQ(out.result.error().code, "model_error");
  EXPECT_NE(out.result.error().message.find("500: broken"), std::string::npos);
  EXPECT_EQ(s.request_count(), 3U);

  FakeOpenAiServer limited;
  for (int i = 0; i < 3; ++i) limited.push(FakeReply::error(429, "quota"));
  o = options_for(limited);
  o.max_attempts = 2;
  out = call(o, true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kResourceExhausted);
  EXPECT_EQ(out.result.error().code, "model_rate_limited");
  EXPECT_GE(out.result.error().retry_after_s, 1);
  EXPECT_EQ(limited.request_count(), 2U);
}

TEST(OpenAiChatModel, ARetryAfterBeyondTheBackoffCapIsNotWaitedFor) {
  FakeOpenAiServer s;
  s.push(FakeReply::error(429, "come back later").retry_after(30));
  s.push(FakeReply::text({"too early"}));
  auto out = call(options_for(s), true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kResourceExhausted);
  EXPECT_EQ(out.result.error().retry_after_s, 30);
  EXPECT_EQ(s.request_count(), 1U);
}

TEST(OpenAiChatModel, ClientErrorsAreNotRetriedAndHideTheKey) {
  FakeOpenAiServer s;
  s.push(FakeReply::error(401, "Incorrect API key provided: sk-secret-123"));
  auto out = call(options_for(s), false);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kUpstream);
  EXPECT_NE(out.result.error().message.find("401"), std::string::npos);
  EXPECT_EQ(out.result.error().message.find("sk-secret-123"), std::string::npos);
  EXPECT_EQ(s.request_count(), 1U);
}

TEST(OpenAiChatModel, UnreachableEndpoint) {
  unsigned short port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: connections are refused
  OpenAiOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.model = "m";
  o.max_attempts = 2;
  o.initial_backoff = 1ms;
  auto out = call(o, true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kUnavailable);
  EXPECT_EQ(out.result.error().code, "model_unreachable");
}

TEST(OpenAiChatModel, SlowFirstTokenTimesOut) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({"late"});
  reply.first_delay = 3s;
  s.push(reply);
  auto o = options_for(s);
  o.first_token_timeout = 200ms;
  auto out = call(o, true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kDeadlineExceeded);
  EXPECT_EQ(out.result.error().code, "model_timeout");
  EXPECT_LT(out.took, 2s);
  EXPECT_EQ(s.request_count(), 1U);            // a timeout is not retried
  EXPECT_TRUE(s.wait_for_disconnects(1, 5s));  // the connection was closed
}

TEST(OpenAiChatModel, SlowResponseHeadTimesOutWithoutStreaming) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({"late"});
  reply.head_delay = 1s;
  s.push(reply);
  auto o = options_for(s);
  o.first_token_timeout = 150ms;
  auto out = call(o, false);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().code, "model_timeout");
  EXPECT_LT(out.took, 900ms);
}

TEST(OpenAiChatModel, WholeCallTimeout) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text(std::vector<std::string>(40, "tick "));
  reply.pacing = 50ms;
  s.push(reply);
  auto o = options_for(s);
  o.timeout = 400ms;
  auto out = call(o, true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().code, "model_timeout");
  EXPECT_FALSE(out.deltas.empty());  // what arrived was reported
  EXPECT_LT(out.took, 2s);
}

TEST(OpenAiChatModel, AStreamCutAfterTextIsAnErrorAndNotRetried) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({"Hel", "lo", " wor", "ld"});
  reply.cut_after = 3;  // role chunk, "Hel", "lo"
  s.push(reply);
  s.push(FakeReply::text({"never"}));
  auto out = call(options_for(s), true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kUpstream);
  EXPECT_EQ(out.result.error().message, "the model's stream ended early");
  EXPECT_EQ(out.deltas, (std::vector<std::string>{"Hel", "lo"}));
  EXPECT_EQ(s.request_count(), 1U);
}

TEST(OpenAiChatModel, AStreamCutBeforeAnyTextIsRetried) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({"Hel", "lo"});
  reply.cut_after = 1;  // only the role chunk
  s.push(reply);
  s.push(FakeReply::text({"again"}));
  auto out = call(options_for(s), true);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  EXPECT_EQ(out.result->content, "again");
  EXPECT_EQ(s.request_count(), 2U);
}

TEST(OpenAiChatModel, ErrorObjectInsideA200Stream) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({"par"});
  reply.stream_error = "the model crashed";
  s.push(reply);
  auto out = call(options_for(s), true);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().code, "model_error");
  EXPECT_NE(out.result.error().message.find("the model crashed"), std::string::npos);
  EXPECT_EQ(out.deltas, std::vector<std::string>{"par"});
}

TEST(OpenAiChatModel, RawServerQuirks) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text({});
  // llama.cpp style: no ids, "eos"-like finish, comments, no usage.
  reply.raw_events = {
      R"({"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"calc","arguments":"{}"}}]},"finish_reason":null}]})",
      R"({"choices":[{"index":0,"delta":{},"finish_reason":"eos"}]})", "[DONE]"};
  s.push(reply);
  auto out = call(options_for(s), true);
  ASSERT_TRUE(out.result.ok()) << out.result.error().message;
  EXPECT_EQ(out.result->content, "Hi");
  ASSERT_EQ(out.result->tool_calls.size(), 1U);
  EXPECT_EQ(out.result->finish_reason, "tool_calls");
}

TEST(OpenAiChatModel, CancellationMidStreamClosesTheConnection) {
  FakeOpenAiServer s;
  auto reply = FakeReply::text(std::vector<std::string>(50, "word "));
  reply.pacing = 20ms;
  s.push(reply);
  auto out = call(options_for(s), true, question(), /*cancel_after=*/2);
  ASSERT_FALSE(out.result.ok());
  EXPECT_EQ(out.result.error().kind, core::ErrorKind::kUnavailable);
  EXPECT_EQ(out.result.error().code, "cancelled");
  EXPECT_GE(out.deltas.size(), 2U);
  EXPECT_LT(out.deltas.size(), 50U);
  EXPECT_TRUE(s.wait_for_disconnects(1, 5s));
  EXPECT_EQ(s.request_count(), 1U);
}

TEST(OpenAiChatModel, ConnectTimeoutIsAModelTimeoutAndWorksWithTheFakeClient) {
  core::testing::FakeHttpClient http;
  http.fail("http://llm/", core::ClientError::Code::kTimeout, "resolving llm timed out", 1);
  http.respond("http://llm/", 200,
               "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}"
               "\n\ndata: [DONE]\n\n");
  OpenAiOptions o;
  o.base_url = "http://llm/v1/";
  o.model = "m";
  o.connect_timeout = 250ms;
  OpenAiChatModel model(http, o);
  for (int i = 0; i < 2; ++i) {
    asio::io_context ioc;
    std::string seen;
    const ChatRequest q = question();
    auto fut = asio::co_spawn(ioc, model.complete(q, [&](std::string_view t) { seen += t; }),
                              asio::use_future);
    ioc.run();
    auto r = fut.get();
    if (i == 0) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().kind, core::ErrorKind::kDeadlineExceeded);
      EXPECT_EQ(r.error().code, "model_timeout");
    } else {
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(seen, "Hi");
    }
  }
  const auto sent = http.requests();
  ASSERT_EQ(sent.size(), 2U);  // the timeout was not retried
  EXPECT_EQ(sent[0].url, "http://llm/v1/chat/completions");
  EXPECT_EQ(http.options()[0].connect_timeout, 250ms);
}

TEST(OpenAiChatModel, CancellationDuringABackoffWait) {
  FakeOpenAiServer s;
  s.push(FakeReply::error(503, "busy").retry_after(2));
  s.push(FakeReply::text({"too late"}));
  auto o = options_for(s);
  o.max_backoff = 5s;
  asio::io_context ioc;
  core::HttpClient http;
  OpenAiChatModel model(http, o);
  asio::cancellation_signal stop;
  const auto t0 = std::chrono::steady_clock::now();
  const ChatRequest q = question();
  auto fut = asio::co_spawn(ioc, model.complete(q, [](std::string_view) {}),
                            asio::bind_cancellation_slot(stop.slot(), asio::use_future));
  std::thread runner([&] { ioc.run(); });
  ASSERT_TRUE(s.wait_for_requests(1, 5s));
  asio::post(ioc, [&] { stop.emit(asio::cancellation_type::terminal); });
  runner.join();
  auto r = fut.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "cancelled");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);  // did not sit out the 2 s
  EXPECT_EQ(s.request_count(), 1U);
}

TEST(OpenAiChatModel, Models) {
  core::HttpClient http;
  OpenAiOptions o;
  o.model = "gpt-x";
  OpenAiChatModel m(http, o);
  EXPECT_EQ(m.default_model(), "gpt-x");
  EXPECT_EQ(m.models(), std::vector<std::string>{"gpt-x"});
}

}  // namespace
}  // namespace enkisys::agent
