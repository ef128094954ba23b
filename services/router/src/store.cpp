#include "enkisys/router/store.hpp"

#include <algorithm>

#include "enkisys/core/utf8.hpp"
#include "enkisys/db/migrate.hpp"
#include "enkisys/security/encoding.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::router {

using core::ErrorKind;
using db::Tx;

namespace {

constexpr const char* kTablesCommon = R"(
CREATE TABLE router_chats (
  channel TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  handoff BIGINT NOT NULL,
  last_user_at BIGINT NOT NULL,
  PRIMARY KEY (channel, chat_id));
CREATE TABLE router_outbox (
  id TEXT PRIMARY KEY,
  inbox_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  route TEXT NOT NULL,
  thread_ref TEXT NOT NULL,
  part BIGINT NOT NULL,
  text TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  next_at BIGINT NOT NULL,
  claimed_by TEXT NOT NULL,
  claimed_until BIGINT NOT NULL,
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (inbox_id, part));
CREATE INDEX router_outbox_open ON router_outbox (next_at, created_at, part)
  WHERE status IN ('pending', 'sending');
CREATE INDEX router_outbox_item ON router_outbox (inbox_id, part);
CREATE INDEX router_inbox_open ON router_inbox (seq) WHERE status IN ('queued', 'processing');
CREATE INDEX router_inbox_chat ON router_inbox (channel, chat_id, seq);)";

constexpr const char* kInboxColumns = R"(
  id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  text TEXT NOT NULL,
  thread_ref TEXT NOT NULL,
  route TEXT NOT NULL,
  sent_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  next_at BIGINT NOT NULL,
  claimed_by TEXT NOT NULL,
  claimed_until BIGINT NOT NULL,
  reason TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (channel, dedupe_key));)";

const std::string kSqlite = std::string(
                                "CREATE TABLE router_inbox (\n  seq INTEGER PRIMARY KEY "
                                "AUTOINCREMENT,") +
                            kInboxColumns + kTablesCommon;
const std::string kPostgres =
    std::string("CREATE TABLE router_inbox (\n  seq BIGSERIAL PRIMARY KEY,") + kInboxColumns +
    kTablesCommon;

const db::Migration kMigrations[] = {
    {1, "router inbox, chats, outbox", kSqlite, kPostgres},
    {2, "router web widget visitors",
     R"(CREATE TABLE router_web_visitors (
  token_hash TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  visitor_id TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL);
CREATE INDEX router_outbox_chat ON router_outbox (channel, chat_id, created_at);)"},
};

std::string new_id(std::string_view prefix) {
  return std::string(prefix) + security::hex_encode(security::random_bytes(12));
}

Channel channel_of(const std::string& s) {
  return channel_from(s).value_or(Channel::kTelegram);
}

// The status term matches the partial index router_inbox_open (done rows are never scanned).
constexpr const char* kClaimableInbox =
    "i.status IN ('queued', 'processing') AND ((i.status = 'queued' AND i.next_at <= $1) OR "
    "(i.status = 'processing' AND i.claimed_until < $1))";

}  // namespace

RouterStore::RouterStore(db::Database& db, std::string instance, std::int64_t lease_ms)
    : db_(db), instance_(std::move(instance)), lease_ms_(lease_ms) {}

void RouterStore::migrate() {
  db::migrate(db_, kMigrations);
}

std::int64_t RouterStore::reset_own_claims() {
  std::int64_t n = 0;
  db_.transaction([&](Tx& tx) {
    n = tx.exec(
              "UPDATE router_inbox SET status = 'queued', claimed_by = '', claimed_until = 0 "
              "WHERE status = 'processing' AND claimed_by = $1",
              {instance_})
            .affected;
    n += tx.exec(
               "UPDATE router_outbox SET status = 'pending', claimed_by = '', claimed_until = 0 "
               "WHERE status = 'sending' AND claimed_by = $1",
               {instance_})
             .affected;
  });
  return n;
}

