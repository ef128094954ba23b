// The model interface of the conversation service: one chat turn of a language model, streamed
// or not, with tool calls. Implementations: OpenAiChatModel (any OpenAI-compatible
// /chat/completions endpoint: OpenAI, Ollama, llama.cpp's server, vLLM) and OfflineModel (the
// built-in answerer used when no endpoint is configured).
//
// Contract:
//  * complete() runs one model call. `on_delta` (may be empty) receives the answer's text
//    fragments in order as they are produced; the returned ChatResult holds the whole answer
//    (content == the fragments joined) and every tool call with complete arguments.
//  * Tool calls: `arguments` is the raw JSON text the model produced (it may be malformed: the
//    caller checks it); `id` is never empty (generated when the server sends none).
//  * Cancellation: the coroutine honours asio cancellation (terminal): a cancelled call stops
//    reading, closes its connection and completes with kCancelled-like error
//    (ErrorKind::kUnavailable, code "cancelled"), after on_delta has seen what arrived.
//  * Errors: core::Error — kUpstream "model_error" (the endpoint refused or answered malformed
//    data, after retries), kUnavailable "model_unreachable", kDeadlineExceeded "model_timeout"
//    (connect or first token too slow), kResourceExhausted "model_rate_limited" (429 after
//    retries; retry_after_s set). Never the API key in a message.
//  * Thread safety: complete() may run concurrently.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::agent {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // raw JSON text
};

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant" | "tool"
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant messages that call tools
  std::string tool_call_id;          // role "tool": the call answered
  std::string name;                  // role "tool": the tool's name
};

// A tool the model may call (OpenAI "function" tool).
struct ToolSpec {
  std::string name;
  std::string description;
  // JSON Schema (null: {"type":"object"}); immutable and shared, as a listing's tools are
  // handed to every turn that offers them.
  std::shared_ptr<const boost::json::value> parameters;
};

// A retrieved passage offered as context (the agent also renders it into a system message for
// models that read text; the offline model uses these directly).
struct Passage {
  int index = 0;  // 1-based citation number, as "[1]" in answers
  std::string chunk_id, document_id, collection_id, title, text;
  std::vector<std::string> heading_path;
  std::int64_t start = 0, end = 0;  // byte offsets into the document's text (rag's location)
  int page = 0;
};

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

struct ChatRequest {
  std::string model;  // empty: the implementation's default
  std::vector<ChatMessage> messages;
  std::vector<ToolSpec> tools;
  std::vector<Passage> context;
  std::optional<int> max_tokens;
  double temperature = 0.2;
};

struct ChatResult {
  std::string content;
  std::vector<ToolCall> tool_calls;
  std::string finish_reason;  // "stop" | "tool_calls" | "length" | ...
  Usage usage;                // estimated when the server reports none
  std::string model;          // the model that answered
};

using DeltaSink = std::function<void(std::string_view text)>;

class ChatModel {
 public:
  virtual ~ChatModel() = default;
  // The model id used when a request names none (shown in answers and GET /api/chat/models).
  virtual std::string default_model() const = 0;
  // Models this backend offers (GET /api/chat/models).
  virtual std::vector<std::string> models() const = 0;
  // REQUIRES: `request` outlives the call (the caller keeps it until the awaitable completes;
  // a long streamed answer then holds no copy of a possibly large prompt).
  virtual boost::asio::awaitable<core::Expected<ChatResult>> complete(const ChatRequest& request,
                                                                      DeltaSink on_delta) = 0;
};

// Rough token count of a text for budgets (about 4 bytes per token, at least 1 per word).
int estimate_tokens(std::string_view text);

}  // namespace enkisys::agent
