// ConversationStore: conversations, their messages and each user's daily token usage, kept in
// the service's database (libs/db: SQLite by default, PostgreSQL).
//
// Contract:
//  * Thread-safe; every method blocks on the database, so call it off the I/O threads.
//  * A conversation exists only for its owner: every method taking an Actor checks ownership
//    inside the transaction that reads or writes, and answers 404 not_found for anyone else
//    (admins included), so a concurrent delete cannot slip between check and write.
//  * Messages of a conversation are ordered by `seq` (1, 2, ...), assigned in the transaction
//    that appends them; append() writes a batch all or nothing.
//  * Errors: core::Error values (404 not_found); DbError escapes only for database failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/agent/model.hpp"
#include "enkisys/core/expected.hpp"
#include "enkisys/core/request.hpp"
#include "enkisys/db/database.hpp"

namespace enkisys::agent {

using core::Actor;

struct Conversation {
  std::string id, owner, title;
  std::vector<std::string> collections;
  bool all_tools = false;          // "tools": "all"
  std::vector<std::string> tools;  // names, when !all_tools
  std::string system_prompt, model;
  std::string summary;               // rolling summary of the turns out of the memory window
  std::int64_t summarized_upto = 0;  // seq of the last message folded into `summary`
  std::string created_at, updated_at;
};

struct StoredMessage {
  std::string id, conversation_id;
  std::int64_t seq = 0;
  std::string role;  // "user" | "assistant" | "tool"
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant messages that call tools
  std::string tool_call_id, name;    // role "tool"
  std::string citations = "[]";      // JSON array text
  std::string model;
  Usage usage;
  bool interrupted = false;
  std::string created_at;
};

struct NewConversation {
  std::string title;
  std::vector<std::string> collections;
  bool all_tools = false;
  std::vector<std::string> tools;
  std::string system_prompt, model;
};

struct ConversationPatch {
  std::optional<std::string> title, system_prompt, model;
  std::optional<std::vector<std::string>> collections;
  std::optional<bool> all_tools;
  std::optional<std::vector<std::string>> tools;
};

struct ConversationWithMessages {
  Conversation conversation;
  std::vector<StoredMessage> messages;  // by seq
};

// A message as the memory reads it: what begin_turn() returns and the window cache keeps (a
// StoredMessage's ids, citations, model, usage and times are not needed there), shared with the
// requests of the turns that send it (model.hpp).
using WindowMessage = HistoryMessage;

// The fields of `m` that the memory reads.
HistoryPtr window_message_of(const StoredMessage& m);

// What a turn starts from: its conversation and the messages its memory can use, by seq
// (shared, immutable).
struct TurnStart {
  Conversation conversation;
  std::vector<HistoryPtr> messages;
};

class WindowCache;

class ConversationStore {
 public:
  // `window_cache_bytes`: the messages of recent conversations kept in memory for begin_turn()
  // (window_cache.hpp; estimated bytes; 0: none).
  explicit ConversationStore(db::Database& db, std::size_t window_cache_bytes = 2 << 20);
  ~ConversationStore();

  void migrate();

  Conversation create(const Actor& actor, const NewConversation& c);
  // Newest (updated) first; `offset`/`limit` page through them.
  std::vector<Conversation> list(const Actor& actor, std::int64_t limit, std::int64_t offset);
  core::Expected<Conversation> get(const Actor& actor, const std::string& id);
  // The admission check of a turn in one read transaction: 404 unless `actor` owns `id`, else
  // the tokens actor spent on `day` (as tokens_used()).
  core::Expected<std::int64_t> turn_admission(const Actor& actor, const std::string& id,
                                              const std::string& day);
  core::Expected<ConversationWithMessages> get_with_messages(const Actor& actor,
                                                             const std::string& id);
  core::Expected<Conversation> update(const Actor& actor, const std::string& id,
                                      const ConversationPatch& patch);
  core::Status remove(const Actor& actor, const std::string& id);

  // The start of a turn, in one transaction: the conversation, the messages the memory can
  // still use (seq > summarized_upto: the summary holds the older ones), then `user` appended
  // (not among the returned messages). A turn's read therefore costs the window, not the
  // conversation's length; messages already read by an earlier turn (or appended through this
  // store) come from the window cache, so a turn reads only the rows new to it.
  core::Expected<TurnStart> begin_turn(const Actor& actor, const std::string& id,
                                       StoredMessage user);

  // Tokens spent by `user` on `day` ("YYYY-MM-DD", UTC), charged with the messages of a turn.
  struct TokenCharge {
    std::string user, day;
    std::int64_t tokens = 0;
  };
  // A new rolling summary (see set_summary), stored with the messages of append().
  struct SummaryUpdate {
    std::string summary;
    std::int64_t upto = 0;
  };
  // Appends `messages` (ids, seq and created_at are assigned and returned) and touches the
  // conversation's updated_at; with `charge`, adds its tokens, and with `summary`, replaces the
  // rolling summary as set_summary() does, all in the same transaction.
  core::Expected<std::vector<StoredMessage>> append(const Actor& actor, const std::string& id,
                                                    std::vector<StoredMessage> messages,
                                                    const TokenCharge* charge = nullptr,
                                                    const SummaryUpdate* summary = nullptr);
  // Replaces the rolling summary. REQUIRES: upto >= the current summarized_upto.
  core::Status set_summary(const Actor& actor, const std::string& id, const std::string& summary,
                           std::int64_t upto);

  // Tokens `user` spent on day `day` ("YYYY-MM-DD", UTC), and adding to them.
  std::int64_t tokens_used(const std::string& user, const std::string& day);
  void add_tokens(const std::string& user, const std::string& day, std::int64_t tokens);

 private:
  db::Database& db_;
  std::unique_ptr<WindowCache> window_;
};

}  // namespace enkisys::agent
