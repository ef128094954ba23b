// A fake OpenAI-compatible chat-completions server for tests: an in-process HttpServer on an
// OS-chosen 127.0.0.1 port answering POST /v1/chat/completions from a script, one scripted
// reply per request in order, streamed (SSE) when the request asks `stream: true`.
//
//   FakeOpenAiServer llm;
//   llm.push(FakeReply::text({"Hel", "lo"}));                       // two deltas
//   llm.push(FakeReply::error(429, "slow down").retry_after(2));    // 429 + Retry-After: 2
//   OpenAiOptions o; o.base_url = llm.base_url(); o.model = "m";
//
// Contract:
//  * A request with nothing left in the script gets 500 {"error":{"message":"no scripted
//    reply"}}. GET /v1/models lists "fake-model".
//  * Every request is recorded (method, path, headers, body) before it is answered.
//  * Streamed replies: a role chunk, one chunk per text piece, tool-call fragments (the first
//    with id (unless empty), type and name, then argument pieces), a finish chunk, a usage
//    chunk (choices: []), then `data: [DONE]`; `pacing` between chunks, `first_delay` before
//    the first, `head_delay` before the response head. `cut_after` ≥ 0 closes the connection
//    after that many chunks (no [DONE], no last chunk). `stream_error` sends an error object
//    after the text. Waits end early when the client goes away; disconnects() counts the
//    streams whose client left before the reply was complete.
//  * Thread safety: all methods may be called from any thread while the server runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "enkisys/core/testing.hpp"

namespace enkisys::agent::testing {

struct FakeToolCall {
  int index = 0;
  std::string id;  // empty: the chunk has no id (llama.cpp, older Ollama)
  std::string name;
  std::vector<std::string> argument_pieces;  // joined: the arguments
};

struct FakeReply {
  unsigned status = 200;
  std::string error_body;  // the body of a non-200 reply
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> text_pieces;
  std::vector<FakeToolCall> tool_calls;
  std::string finish_reason = "stop";  // empty: null
  bool usage = true;
  int prompt_tokens = 11, completion_tokens = 7;
  std::string model = "fake-model";
  std::chrono::milliseconds head_delay{0}, first_delay{0}, pacing{0};
  int cut_after = -1;
  std::string stream_error;
  std::vector<std::string> raw_events;  // when set: these SSE data payloads, as they are

  static FakeReply text(std::vector<std::string> pieces);
  static FakeReply tool(std::string name, std::vector<std::string> argument_pieces,
                        std::string id = "call_abc");
  static FakeReply error(unsigned status, std::string message);
  FakeReply& retry_after(int seconds);
};

struct RecordedRequest {
  std::string method, path, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const;  // case-insensitive; empty if absent
};

class FakeOpenAiServer {
 public:
  FakeOpenAiServer();
  ~FakeOpenAiServer();
  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;

  // http://127.0.0.1:<port>/v1
  std::string base_url() const;
  void push(FakeReply reply);
  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;
  // Streams whose client went away before the reply was complete.
  int disconnects() const;
  // Waits (bounded) until disconnects() >= n.
  bool wait_for_disconnects(int n, std::chrono::milliseconds limit) const;
  // Waits (bounded) until request_count() >= n.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds limit) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::unique_ptr<core::testing::TestServer> server_;
};

}  // namespace enkisys::agent::testing
