#include "enkisys/agent/turn.hpp"

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <iterator>
#include <memory>
#include <optional>
#include <set>

#include "enkisys/agent/json.hpp"
#include "enkisys/agent/limits.hpp"
#include "enkisys/agent/memory.hpp"

namespace enkisys::agent {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using core::ErrorKind;
using Steady = std::chrono::steady_clock;

struct TurnRunner::State {
  Actor actor;
  Caller caller;
  std::string conversation_id;
  TurnSink sink;
  Conversation conv;
  ChatRequest request;  // its context: the passages; its tools: the conversation's tools
  std::optional<ConversationStore::SummaryUpdate> summary;  // stored with the answer
  Usage usage;
  std::string model_name;
  json::array tool_log;
  std::vector<StoredMessage> round_results;
  std::string partial;  // text of the current model call so far
  Steady::time_point deadline;
  bool timed_out = false;

  void emit(std::string_view name, json::value data) const {
    if (sink) sink(name, std::move(data));
  }
};

namespace {

awaitable<bool> cancelled() {
  const auto cs = co_await asio::this_coro::cancellation_state;
  co_return cs.cancelled() != asio::cancellation_type::none;
}

std::string page_text(const Passage& p) {
  std::string s = p.title.empty() ? p.document_id : p.title;
  for (std::size_t i = 0; i < p.heading_path.size(); ++i) {
    s += (i == 0 ? " — " : " > ") + p.heading_path[i];
  }
  if (p.page > 0) s += " (page " + std::to_string(p.page) + ")";
  return s;
}

// (A plain function: GCC 12 miscompiles braced aggregates inside coroutines.)
ChatMessage text_message(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

ChatMessage call_message_of(const ChatResult& r) {
  ChatMessage m = text_message("assistant", r.content);
  m.tool_calls = r.tool_calls;
  return m;
}

ChatMessage tool_message(const ToolCall& call, std::string content) {
  ChatMessage m = text_message("tool", std::move(content));
  m.tool_call_id = call.id;
  m.name = call.name;
  return m;
}

core::Error turn_timeout() {
  return core::make_error(ErrorKind::kDeadlineExceeded, "turn_timeout",
                          "the turn took longer than its time budget");
}

core::Error tool_error(std::string code, std::string message) {
  return core::make_error(ErrorKind::kInvalidArgument, std::move(code), std::move(message));
}

}  // namespace

std::string context_message(const std::vector<Passage>& passages) {
  std::string s =
      "Answer from these numbered passages when they are relevant and cite each one you use as "
      "[n].\n";
  for (const auto& p : passages) {
    s += "\n[" + std::to_string(p.index) + "] " + page_text(p) + "\n" + p.text + "\n";
  }
  return s;
}

std::vector<Passage> cited(const std::vector<Passage>& passages, std::string_view answer) {
  std::set<int> numbers;
  for (std::size_t i = 0; i < answer.size(); ++i) {
    if (answer[i] != '[') continue;
    std::size_t j = i + 1;
    std::vector<int> found;
    int n = -1;
    for (; j < answer.size() && j < i + 64; ++j) {
      const char c = answer[j];
      if (c >= '0' && c <= '9') {
        n = (n < 0 ? 0 : n) * 10 + (c - '0');
        if (n > 100000) break;
      } else if ((c == ',' || c == ' ' || c == ']') && n >= 0) {
        found.push_back(n);
        n = -1;
        if (c == ']') break;
      } else if (c != ' ') {
        break;
      }
    }
    if (j < answer.size() && answer[j] == ']') numbers.insert(found.begin(), found.end());
  }
  std::vector<Passage> out;
  for (const int k : numbers) {
    for (const auto& p : passages) {
      if (p.index == k) out.push_back(p);
    }
  }
  return out;
}

TurnRunner::TurnRunner(ConversationStore& store, ChatModel& model, RagClient& rag,
                       ToolsClient& tools, asio::thread_pool& blocking, const core::Clock& clock,
                       core::Logger& log, TurnOptions options)
    : store_(store),
      model_(model),
      rag_(rag),
      tools_(tools),
      blocking_(blocking),
      clock_(clock),
      log_(log),
      options_(options) {}

awaitable<core::Expected<TurnResult>> TurnRunner::run(Actor actor, Caller caller,
                                                      std::string conversation_id,
                                                      std::string content, TurnSink sink) {
  // The turn relaxes the cancellation rules of the coroutine thread it runs on (below); the
  // caller's own rule is put back after it. (Not a thread of its own: an open stream would hold
  // one more frame and its scheduling state.)
  const bool throws = co_await asio::this_coro::throw_if_cancelled();
  auto r = co_await run_inner(std::move(actor), std::move(caller), std::move(conversation_id),
                              std::move(content), std::move(sink));
  co_await asio::this_coro::throw_if_cancelled(throws);
  co_return r;
}

awaitable<core::Expected<TurnResult>> TurnRunner::run_inner(Actor actor, Caller caller,
                                                            std::string conversation_id,
                                                            std::string content, TurnSink sink) {
  // After a cancellation the turn still stores what it produced.
  co_await asio::this_coro::throw_if_cancelled(false);
  State st;
  st.actor = std::move(actor);
  st.caller = std::move(caller);
  st.conversation_id = std::move(conversation_id);
  st.sink = std::move(sink);
  st.deadline = Steady::now() + options_.turn_timeout;

  // The preparation's locals live in its own frame, gone before the model streams.
  auto ready = co_await prepare(st, std::move(content));
  if (!ready) co_return ready.error();

  // One call of finish() (each co_await site keeps its own result in this frame, which an open
  // stream holds): an interrupted turn stores what it produced, then answers `failure`.
  core::Expected<ChatResult> r;
  std::optional<core::Error> failure;
  for (int round = 0;; ++round) {
    const bool last = round >= options_.max_tool_rounds;
    // The last call goes without tools (put back afterwards: a tool call still needs them).
    std::vector<ToolSpec> offered;
    if (last) offered.swap(st.request.tools);
    r = co_await call_model(st);
    if (last) offered.swap(st.request.tools);
    if (co_await cancelled()) {
      failure = core::make_error(ErrorKind::kUnavailable, "cancelled", "the client went away");
      break;
    }
    if (!r) {
      if (st.timed_out) {
        failure = r.error();
        break;
      }
      log_.warn("model call failed",
                {{"request_id", st.caller.request_id}, {"error", r.error().message}});
      co_return core::make_error(
          ErrorKind::kUpstream, "model_unavailable",
          "the language model is unavailable (" + r.error().message + "); your message was kept");
    }
    st.usage.prompt_tokens += r->usage.prompt_tokens;
    st.usage.completion_tokens += r->usage.completion_tokens;
    st.model_name = r->model;
    if (r->tool_calls.empty() || last) break;

    auto saved = co_await tool_round(st, *r);
    if (!saved) co_return saved.error();
    if (co_await cancelled()) {
      failure = core::make_error(ErrorKind::kUnavailable, "cancelled", "the client went away");
      break;
    }
  }
  auto done = co_await finish(st, failure ? nullptr : &*r, failure.has_value());
  if (failure) co_return *failure;
  co_return done;
}

awaitable<core::Status> TurnRunner::prepare(State& st, std::string content) {
  StoredMessage user_message;
  user_message.role = "user";
  user_message.content = content;
  auto loaded = co_await on_pool(blocking_, [&] {
    return store_.begin_turn(st.actor, st.conversation_id, std::move(user_message));
  });
  if (!loaded) co_return loaded.error();
  st.conv = std::move(loaded->conversation);
  std::vector<Passage>& passages = st.request.context;
  std::vector<ToolSpec>& tools = st.request.tools;

  if (!st.conv.collections.empty()) {
    auto r = co_await rag_.search(st.caller, content, st.conv.collections, options_.rag_k);
    if (r) {
      passages = std::move(r).value();
    } else {
      log_.warn("rag search failed; the turn goes on without context",
                {{"request_id", st.caller.request_id}, {"error", r.error().message}});
    }
  }
  if (st.conv.all_tools || !st.conv.tools.empty()) {
    auto t = co_await tools_.list(st.caller);
    if (t) {
      for (auto& spec : *t) {
        if (st.conv.all_tools || std::find(st.conv.tools.begin(), st.conv.tools.end(), spec.name) !=
                                     st.conv.tools.end()) {
          tools.push_back(std::move(spec));
        }
      }
    } else {
      log_.warn("listing tools failed; the turn goes on without tools",
                {{"request_id", st.caller.request_id}, {"error", t.error().message}});
    }
  }

  // Memory: the fixed part first, then as many recent turns as the rest of the budget allows.
  std::vector<ChatMessage> head, tail;
  if (!st.conv.system_prompt.empty()) head.push_back(text_message("system", st.conv.system_prompt));
  if (!passages.empty()) tail.push_back(text_message("system", context_message(passages)));
  tail.push_back(text_message("user", std::move(content)));
  int fixed = 0;
  for (const auto& m : head) fixed += message_tokens(m);
  for (const auto& m : tail) fixed += message_tokens(m);
  for (const auto& t : tools) {
    fixed += estimate_tokens(t.name) + estimate_tokens(t.description) +
             (t.parameters ? estimate_tokens(json::serialize(*t.parameters)) : 0);
  }
  const int summary_reserve = static_cast<int>(options_.summary_max_bytes / 2) + 16;
  Memory mem =
      build_memory(loaded->messages, st.conv.summary, st.conv.summarized_upto,
                   options_.context_tokens - fixed - summary_reserve, options_.summary_max_bytes);
  loaded->messages = {};  // the window holds what the prompt needs
  ChatRequest& req = st.request;
  req.model = st.conv.model;
  req.messages = std::move(head);
  req.messages.reserve(req.messages.size() + 1 + tail.size());
  if (!mem.summary.empty()) {
    req.messages.push_back(
        text_message("system", "Summary of the earlier conversation:\n" + mem.summary));
  }
  // The window is sent from the messages it shares with the window cache: no copy per turn.
  req.history_at = req.messages.size();
  req.history = std::move(mem.window);
  std::move(tail.begin(), tail.end(), std::back_inserter(req.messages));
  // A changed summary is stored with the answer (one transaction fewer); a turn that fails
  // before storing one leaves the old summary, and the next turn folds the same turns again.
  if (mem.summary_changed) {
    st.summary = ConversationStore::SummaryUpdate{std::move(mem.summary), mem.summarized_upto};
  }
  // Of the conversation, only its model is needed from here on.
  Conversation kept;
  kept.model = std::move(st.conv.model);
  st.conv = std::move(kept);
  co_return core::ok_status();
}

awaitable<core::Status> TurnRunner::tool_round(State& st, const ChatResult& r) {
  StoredMessage call_message;
  call_message.role = "assistant";
  call_message.content = r.content;
  call_message.tool_calls = r.tool_calls;
  call_message.model = r.model;
  st.request.messages.push_back(call_message_of(r));
  st.round_results.clear();
  st.partial.clear();
  for (const auto& tc : r.tool_calls) {
    co_await run_tool(st, tc);
    if (co_await cancelled()) break;
  }
  std::vector<StoredMessage> batch;
  batch.push_back(std::move(call_message));
  batch.insert(batch.end(), st.round_results.begin(), st.round_results.end());
  auto saved = co_await on_pool(blocking_,
                                [&] { return store_.append(st.actor, st.conversation_id, batch); });
  if (!saved) co_return saved.error();
  co_return core::ok_status();
}

namespace {

// A model call's deadline without a parallel group (whose frames and state an open stream would
// hold): the timer's expiry, or the caller's cancellation, emits the call's own signal.
struct CallDeadline {
  explicit CallDeadline(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  asio::cancellation_signal stop;
  bool expired = false;
};

// Cancels the timer (and with it the reference its handler holds) however the call ends.
struct TimerGuard {
  explicit TimerGuard(std::shared_ptr<CallDeadline> deadline) : d(std::move(deadline)) {}
  TimerGuard(const TimerGuard&) = delete;
  TimerGuard& operator=(const TimerGuard&) = delete;
  ~TimerGuard() { d->timer.cancel(); }
  std::shared_ptr<CallDeadline> d;
};

}  // namespace

awaitable<core::Expected<ChatResult>> complete_within(ChatModel& model, const ChatRequest& request,
                                                      DeltaSink on_delta,
                                                      Steady::time_point deadline) {
  if (Steady::now() >= deadline) co_return turn_timeout();
  const auto outer = co_await asio::this_coro::cancellation_state;
  if (outer.cancelled() != asio::cancellation_type::none) {
    co_return core::make_error(ErrorKind::kUnavailable, "cancelled",
                               "the model call was cancelled");
  }
  // The call runs on this executor (the connection's strand with several threads), so the
  // handlers below never run concurrently with it.
  const auto ex = co_await asio::this_coro::executor;
  auto d = std::make_shared<CallDeadline>(ex);
  const TimerGuard guard{d};
  d->timer.expires_at(deadline);
  d->timer.async_wait([d](const boost::system::error_code& ec) {
    if (ec) return;
    d->expired = true;
    d->stop.emit(asio::cancellation_type::terminal);
  });
  auto slot = outer.slot();
  if (slot.is_connected()) {
    slot.assign([d](asio::cancellation_type type) { d->stop.emit(type); });
  }
  core::Expected<ChatResult> r;
  try {
    r = co_await asio::co_spawn(ex, model.complete(request, std::move(on_delta)),
                                asio::bind_cancellation_slot(d->stop.slot(), asio::use_awaitable));
  } catch (const boost::system::system_error& e) {
    r = core::make_error(ErrorKind::kUnavailable, "cancelled", e.what());
  }
  if (slot.is_connected()) slot.clear();
  if (!r && d->expired) co_return turn_timeout();
  co_return r;
}

awaitable<core::Expected<ChatResult>> TurnRunner::call_model(State& st) {
  st.partial.clear();
  DeltaSink on_delta = [&st](std::string_view text) {
    st.partial.append(text);
    st.emit("message.delta", json::object{{"text", text}});
  };
  auto r = co_await complete_within(model_, st.request, std::move(on_delta), st.deadline);
  if (!r && r.error().code == "turn_timeout") st.timed_out = true;
  co_return r;
}

awaitable<void> TurnRunner::run_tool(State& st, const ToolCall& call) {
  st.emit("tool.call",
          json::object{{"id", call.id}, {"name", call.name}, {"arguments", call.arguments}});
  core::Expected<json::value> result = tool_error("unknown_tool", "");
  const bool offered = std::any_of(st.request.tools.begin(), st.request.tools.end(),
                                   [&](const ToolSpec& t) { return t.name == call.name; });
  boost::system::error_code ec;
  const bool blank = call.arguments.find_first_not_of(" \t\r\n") == std::string::npos;
  json::value args = blank ? json::value(json::object{}) : json::parse(call.arguments, ec);
  if (!offered) {
    result = tool_error("unknown_tool",
                        "no tool named '" + call.name + "' is available in this conversation");
  } else if (ec || !args.is_object()) {
    result = tool_error("invalid_arguments",
                        "the arguments of '" + call.name +
                            "' are not a JSON object; call the "
                            "tool again with a JSON object matching its parameters");
  } else {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(st.deadline - Steady::now());
    if (left.count() <= 0) {
      result = core::make_error(ErrorKind::kDeadlineExceeded, "tool_timeout",
                                "no time left in this turn to run the tool");
    } else {
      result = co_await tools_.invoke(st.caller, call.name, std::move(args.as_object()),
                                      std::min(left, options_.tool_timeout));
    }
  }
  json::object log{{"id", call.id}, {"name", call.name}, {"arguments", call.arguments}};
  json::object event{{"id", call.id}};
  std::string content;
  if (result) {
    log["result"] = *result;
    event["result"] = *result;
    content = json::serialize(*result);
  } else {
    const json::object e{{"code", result.error().code_or_default()},
                         {"message", result.error().message}};
    log["error"] = e;
    event["error"] = e;
    content = json::serialize(json::object{{"error", e}});
  }
  st.emit("tool.result", std::move(event));
  st.tool_log.emplace_back(std::move(log));
  StoredMessage m;
  m.role = "tool";
  m.content = content;
  m.tool_call_id = call.id;
  m.name = call.name;
  st.round_results.push_back(m);
  st.request.messages.push_back(tool_message(call, content));
}

awaitable<core::Expected<TurnResult>> TurnRunner::finish(State& st, const ChatResult* answer,
                                                         bool interrupted) {
  StoredMessage m;
  m.role = "assistant";
  m.content = answer != nullptr ? answer->content : st.partial;
  m.model = !st.model_name.empty()   ? st.model_name
            : !st.conv.model.empty() ? st.conv.model
                                     : model_.default_model();
  if (answer == nullptr) st.usage.completion_tokens += estimate_tokens(st.partial);
  m.usage = st.usage;
  m.interrupted = interrupted;
  json::array items;
  for (const auto& p : cited(st.request.context, m.content)) {
    items.emplace_back(citation_json(p));
  }
  m.citations = json::serialize(items);
  const ConversationStore::TokenCharge charge{st.actor.id, utc_day(clock_.now()),
                                              m.usage.prompt_tokens + m.usage.completion_tokens};
  const ConversationStore::SummaryUpdate* summary = st.summary ? &*st.summary : nullptr;
  auto saved = co_await on_pool(blocking_, [&] {
    return store_.append(st.actor, st.conversation_id, {m}, &charge, summary);
  });
  if (!saved) co_return saved.error();
  TurnResult tr;
  tr.tool_calls = st.tool_log;
  tr.json = message_json(saved->front(), &tr.tool_calls);
  if (!interrupted) {
    st.emit("citations", json::object{{"items", items}});
    st.emit("message.done", json::object{{"message", tr.json}});
  }
  co_return tr;
}

}  // namespace enkisys::agent