std::size_t RouterStore::accept(const std::vector<Inbound>& messages, std::int64_t now_ms) {
  std::size_t added = 0;
  db_.transaction([&](Tx& tx) {
    added = 0;
    for (const Inbound& m : messages) {
      const auto r = tx.exec(
          "INSERT INTO router_inbox (id, channel, dedupe_key, chat_id, sender, text, thread_ref, "
          "route, sent_at, status, attempts, next_at, claimed_by, claimed_until, reason, "
          "received_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, "
          "'', 0, '', $10, $10) ON CONFLICT (channel, dedupe_key) DO NOTHING",
          {new_id("in_"), std::string(channel_name(m.channel)), m.dedupe_key, m.chat_id, m.sender,
           m.text, m.thread_ref, m.route, m.sent_at, now_ms});
      added += static_cast<std::size_t>(r.affected);
    }
  });
  return added;
}

std::optional<InboxItem> RouterStore::claim_inbox(std::int64_t now_ms) {
  std::optional<InboxItem> out;
  db_.transaction([&](Tx& tx) {
    out.reset();
    const auto res = tx.exec(
        std::string("SELECT i.id, i.channel, i.dedupe_key, i.chat_id, i.sender, i.text, "
                    "i.thread_ref, i.route, i.sent_at, i.attempts FROM router_inbox i WHERE ") +
            kClaimableInbox +
            " AND NOT EXISTS (SELECT 1 FROM router_inbox j WHERE j.channel = i.channel AND "
            "j.chat_id = i.chat_id AND j.seq < i.seq AND j.status IN ('queued', 'processing')) "
            "ORDER BY i.seq LIMIT 1",
        {now_ms});
    if (res.empty()) return;
    const db::Row& r = res.rows.front();
    const auto claimed = tx.exec(
        "UPDATE router_inbox SET status = 'processing', claimed_by = $2, claimed_until = $3, "
        "updated_at = $4 WHERE id = $1 AND ((status = 'queued' AND next_at <= $4) OR "
        "(status = 'processing' AND claimed_until < $4))",
        {r.text("id"), instance_, now_ms + lease_ms_, now_ms});
    if (claimed.affected != 1) return;  // another instance took it
    InboxItem item;
    item.id = r.text("id");
    item.message.channel = channel_of(r.text("channel"));
    item.message.dedupe_key = r.text("dedupe_key");
    item.message.chat_id = r.text("chat_id");
    item.message.sender = r.text("sender");
    item.message.text = r.text("text");
    item.message.thread_ref = r.text("thread_ref");
    item.message.route = r.text("route");
    item.message.sent_at = r.i64("sent_at");
    item.attempts = r.i64("attempts");
    out = std::move(item);
  });
  return out;
}

Chat RouterStore::chat(const Inbound& m) {
  Chat c;
  const std::string ch(channel_name(m.channel));
  db_.transaction([&](Tx& tx) {
    tx.exec(
        "INSERT INTO router_chats (channel, chat_id, user_id, conversation_id, handoff, "
        "last_user_at) VALUES ($1, $2, $3, '', 0, 0) ON CONFLICT (channel, chat_id) DO NOTHING",
        {ch, m.chat_id, platform_user(m)});
    const auto r = tx.exec(
        "SELECT user_id, conversation_id, handoff, last_user_at FROM router_chats WHERE "
        "channel = $1 AND chat_id = $2",
        {ch, m.chat_id});
    const db::Row& row = r.one();
    c = Chat{row.text("user_id"), row.text("conversation_id"), row.i64("handoff") != 0,
             row.i64("last_user_at")};
  });
  return c;
}

void RouterStore::set_conversation(Channel c, const std::string& chat_id,
                                   const std::string& conversation) {
  db_.query("UPDATE router_chats SET conversation_id = $3 WHERE channel = $1 AND chat_id = $2",
            {std::string(channel_name(c)), chat_id, conversation});
}

