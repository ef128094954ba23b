// The parts of a request's messages: history messages and the views a model sends.
#include <algorithm>

#include "enkisys/agent/model.hpp"

namespace enkisys::agent {

namespace {
const HistoryMessage::ToolFields kNoToolFields;
}  // namespace

void HistoryMessage::set_tool_fields(std::vector<ToolCall> calls, std::string call_id,
                                     std::string tool_name) {
  if (calls.empty() && call_id.empty() && tool_name.empty()) {
    tool.reset();
    return;
  }
  tool = std::make_unique<const ToolFields>(
      ToolFields{std::move(calls), std::move(call_id), std::move(tool_name)});
}
const std::vector<ToolCall>& HistoryMessage::tool_calls() const {
  return fields().tool_calls;
}
const std::string& HistoryMessage::tool_call_id() const {
  return fields().tool_call_id;
}
const std::string& HistoryMessage::name() const {
  return fields().name;
}
const HistoryMessage::ToolFields& HistoryMessage::fields() const {
  return tool ? *tool : kNoToolFields;
}

MessageView view_of(const ChatMessage& m) {
  return {m.role, m.content, m.tool_calls, m.tool_call_id, m.name};
}

MessageView view_of(const HistoryRef& h) {
  const HistoryMessage& m = *h.message;
  MessageView v{m.role, m.content, {}, m.tool_call_id(), m.name()};
  if (h.with_calls) {
    v.tool_calls = m.tool_calls();
  } else if (m.role == "assistant" && !m.tool_calls().empty() && m.content.empty()) {
    v.content = "(interrupted)";
  }
  return v;
}

std::vector<MessageView> message_views(const ChatRequest& r) {
  std::vector<MessageView> out;
  out.reserve(r.messages.size() + r.history.size());
  const std::size_t at = std::min(r.history_at, r.messages.size());
  for (std::size_t i = 0; i < at; ++i) out.push_back(view_of(r.messages[i]));
  for (const auto& h : r.history) out.push_back(view_of(h));
  for (std::size_t i = at; i < r.messages.size(); ++i) out.push_back(view_of(r.messages[i]));
  return out;
}

}  // namespace enkisys::agent
