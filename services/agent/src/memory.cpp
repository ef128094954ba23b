#include "enkisys/agent/memory.hpp"

#include <set>

#include "enkisys/core/utf8.hpp"

namespace enkisys::agent {

namespace {

constexpr int kMessageOverhead = 4;
constexpr std::size_t kSummaryPieceBytes = 160;

std::string clipped(const std::string& text, std::size_t max_bytes) {
  std::string s;
  for (const char c : text) {
    s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (s.size() >= max_bytes) break;
  }
  s = core::to_valid_utf8(s);  // a cut multi-byte sequence becomes U+FFFD, never invalid
  if (s.size() < text.size()) s += "...";
  return s;
}

struct Turn {
  std::size_t begin = 0, end = 0;  // [begin, end) in the candidates
  int tokens = 0;
};

// A message the window may send: from the history, with or without its tool calls.
struct Candidate {
  const HistoryPtr* message;
  bool with_calls;
  const HistoryMessage& operator*() const { return **message; }
};

// One summary line for the messages of a turn.
std::string summary_line(const std::vector<Candidate>& msgs, const Turn& t) {
  std::string user, answer;
  for (std::size_t i = t.begin; i < t.end; ++i) {
    const HistoryMessage& m = *msgs[i];
    if (m.role() == "user" && user.empty()) user = m.content();
    if (m.role() == "assistant" && !m.content().empty()) answer = m.content();
  }
  std::string line = "- user: " + clipped(user, kSummaryPieceBytes);
  if (!answer.empty()) line += " / assistant: " + clipped(answer, kSummaryPieceBytes);
  return line;
}

// Keeps the newest whole lines of `summary` within `max_bytes`.
std::string bounded(std::string summary, std::size_t max_bytes) {
  while (summary.size() > max_bytes) {
    const auto nl = summary.find('\n');
    if (nl == std::string::npos) return clipped(summary, max_bytes);
    summary.erase(0, nl + 1);
  }
  return summary;
}

}  // namespace

int message_tokens(const MessageView& m) {
  int n = kMessageOverhead + estimate_tokens(m.content);
  for (const auto& c : m.tool_calls) n += estimate_tokens(c.name) + estimate_tokens(c.arguments);
  return n;
}

int message_tokens(const ChatMessage& m) {
  return message_tokens(view_of(m));
}

Memory build_memory(const std::vector<HistoryPtr>& history, const std::string& summary,
                    std::int64_t summarized_upto, int budget, std::size_t summary_max_bytes) {
  Memory mem;
  mem.summary = summary;
  mem.summarized_upto = summarized_upto;

  // The candidates share the history's messages: nothing of their text is copied.
  std::vector<Candidate> msgs;
  msgs.reserve(history.size());
  std::set<std::string_view> answered;  // tool_call ids that have a result
  for (const auto& m : history) {
    if (m->seq() <= summarized_upto) continue;
    msgs.push_back({&m, true});
    if (m->role() == "tool") answered.insert(m->tool_call_id());
  }
  for (auto& c : msgs) {
    for (const auto& call : (*c).tool_calls())
      c.with_calls = c.with_calls && answered.contains(call.id);
  }

  std::vector<Turn> turns;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (turns.empty() || (*msgs[i]).role() == "user") turns.push_back({i, i, 0});
    turns.back().end = i + 1;
    turns.back().tokens += message_tokens(view_of(*msgs[i], msgs[i].with_calls));
  }
  // Newest turns first while they fit.
  std::size_t first_kept = turns.size();
  int used = 0;
  while (first_kept > 0 && used + turns[first_kept - 1].tokens <= budget) {
    used += turns[first_kept - 1].tokens;
    --first_kept;
  }
  if (first_kept < turns.size()) {
    mem.window.messages.reserve(msgs.size() - turns[first_kept].begin);
  }
  for (std::size_t t = first_kept; t < turns.size(); ++t) {
    for (std::size_t i = turns[t].begin; i < turns[t].end; ++i) {
      // An orphan tool result (its call was cut off) cannot be sent alone.
      if ((*msgs[i]).role() == "tool" && i == turns[t].begin) continue;
      if (!msgs[i].with_calls) {
        mem.window.without_calls.push_back(static_cast<std::uint32_t>(mem.window.size()));
      }
      mem.window.messages.push_back(*msgs[i].message);
    }
  }
  mem.window_tokens = used;
  if (first_kept > 0) {
    std::string s = mem.summary;
    for (std::size_t t = 0; t < first_kept; ++t) {
      if (!s.empty()) s += '\n';
      s += summary_line(msgs, turns[t]);
    }
    mem.summary = bounded(std::move(s), summary_max_bytes);
    mem.summarized_upto = (*msgs[turns[first_kept - 1].end - 1]).seq();
    mem.summary_changed = true;
  }
  return mem;
}

Memory build_memory(const std::vector<StoredMessage>& history, const std::string& summary,
                    std::int64_t summarized_upto, int budget, std::size_t summary_max_bytes) {
  std::vector<HistoryPtr> msgs;
  msgs.reserve(history.size());
  for (const auto& m : history) msgs.push_back(window_message_of(m));
  return build_memory(msgs, summary, summarized_upto, budget, summary_max_bytes);
}

}  // namespace enkisys::agent