bool RouterStore::complete(const InboxItem& item, const std::vector<std::string>& parts,
                           std::int64_t now_ms) {
  bool done = false;
  const Inbound& m = item.message;
  const std::string ch(channel_name(m.channel));
  const std::int64_t user_at = m.sent_at > 0 ? m.sent_at * 1000 : now_ms;
  const bool web = m.channel == Channel::kWeb;  // delivered when the visitor fetches it
  db_.transaction([&](Tx& tx) {
    done = false;
    const auto r = tx.exec(
        "UPDATE router_inbox SET status = 'done', claimed_by = '', claimed_until = 0, "
        "updated_at = $3 WHERE id = $1 AND status = 'processing' AND claimed_by = $2",
        {item.id, instance_, now_ms});
    if (r.affected != 1) return;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      tx.exec(
          "INSERT INTO router_outbox (id, inbox_id, channel, chat_id, route, thread_ref, part, "
          "text, status, attempts, next_at, claimed_by, claimed_until, reason, created_at, "
          "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, 0, $9, '', 0, '', $9, $9)",
          {new_id("out_"), item.id, ch, m.chat_id, m.route, m.thread_ref,
           static_cast<std::int64_t>(i), parts[i], now_ms, std::string(web ? "sent" : "pending")});
    }
    tx.exec(
        "UPDATE router_chats SET last_user_at = $3 WHERE channel = $1 AND chat_id = $2 AND "
        "last_user_at < $3",
        {ch, m.chat_id, user_at});
    done = true;
  });
  return done;
}

void RouterStore::release_inbox(const InboxItem& item, const std::string& reason,
                                std::int64_t retry_at_ms, std::int64_t max_attempts) {
  db_.query(
      "UPDATE router_inbox SET status = CASE WHEN attempts + 1 >= $4 THEN 'dead' ELSE 'queued' "
      "END, attempts = attempts + 1, next_at = $3, reason = $5, claimed_by = '', claimed_until = "
      "0, updated_at = $6 WHERE id = $1 AND status = 'processing' AND claimed_by = $2",
      {item.id, instance_, retry_at_ms, max_attempts, core::to_valid_utf8(reason), retry_at_ms});
}

std::optional<OutboxItem> RouterStore::claim_outbox(std::int64_t now_ms) {
  std::optional<OutboxItem> out;
  db_.transaction([&](Tx& tx) {
    out.reset();
    const auto res = tx.exec(
        "SELECT o.id, o.inbox_id, o.channel, o.chat_id, o.route, o.thread_ref, o.part, o.text, "
        "o.attempts, COALESCE(c.last_user_at, 0) AS last_user_at FROM router_outbox o LEFT JOIN "
        "router_chats c ON c.channel = o.channel AND c.chat_id = o.chat_id WHERE "
        "o.status IN ('pending', 'sending') AND ((o.status = 'pending' AND o.next_at <= $1) OR "
        "(o.status = 'sending' AND "
        "o.claimed_until < $1)) AND NOT EXISTS (SELECT 1 FROM router_outbox p WHERE p.inbox_id = "
        "o.inbox_id AND p.part < o.part AND p.status IN ('pending', 'sending')) ORDER BY "
        "o.next_at, o.created_at, o.part LIMIT 1",
        {now_ms});
    if (res.empty()) return;
    const db::Row& r = res.rows.front();
    const auto claimed = tx.exec(
        "UPDATE router_outbox SET status = 'sending', claimed_by = $2, claimed_until = $3, "
        "updated_at = $4 WHERE id = $1 AND ((status = 'pending' AND next_at <= $4) OR "
        "(status = 'sending' AND claimed_until < $4))",
        {r.text("id"), instance_, now_ms + lease_ms_, now_ms});
    if (claimed.affected != 1) return;
    OutboxItem o;
    o.id = r.text("id");
    o.inbox_id = r.text("inbox_id");
    o.channel = channel_of(r.text("channel"));
    o.chat_id = r.text("chat_id");
    o.route = r.text("route");
    o.thread_ref = r.text("thread_ref");
    o.part = r.i64("part");
    o.text = r.text("text");
    o.attempts = r.i64("attempts");
    o.last_user_at_ms = r.i64("last_user_at");
    out = std::move(o);
  });
  return out;
}

void RouterStore::mark_sent(const std::string& id, std::int64_t now_ms) {
  db_.query(
      "UPDATE router_outbox SET status = 'sent', claimed_by = '', claimed_until = 0, "
      "attempts = attempts + 1, updated_at = $2 WHERE id = $1",
      {id, now_ms});
}

