// One turn of a conversation: the user's message in, the assistant's answer out, with memory,
// retrieval, tool calls and persistence (issue #12, "A turn").
//
// Steps: load the conversation (404 for anyone but its owner) → store the user message (kept
// whatever happens next) → retrieve passages from rag with the conversation's collections
// (skipped when none; a rag failure is logged and the turn goes on without context) → list the
// conversation's tools (all, or those named) → build the memory (memory.hpp; a changed summary
// is stored) → the model loop: each tool call's arguments must parse as a JSON object and name
// an offered tool, else the model gets a tool error; otherwise the tool runs through the tools
// service with the caller's identity; its result or error goes back to the model. At most
// `max_tool_rounds` rounds of tool calls, then one last call without tools. Everything is stored
// as it completes: the assistant's tool-call message with its results after each round, the
// answer with its citations (the passages whose [n] it cites — only those) and usage, and the
// usage added to the user's daily tokens.
//
// Events (the stream's contract), reported through `sink` as they happen, in this order per
// round: message.delta {"text"}..., tool.call {"id","name","arguments"}, tool.result
// {"id","result"|"error"}; at the end citations {"items"} and message.done {"message"}.
//
// Cancellation: run() honours asio cancellation (terminal), e.g. a client that disconnects: the
// model call and tool loop stop, what was produced so far is stored with interrupted = true and
// run() answers kUnavailable "cancelled". The per-turn time budget works the same way and
// answers kDeadlineExceeded "turn_timeout".
//
// Errors: 404 not_found; 502 model_unavailable (the model failed; the user message is stored).
// Thread safety: run() may be called concurrently; store work runs on `blocking`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "enkisys/agent/backends.hpp"
#include "enkisys/agent/model.hpp"
#include "enkisys/agent/store.hpp"
#include "enkisys/core/clock.hpp"
#include "enkisys/core/log.hpp"

namespace enkisys::agent {

struct TurnOptions {
  int context_tokens = 6000;  // AGENT_CONTEXT_TOKENS: the whole prompt's budget
  int max_tool_rounds = 4;    // AGENT_MAX_TOOL_ROUNDS
  std::chrono::milliseconds turn_timeout{120'000};  // AGENT_TURN_TIMEOUT_S
  std::chrono::milliseconds tool_timeout{30'000};   // one tool invocation
  int rag_k = 6;
  std::size_t summary_max_bytes = 2000;
};

// Receives the turn's events (name, data) on the turn's executor, synchronously.
using TurnSink = std::function<void(std::string_view name, boost::json::value data)>;

// Small on purpose: a streamed turn's coroutine frames each keep room for one while it runs.
struct TurnResult {
  boost::json::array tool_calls;  // the turn's calls: {"id","name","arguments","result"|"error"}
  boost::json::object json;       // the API's "message" object: the stored answer
};

// Numbers passages 1..n and renders them into the text of a system message.
std::string context_message(const std::vector<Passage>& passages);
// The passages whose "[n]" the answer cites, in citation-number order.
std::vector<Passage> cited(const std::vector<Passage>& passages, std::string_view answer);
// One model call bounded by `deadline` (kDeadlineExceeded "turn_timeout" when it passes; the
// call is then cancelled). Honours the caller's cancellation like ChatModel::complete.
// REQUIRES: `request` outlives the call.
boost::asio::awaitable<core::Expected<ChatResult>> complete_within(
    ChatModel& model, const ChatRequest& request, DeltaSink on_delta,
    std::chrono::steady_clock::time_point deadline);
// Runs `fn` on `pool` and resumes the caller with its result (exceptions propagate).
template <typename Fn>
boost::asio::awaitable<std::invoke_result_t<Fn>> on_pool(boost::asio::thread_pool& pool, Fn fn);

class TurnRunner {
 public:
  TurnRunner(ConversationStore& store, ChatModel& model, RagClient& rag, ToolsClient& tools,
             boost::asio::thread_pool& blocking, const core::Clock& clock, core::Logger& log,
             TurnOptions options);

  boost::asio::awaitable<core::Expected<TurnResult>> run(Actor actor, Caller caller,
                                                         std::string conversation_id,
                                                         std::string content, TurnSink sink);

  const TurnOptions& options() const { return options_; }

 private:
  struct State;
  boost::asio::awaitable<core::Expected<TurnResult>> run_inner(Actor actor, Caller caller,
                                                               std::string conversation_id,
                                                               std::string content, TurnSink sink);
  // Stores the user message, then fills st.request: context, tools, memory, the message.
  boost::asio::awaitable<core::Status> prepare(State& st, std::string content);
  // Runs the tool calls of answer `r` and stores them with their results.
  boost::asio::awaitable<core::Status> tool_round(State& st, const ChatResult& r);
  // One model call with st.request.
  boost::asio::awaitable<core::Expected<ChatResult>> call_model(State& st);
  boost::asio::awaitable<void> run_tool(State& st, const ToolCall& call);
  boost::asio::awaitable<core::Expected<TurnResult>> finish(State& st, const ChatResult* answer,
                                                            bool interrupted);

  ConversationStore& store_;
  ChatModel& model_;
  RagClient& rag_;
  ToolsClient& tools_;
  boost::asio::thread_pool& blocking_;
  const core::Clock& clock_;
  core::Logger& log_;
  TurnOptions options_;
};

// --- implementation of on_pool ---
namespace detail {
template <typename R, typename Fn>
boost::asio::awaitable<R> call_on_pool(Fn fn) {
  co_return fn();
}
}  // namespace detail

template <typename Fn>
boost::asio::awaitable<std::invoke_result_t<Fn>> on_pool(boost::asio::thread_pool& pool, Fn fn) {
  using R = std::invoke_result_t<Fn>;
  co_return co_await boost::asio::co_spawn(pool, detail::call_on_pool<R, Fn>(std::move(fn)),
                                           boost::asio::use_awaitable);
}

}  // namespace enkisys::agent
