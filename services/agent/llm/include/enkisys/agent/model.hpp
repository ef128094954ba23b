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

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
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

class HistoryMessage;
void intrusive_ptr_add_ref(const HistoryMessage* m) noexcept;
void intrusive_ptr_release(const HistoryMessage* m) noexcept;
using HistoryPtr = boost::intrusive_ptr<const HistoryMessage>;

// A message of a conversation's history as the agent keeps it: immutable once made, and shared
// (reference-counted) by the memory cache and by every turn in flight that sends it: 64 turns
// at once point at the same few hundred messages instead of each copying them. One allocation
// holds the message and its text: 32 bytes and the text (a shared_ptr's block with the text
// apart took ~190 bytes for a 50-byte text). Tool calls, call id and tool name, which most
// messages lack, live apart.
class HistoryMessage {
 public:
  struct ToolFields {
    std::vector<ToolCall> tool_calls;
    std::string tool_call_id, name;
  };

  // `role`: "system", "user", "assistant" or "tool" (std::invalid_argument otherwise). No tool
  // fields are kept when all are empty.
  static HistoryPtr make(std::int64_t seq, std::string_view role, std::string_view content,
                         std::vector<ToolCall> tool_calls = {}, std::string tool_call_id = {},
                         std::string name = {});

  HistoryMessage(const HistoryMessage&) = delete;
  HistoryMessage& operator=(const HistoryMessage&) = delete;

  std::int64_t seq() const { return seq_; }
  std::string_view role() const;
  std::string_view content() const { return {text(), size_}; }
  bool has_tool_fields() const { return tool_ != nullptr; }
  const std::vector<ToolCall>& tool_calls() const;
  const std::string& tool_call_id() const;
  const std::string& name() const;
  // The bytes it holds: its block with the text, and its tool fields.
  std::size_t footprint() const;

 private:
  HistoryMessage(std::int64_t seq, std::uint8_t role, std::uint32_t size,
                 std::unique_ptr<const ToolFields> tool)
      : seq_(seq), tool_(std::move(tool)), size_(size), role_(role) {}
  ~HistoryMessage() = default;
  const char* text() const { return reinterpret_cast<const char*>(this + 1); }
  const ToolFields& fields() const;  // *tool_, or empty fields
  friend void intrusive_ptr_add_ref(const HistoryMessage* m) noexcept;
  friend void intrusive_ptr_release(const HistoryMessage* m) noexcept;

  std::int64_t seq_;
  std::unique_ptr<const ToolFields> tool_;
  mutable std::atomic<std::uint32_t> refs_{0};
  std::uint32_t size_;
  std::uint8_t role_;
  // The text follows the object in the same allocation.
};

struct MessageView;

// A conversation's memory window as a request sends it: shared messages, oldest first (8 bytes
// each in a request, against a copy of each). The assistant messages at the indices of
// `without_calls` (ascending) go without their tool calls, whose results are missing (an
// interrupted turn).
struct History {
  std::vector<HistoryPtr> messages;
  std::vector<std::uint32_t> without_calls;

  bool empty() const { return messages.empty(); }
  std::size_t size() const { return messages.size(); }
  bool with_calls(std::size_t i) const;
  MessageView view(std::size_t i) const;  // as sent
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
  // What is sent, in order: the first `history_at` of `messages` (system prompt, summary), then
  // `history` (the conversation's memory window, shared), then the rest of `messages` (context,
  // the new message, the turn's tool rounds). message_views() lists them so.
  std::vector<ChatMessage> messages;
  History history;
  std::size_t history_at = 0;
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

// One message of a request as sent, whichever of its parts holds it. Valid while the request
// (and so the history it shares) is.
struct MessageView {
  std::string_view role, content;
  std::span<const ToolCall> tool_calls;
  std::string_view tool_call_id, name;
};
MessageView view_of(const ChatMessage& m);
// Without `with_calls`, an assistant message's tool calls are left out and an empty text is
// sent as "(interrupted)".
MessageView view_of(const HistoryMessage& m, bool with_calls = true);
// Every message of `r` in the order sent.
std::vector<MessageView> message_views(const ChatRequest& r);

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
