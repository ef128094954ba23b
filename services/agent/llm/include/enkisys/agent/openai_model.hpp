// OpenAiChatModel: the ChatModel of any OpenAI-compatible /chat/completions endpoint (OpenAI,
// Ollama, llama.cpp's server, vLLM).
//
// Contract (in addition to ChatModel's, model.hpp):
//  * Request: POST {base_url}/chat/completions with model, messages (tool calls and tool
//    results in OpenAI form), tools ("function" tools), temperature, max_tokens; with an
//    on_delta sink the call streams (`stream: true`, `stream_options.include_usage`), else it
//    does not. Passages in ChatRequest::context are not sent (the caller renders them).
//  * Streams are read as real servers send them: SSE comments, CRLF, events split across
//    reads, tool-call fragments joined by `index` (missing ids → generated "call_<n>"),
//    finish_reason variants ("function_call" → "tool_calls"; "eos" or none at [DONE] →
//    "stop"), a final usage chunk (usage estimated with estimate_tokens when absent), and
//    error objects inside a 200 stream (kUpstream "model_error").
//  * Retries: 429, 5xx and network errors, up to max_attempts, with exponential backoff
//    (initial_backoff doubling, at most max_backoff) or the server's Retry-After (seconds),
//    and only while nothing was given to on_delta. A stream that ends before [DONE] or a
//    finish_reason after text was delivered → kUpstream "model_error" "the model's stream
//    ended early".
//  * Timeouts: connect_timeout (connect), first_token_timeout (the first byte of the answer),
//    timeout (the whole call, retries and waits included) → kDeadlineExceeded "model_timeout".
//  * The API key is sent only in the Authorization header; it never appears in an error.
//  * Thread safety: complete() may run concurrently; `http` must outlive the model.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "enkisys/agent/model.hpp"
#include "enkisys/core/client.hpp"

namespace enkisys::agent {

struct OpenAiOptions {
  std::string base_url;  // LLM_BASE_URL, e.g. https://api.openai.com/v1 or http://ollama:11434/v1
  std::string model;     // LLM_MODEL
  std::string api_key;   // from LLM_API_KEY_FILE; empty: no Authorization header
  int max_attempts = 4;  // 429/5xx/network, Retry-After honoured
  std::chrono::milliseconds initial_backoff{500}, max_backoff{20'000};
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds first_token_timeout{60'000};  // first byte of the answer
  std::chrono::milliseconds timeout{300'000};             // whole call
};

class OpenAiChatModel final : public ChatModel {
 public:
  OpenAiChatModel(core::HttpSender& http, OpenAiOptions options);

  std::string default_model() const override { return options_.model; }
  std::vector<std::string> models() const override { return {options_.model}; }
  boost::asio::awaitable<core::Expected<ChatResult>> complete(const ChatRequest& request,
                                                              DeltaSink on_delta) override;

 private:
  core::HttpSender& http_;
  OpenAiOptions options_;
};

}  // namespace enkisys::agent
