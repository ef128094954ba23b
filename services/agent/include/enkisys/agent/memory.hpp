// The memory of a conversation handed to the model: the rolling summary of older turns plus
// the most recent whole turns that fit a token budget (tokens estimated with estimate_tokens).
//
// Contract (pure functions, thread-safe):
//  * A turn is a user message and everything after it up to the next user message; turns are
//    kept or dropped whole, newest kept first, so a tool call is never separated from its
//    result. An assistant tool-call message whose results are missing (an interrupted turn) is
//    sent as plain text.
//  * `budget` is what the window may use after the fixed part (system prompt, summary, context,
//    the new message); the window's estimated tokens never exceed it.
//  * Turns that fall out of the window and are not yet in the summary are folded into it
//    (extractive: one bounded line per turn); the summary keeps its newest lines within
//    `summary_max_bytes`. `summarized_upto` is the seq of the last folded message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "enkisys/agent/model.hpp"
#include "enkisys/agent/store.hpp"

namespace enkisys::agent {

struct Memory {
  History window;  // oldest first; shares the history's messages
  std::string summary;
  std::int64_t summarized_upto = 0;
  bool summary_changed = false;
  int window_tokens = 0;
};

// Estimated tokens of one message as sent (content, tool calls, a small per-message overhead).
int message_tokens(const MessageView& m);
int message_tokens(const ChatMessage& m);

// `history`: the conversation's messages by seq (the new user message not included).
Memory build_memory(const std::vector<StoredMessage>& history, const std::string& summary,
                    std::int64_t summarized_upto, int budget, std::size_t summary_max_bytes = 2000);
// The same over the messages of ConversationStore::begin_turn().
Memory build_memory(const std::vector<HistoryPtr>& history, const std::string& summary,
                    std::int64_t summarized_upto, int budget, std::size_t summary_max_bytes = 2000);

}  // namespace enkisys::agent
