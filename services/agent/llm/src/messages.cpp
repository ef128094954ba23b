// The parts of a request's messages: history messages and the views a model sends.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "enkisys/agent/model.hpp"

namespace enkisys::agent {

namespace {

const HistoryMessage::ToolFields kNoToolFields;
constexpr std::array<std::string_view, 4> kRoles{"system", "user", "assistant", "tool"};

std::size_t heap_of(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;  // beyond the short-string buffer
}

}  // namespace

HistoryPtr HistoryMessage::make(std::int64_t seq, std::string_view role, std::string_view content,
                                std::vector<ToolCall> tool_calls, std::string tool_call_id,
                                std::string name) {
  const auto r = std::find(kRoles.begin(), kRoles.end(), role);
  if (r == kRoles.end()) throw std::invalid_argument("unknown message role: " + std::string(role));
  if (content.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("message text too long");
  }
  std::unique_ptr<const ToolFields> tool;
  if (!tool_calls.empty() || !tool_call_id.empty() || !name.empty()) {
    tool = std::make_unique<const ToolFields>(
        ToolFields{std::move(tool_calls), std::move(tool_call_id), std::move(name)});
  }
  void* block = ::operator new(sizeof(HistoryMessage) + content.size());
  auto* m = new (block) HistoryMessage(seq, static_cast<std::uint8_t>(r - kRoles.begin()),
                                       static_cast<std::uint32_t>(content.size()), std::move(tool));
  std::memcpy(static_cast<char*>(block) + sizeof(HistoryMessage), content.data(), content.size());
  return HistoryPtr(m);
}

void intrusive_ptr_add_ref(const HistoryMessage* m) noexcept {
  m->refs_.fetch_add(1, std::memory_order_relaxed);
}

void intrusive_ptr_release(const HistoryMessage* m) noexcept {
  if (m->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    auto* p = const_cast<HistoryMessage*>(m);
    p->~HistoryMessage();
    ::operator delete(static_cast<void*>(p));
  }
}

std::string_view HistoryMessage::role() const {
  return kRoles[role_];
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
  return tool_ ? *tool_ : kNoToolFields;
}

std::size_t HistoryMessage::footprint() const {
  std::size_t n = sizeof(HistoryMessage) + size_;
  if (tool_) {
    n += sizeof(ToolFields) + heap_of(tool_->tool_call_id) + heap_of(tool_->name) +
         tool_->tool_calls.capacity() * sizeof(ToolCall);
    for (const auto& c : tool_->tool_calls) {
      n += heap_of(c.id) + heap_of(c.name) + heap_of(c.arguments);
    }
  }
  return n;
}

MessageView view_of(const ChatMessage& m) {
  return {m.role, m.content, m.tool_calls, m.tool_call_id, m.name};
}

MessageView view_of(const HistoryMessage& m, bool with_calls) {
  MessageView v{m.role(), m.content(), {}, m.tool_call_id(), m.name()};
  if (with_calls) {
    v.tool_calls = m.tool_calls();
  } else if (m.role() == "assistant" && !m.tool_calls().empty() && m.content().empty()) {
    v.content = "(interrupted)";
  }
  return v;
}

bool History::with_calls(std::size_t i) const {
  return !std::binary_search(without_calls.begin(), without_calls.end(), i);
}

MessageView History::view(std::size_t i) const {
  return view_of(*messages[i], with_calls(i));
}

std::vector<MessageView> message_views(const ChatRequest& r) {
  std::vector<MessageView> out;
  out.reserve(r.messages.size() + r.history.size());
  const std::size_t at = std::min(r.history_at, r.messages.size());
  for (std::size_t i = 0; i < at; ++i) out.push_back(view_of(r.messages[i]));
  for (std::size_t i = 0; i < r.history.size(); ++i) out.push_back(r.history.view(i));
  for (std::size_t i = at; i < r.messages.size(); ++i) out.push_back(view_of(r.messages[i]));
  return out;
}

}  // namespace enkisys::agent