void RouterStore::retry_outbox(const std::string& id, const std::string& reason,
                               std::int64_t retry_at_ms, bool count, std::int64_t now_ms) {
  db_.query(
      "UPDATE router_outbox SET status = 'pending', attempts = attempts + $3, next_at = $4, "
      "reason = $5, claimed_by = '', claimed_until = 0, updated_at = $6 WHERE id = $1 AND "
      "status = 'sending' AND claimed_by = $2",
      {id, instance_, static_cast<std::int64_t>(count ? 1 : 0), retry_at_ms,
       core::to_valid_utf8(reason), now_ms});
}

void RouterStore::dead_outbox(const std::string& id, const std::string& reason,
                              std::int64_t now_ms) {
  db_.query(
      "UPDATE router_outbox SET status = 'dead', attempts = attempts + 1, reason = $3, "
      "claimed_by = '', claimed_until = 0, updated_at = $4 WHERE id = $1 AND claimed_by = $2",
      {id, instance_, core::to_valid_utf8(reason), now_ms});
}

std::vector<DeadLetter> RouterStore::dead_letters(std::size_t limit) {
  std::vector<DeadLetter> out;
  const auto lim = static_cast<std::int64_t>(limit);
  db_.read([&](Tx& tx) {
    out.clear();
    const auto o = tx.exec(
        "SELECT id, channel, chat_id, text, attempts, reason, updated_at FROM router_outbox "
        "WHERE status = 'dead' ORDER BY updated_at, id LIMIT $1",
        {lim});
    for (const auto& r : o.rows) {
      out.push_back({r.text("id"), "outbox", r.text("channel"), r.text("chat_id"), r.text("text"),
                     r.i64("attempts"), r.text("reason"), r.i64("updated_at")});
    }
    const auto i = tx.exec(
        "SELECT id, channel, chat_id, text, attempts, reason, updated_at FROM router_inbox "
        "WHERE status = 'dead' ORDER BY updated_at, id LIMIT $1",
        {lim});
    for (const auto& r : i.rows) {
      out.push_back({r.text("id"), "inbox", r.text("channel"), r.text("chat_id"), r.text("text"),
                     r.i64("attempts"), r.text("reason"), r.i64("updated_at")});
    }
  });
  return out;
}

core::Expected<std::int64_t> RouterStore::replay(const std::string& id_or_all,
                                                 std::int64_t now_ms) {
  std::int64_t n = 0;
  const bool all = id_or_all == "all";
  db_.transaction([&](Tx& tx) {
    const std::string where = all ? "status = 'dead'" : "status = 'dead' AND id = $2";
    std::vector<db::Value> params{now_ms};
    if (!all) params.emplace_back(id_or_all);
    n = tx.exec(
              "UPDATE router_outbox SET status = 'pending', attempts = 0, next_at = $1, "
              "reason = '', updated_at = $1 WHERE " +
                  where,
              params)
            .affected;
    n += tx.exec(
               "UPDATE router_inbox SET status = 'queued', attempts = 0, next_at = $1, "
               "reason = '', updated_at = $1 WHERE " +
                   where,
               params)
             .affected;
  });
  if (n == 0 && !all) {
    return core::make_error(ErrorKind::kNotFound, "not_found",
                            "no dead letter '" + core::to_valid_utf8(id_or_all) + "'");
  }
  return n;
}

core::Status RouterStore::set_handoff(Channel c, const std::string& chat_id, bool on) {
  const auto r =
      db_.query("UPDATE router_chats SET handoff = $3 WHERE channel = $1 AND chat_id = $2",
                {std::string(channel_name(c)), chat_id, static_cast<std::int64_t>(on ? 1 : 0)});
  if (r.affected == 0) {
    return core::make_error(ErrorKind::kNotFound, "not_found",
                            "no chat '" + core::to_valid_utf8(chat_id) + "' on this channel");
  }
  return core::ok_status();
}

std::vector<HandoffChat> RouterStore::handoffs() {
  std::vector<HandoffChat> out;
  db_.read([&](Tx& tx) {
    out.clear();
    const auto r = tx.exec(
        "SELECT channel, chat_id, user_id, conversation_id FROM router_chats WHERE handoff = 1 "
        "ORDER BY channel, chat_id");
    for (const auto& row : r.rows) {
      out.push_back({row.text("channel"), row.text("chat_id"), row.text("user_id"),
                     row.text("conversation_id")});
    }
  });
  return out;
}

