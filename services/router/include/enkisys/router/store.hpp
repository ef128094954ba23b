// The router's durable state on libs/db (SQLite or PostgreSQL): the inbox of verified webhook
// messages, the chats (channel user → platform user, agent conversation, handoff, last user
// message), and the outbox of replies with its dead letters.
//
// Contract:
//  * Thread safe (Database is); every call blocks: run it off I/O threads.
//  * accept() writes one inbox row per message in one transaction, deduplicated by the unique
//    key (channel, dedupe_key): a second delivery of the same update inserts nothing.
//  * Inbox and outbox items are claimed with a lease (claimed_by = this instance, claimed_until)
//    as rag's document queue: an item whose lease ran out (its worker crashed) is claimed again.
//    Inbox items of one chat are claimed one at a time, oldest first (answers keep their order).
//  * complete() inserts the reply parts into the outbox and marks the inbox item done in ONE
//    transaction, and only while this instance still holds the claim: a reply is queued at most
//    once per inbox item.
//  * An outbox row becomes `sent` only through mark_sent(), called after the channel API said
//    ok. Parts of one inbox item are claimed in order (part n only after n-1 was sent).
//  * Times are unix milliseconds given by the caller (its clock).
//  * Errors: db::DbError for database failures; replay() of an unknown id → 404 not_found.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/db/database.hpp"
#include "enkisys/router/channel.hpp"

namespace enkisys::router {

struct InboxItem {
  std::string id;
  Inbound message;
  std::int64_t attempts = 0;
};

struct Chat {
  std::string user_id;          // platform user id ("tg:42")
  std::string conversation_id;  // empty until the first message created it
  bool handoff = false;
  std::int64_t last_user_at_ms = 0;
};

struct OutboxItem {
  std::string id;
  std::string inbox_id;
  Channel channel = Channel::kTelegram;
  std::string chat_id;
  std::string route;
  std::string thread_ref;
  std::int64_t part = 0;
  std::string text;
  std::int64_t attempts = 0;
  std::int64_t last_user_at_ms = 0;  // of the chat, for WhatsApp's 24-hour window
};

// A message given up on: an outbox reply the channel never took ("outbox"), or an inbox
// message the agent never answered ("inbox").
struct DeadLetter {
  std::string id;
  std::string kind;
  std::string channel;
  std::string chat_id;
  std::string text;
  std::int64_t attempts = 0;
  std::string reason;
  std::int64_t updated_at_ms = 0;
};

struct ChannelStats {
  std::int64_t last_message_at_ms = 0;  // 0: none yet
  std::int64_t inbox_queued = 0;
  std::int64_t outbox_pending = 0;
  std::int64_t sent = 0;
  std::int64_t dead = 0;
};

struct HandoffChat {
  std::string channel;
  std::string chat_id;
  std::string user_id;
  std::string conversation_id;
};

// One line of a web visitor's conversation: its message ("user") or a reply ("assistant").
struct WebMessage {
  std::string id;
  std::string role;
  std::string text;
  std::int64_t at_ms = 0;
};

class RouterStore {
 public:
  // `instance` names this process in claimed_by; leases last `lease_ms`.
  RouterStore(db::Database& db, std::string instance, std::int64_t lease_ms = 120'000);

  void migrate();
  // At start: gives back the claims this instance held before a crash (same instance name),
  // so they are taken again at once instead of after their lease. Returns how many.
  std::int64_t reset_own_claims();

  // Stores the messages; returns how many were new (the others were duplicates).
  std::size_t accept(const std::vector<Inbound>& messages, std::int64_t now_ms);

  std::optional<InboxItem> claim_inbox(std::int64_t now_ms);
  // The chat of `m`, created (with its platform user) when new.
  Chat chat(const Inbound& m);
  void set_conversation(Channel c, const std::string& chat_id, const std::string& conversation);
  // Queues `parts` (maybe none) as the reply and marks the item done, if still claimed by this
  // instance; false when the claim was lost (another instance owns the item now).
  bool complete(const InboxItem& item, const std::vector<std::string>& parts, std::int64_t now_ms);
  // Gives the item back (attempts + 1), to be claimed again at `retry_at_ms`; after
  // `max_attempts` it becomes a dead letter with `reason`.
  void release_inbox(const InboxItem& item, const std::string& reason, std::int64_t retry_at_ms,
                     std::int64_t max_attempts);

  std::optional<OutboxItem> claim_outbox(std::int64_t now_ms);
  void mark_sent(const std::string& id, std::int64_t now_ms);
  // Retry at `retry_at_ms`; `count` false for a rate-limit answer (not an attempt).
  void retry_outbox(const std::string& id, const std::string& reason, std::int64_t retry_at_ms,
                    bool count, std::int64_t now_ms);
  void dead_outbox(const std::string& id, const std::string& reason, std::int64_t now_ms);

  std::vector<DeadLetter> dead_letters(std::size_t limit = 200);
  // Queues a dead letter (or "all" of them) again, attempts reset; the number replayed.
  core::Expected<std::int64_t> replay(const std::string& id_or_all, std::int64_t now_ms);

  // Human handoff: while on, the bot does not answer the chat.
  core::Status set_handoff(Channel c, const std::string& chat_id, bool on);
  std::vector<HandoffChat> handoffs();

  ChannelStats stats(Channel c);

  // Deletes answered inbox items and sent outbox rows last touched before `cutoff_ms` (queued,
  // in-work and dead items stay); the number of rows deleted. A platform's redelivery of a
  // purged update would be answered again: keep the cutoff far beyond any platform's retries
  // (Meta retries for up to 7 days).
  std::int64_t purge(std::int64_t cutoff_ms);

  // Web widget visitors, known by the SHA-256 hex of their token (the token is never stored).
  // create_visitor returns the new visitor id; visitor() the id of a token of `site`, if any.
  std::string create_visitor(const std::string& site, const std::string& token_hash,
                             std::int64_t now_ms);
  std::optional<std::string> visitor(const std::string& site, const std::string& token_hash);
  // The web chat `chat_id` ("<site>:<visitor>") after `after_ms`, oldest first, at most `limit`
  // lines: the visitor's messages and the replies. Only that chat's lines, ever.
  std::vector<WebMessage> web_messages(const std::string& chat_id, std::int64_t after_ms,
                                       std::size_t limit);

 private:
  db::Database& db_;
  std::string instance_;
  std::int64_t lease_ms_;
};

}  // namespace enkisys::router