ChannelStats RouterStore::stats(Channel c) {
  ChannelStats s;
  const std::string ch(channel_name(c));
  db_.read([&](Tx& tx) {
    s.last_message_at_ms =
        tx.exec("SELECT COALESCE(MAX(received_at), 0) FROM router_inbox WHERE channel = $1", {ch})
            .one()
            .i64(0);
    s.inbox_queued = tx.exec(
                           "SELECT COUNT(*) FROM router_inbox WHERE channel = $1 AND status IN "
                           "('queued', 'processing')",
                           {ch})
                         .one()
                         .i64(0);
    const auto r = tx.exec(
        "SELECT status, COUNT(*) AS n FROM router_outbox WHERE channel = $1 GROUP BY status", {ch});
    for (const auto& row : r.rows) {
      const std::string st = row.text("status");
      const std::int64_t n = row.i64("n");
      if (st == "sent") s.sent = n;
      if (st == "dead") s.dead = n;
      if (st == "pending" || st == "sending") s.outbox_pending += n;
    }
    s.dead +=
        tx.exec("SELECT COUNT(*) FROM router_inbox WHERE channel = $1 AND status = 'dead'", {ch})
            .one()
            .i64(0);
  });
  return s;
}

std::int64_t RouterStore::purge(std::int64_t cutoff_ms) {
  std::int64_t n = 0;
  db_.transaction([&](Tx& tx) {
    n = tx.exec("DELETE FROM router_outbox WHERE status = 'sent' AND updated_at < $1", {cutoff_ms})
            .affected;
    n += tx.exec(
               "DELETE FROM router_inbox WHERE status = 'done' AND updated_at < $1 AND NOT EXISTS "
               "(SELECT 1 FROM router_outbox o WHERE o.inbox_id = router_inbox.id)",
               {cutoff_ms})
             .affected;
  });
  return n;
}

std::string RouterStore::create_visitor(const std::string& site, const std::string& token_hash,
                                        std::int64_t now_ms) {
  std::string id = new_id("v_");
  db_.query(
      "INSERT INTO router_web_visitors (token_hash, site, visitor_id, created_at) VALUES ($1, $2, "
      "$3, $4)",
      {token_hash, site, id, now_ms});
  return id;
}

std::optional<std::string> RouterStore::visitor(const std::string& site,
                                                const std::string& token_hash) {
  std::optional<std::string> out;
  db_.read([&](Tx& tx) {
    const auto r =
        tx.exec("SELECT visitor_id FROM router_web_visitors WHERE token_hash = $1 AND site = $2",
                {token_hash, site});
    if (r.empty()) {
      out.reset();
    } else {
      out = r.rows.front().text(0);
    }
  });
  return out;
}

std::vector<WebMessage> RouterStore::web_messages(const std::string& chat_id, std::int64_t after_ms,
                                                  std::size_t limit) {
  std::vector<WebMessage> out;
  const auto lim = static_cast<std::int64_t>(limit);
  db_.read([&](Tx& tx) {
    out.clear();
    const auto in = tx.exec(
        "SELECT id, text, received_at FROM router_inbox WHERE channel = 'web' AND chat_id = $1 "
        "AND received_at > $2 ORDER BY received_at, seq LIMIT $3",
        {chat_id, after_ms, lim});
    for (const auto& r : in.rows) {
      out.push_back({r.text("id"), "user", r.text("text"), r.i64("received_at")});
    }
    const auto rep = tx.exec(
        "SELECT id, text, created_at FROM router_outbox WHERE channel = 'web' AND chat_id = $1 "
        "AND created_at > $2 ORDER BY created_at, part LIMIT $3",
        {chat_id, after_ms, lim});
    for (const auto& r : rep.rows) {
      out.push_back({r.text("id"), "assistant", r.text("text"), r.i64("created_at")});
    }
  });
  std::stable_sort(out.begin(), out.end(),
                   [](const WebMessage& a, const WebMessage& b) { return a.at_ms < b.at_ms; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace enkisys::router
