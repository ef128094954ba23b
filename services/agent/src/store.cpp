#include "enkisys/agent/store.hpp"

#include <boost/json.hpp>

#include "enkisys/agent/window_cache.hpp"
#include "enkisys/core/log.hpp"
#include "enkisys/core/utf8.hpp"
#include "enkisys/db/migrate.hpp"
#include "enkisys/security/encoding.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::agent {

namespace json = boost::json;
using core::ErrorKind;
using db::Tx;

namespace {

const db::Migration kMigrations[] = {
    {1, "agent conversations, messages, token usage",
     R"(CREATE TABLE agent_conversations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  title TEXT NOT NULL,
  collections TEXT NOT NULL,
  tools TEXT NOT NULL,
  system_prompt TEXT NOT NULL,
  model TEXT NOT NULL,
  summary TEXT NOT NULL,
  summarized_upto BIGINT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL);
CREATE INDEX agent_conversations_owner ON agent_conversations (owner, updated_at, id);
CREATE TABLE agent_messages (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES agent_conversations(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  tool_calls TEXT NOT NULL,
  tool_call_id TEXT NOT NULL,
  name TEXT NOT NULL,
  citations TEXT NOT NULL,
  model TEXT NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  interrupted BIGINT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (conversation_id, seq));
CREATE TABLE agent_token_usage (
  user_id TEXT NOT NULL,
  day TEXT NOT NULL,
  tokens BIGINT NOT NULL,
  PRIMARY KEY (user_id, day));)"},
};

constexpr const char* kConversationColumns =
    "id, owner, title, collections, tools, system_prompt, model, summary, summarized_upto, "
    "created_at, updated_at";

std::string new_id(std::string_view prefix) {
  return std::string(prefix) + security::hex_encode(security::random_bytes(12));
}

std::string strings_json(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return json::serialize(a);
}

std::vector<std::string> strings_of(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& x : v.as_array()) {
    if (x.is_string()) out.emplace_back(x.as_string());
  }
  return out;
}

std::string tool_calls_json(const std::vector<ToolCall>& calls) {
  json::array a;
  for (const auto& c : calls) {
    a.emplace_back(json::object{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
  }
  return json::serialize(a);
}

std::vector<ToolCall> tool_calls_of(const std::string& text) {
  std::vector<ToolCall> out;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& x : v.as_array()) {
    const auto* o = x.if_object();
    if (o == nullptr) continue;
    ToolCall c;
    if (const auto* s = o->if_contains("id"); s && s->is_string()) c.id = s->as_string();
    if (const auto* s = o->if_contains("name"); s && s->is_string()) c.name = s->as_string();
    if (const auto* s = o->if_contains("arguments"); s && s->is_string()) {
      c.arguments = s->as_string();
    }
    out.push_back(std::move(c));
  }
  return out;
}

constexpr const char* kMessageColumns =
    "id, conversation_id, seq, role, content, tool_calls, tool_call_id, name, citations, model, "
    "prompt_tokens, completion_tokens, interrupted, created_at";

// The columns the memory uses, read by index (a turn reads them for every new message).
constexpr const char* kWindowColumns = "seq, role, content, tool_calls, tool_call_id, name";

HistoryPtr window_message_of(const db::Row& r) {
  const auto& calls = std::get<std::string>(r.at(3));
  return HistoryMessage::make(
      r.i64(0), std::get<std::string>(r.at(1)), std::get<std::string>(r.at(2)),
      calls != "[]" ? tool_calls_of(calls) : std::vector<ToolCall>{}, r.text(4), r.text(5));
}

Conversation conversation_of(const db::Row& r) {
  Conversation c;
  c.id = r.text("id");
  c.owner = r.text("owner");
  c.title = r.text("title");
  c.collections = strings_of(r.text("collections"));
  const std::string tools = r.text("tools");
  c.all_tools = tools == "all";
  if (!c.all_tools) c.tools = strings_of(tools);
  c.system_prompt = r.text("system_prompt");
  c.model = r.text("model");
  c.summary = r.text("summary");
  c.summarized_upto = r.i64("summarized_upto");
  c.created_at = r.text("created_at");
  c.updated_at = r.text("updated_at");
  return c;
}

StoredMessage message_of(const db::Row& r) {
  StoredMessage m;
  m.id = r.text("id");
  m.conversation_id = r.text("conversation_id");
  m.seq = r.i64("seq");
  m.role = r.text("role");
  m.content = r.text("content");
  m.tool_calls = tool_calls_of(r.text("tool_calls"));
  m.tool_call_id = r.text("tool_call_id");
  m.name = r.text("name");
  m.citations = r.text("citations");
  m.model = r.text("model");
  m.usage.prompt_tokens = static_cast<int>(r.i64("prompt_tokens"));
  m.usage.completion_tokens = static_cast<int>(r.i64("completion_tokens"));
  m.interrupted = r.i64("interrupted") != 0;
  m.created_at = r.text("created_at");
  return m;
}

core::Error not_found(const std::string& id) {
  return core::make_error(ErrorKind::kNotFound, "not_found",
                          "no conversation '" + core::to_valid_utf8(id) + "'");
}

// The conversation `id` if `actor` owns it, inside `tx`.
core::Expected<Conversation> owned(Tx& tx, const Actor& actor, const std::string& id) {
  auto res = tx.exec(
      std::string("SELECT ") + kConversationColumns + " FROM agent_conversations WHERE id = $1",
      {id});
  if (res.empty()) return not_found(id);
  Conversation c = conversation_of(res.rows.front());
  if (c.owner != actor.id) return not_found(id);
  return c;
}

// 404 unless `actor` owns conversation `id`, inside `tx` (the owner column only: a write that
// needs no other field of the conversation decodes none).
core::Status owner_check(Tx& tx, const Actor& actor, const std::string& id) {
  auto res = tx.exec("SELECT owner FROM agent_conversations WHERE id = $1", {id});
  if (res.empty() || std::get<std::string>(res.rows.front().at(0)) != actor.id) {
    return not_found(id);
  }
  return core::ok_status();
}

std::string tools_text(bool all, const std::vector<std::string>& names) {
  return all ? "all" : strings_json(names);
}

// Appends `messages` to conversation `id` inside `tx` (ids, seq, created_at assigned) and
// touches its updated_at. REQUIRES: the caller checked ownership in `tx`.
std::vector<StoredMessage> append_in(Tx& tx, const std::string& id,
                                     std::vector<StoredMessage> messages) {
  std::int64_t seq =
      tx.exec("SELECT COALESCE(MAX(seq), 0) FROM agent_messages WHERE conversation_id = $1", {id})
          .one()
          .i64(0);
  const std::string now = core::utc_timestamp_now();
  for (auto& m : messages) {
    m.id = new_id("msg_");
    m.conversation_id = id;
    m.seq = ++seq;
    m.created_at = now;
    tx.exec(
        "INSERT INTO agent_messages (id, conversation_id, seq, role, content, tool_calls, "
        "tool_call_id, name, citations, model, prompt_tokens, completion_tokens, interrupted, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        {m.id, id, m.seq, m.role, m.content, tool_calls_json(m.tool_calls), m.tool_call_id, m.name,
         m.citations, m.model, static_cast<std::int64_t>(m.usage.prompt_tokens),
         static_cast<std::int64_t>(m.usage.completion_tokens),
         static_cast<std::int64_t>(m.interrupted ? 1 : 0), m.created_at});
  }
  tx.exec("UPDATE agent_conversations SET updated_at = $2 WHERE id = $1", {id, now});
  return messages;
}

void summary_in(Tx& tx, const std::string& id, const std::string& summary, std::int64_t upto) {
  tx.exec(
      "UPDATE agent_conversations SET summary = $2, summarized_upto = $3 WHERE id = $1 AND "
      "summarized_upto <= $3",
      {id, summary, upto});
}

std::int64_t tokens_in(Tx& tx, const std::string& user, const std::string& day) {
  auto res =
      tx.exec("SELECT tokens FROM agent_token_usage WHERE user_id = $1 AND day = $2", {user, day});
  return res.empty() ? 0 : res.rows.front().i64(0);
}

void charge_in(Tx& tx, const ConversationStore::TokenCharge& c) {
  if (c.tokens <= 0) return;
  tx.exec(
      "INSERT INTO agent_token_usage (user_id, day, tokens) VALUES ($1, $2, $3) "
      "ON CONFLICT (user_id, day) DO UPDATE SET tokens = agent_token_usage.tokens + "
      "excluded.tokens",
      {c.user, c.day, c.tokens});
}

}  // namespace

ConversationStore::ConversationStore(db::Database& db, std::size_t window_cache_bytes)
    : db_(db), window_(std::make_unique<WindowCache>(window_cache_bytes)) {}

ConversationStore::~ConversationStore() = default;

void ConversationStore::migrate() {
  db::migrate(db_, kMigrations);
}

Conversation ConversationStore::create(const Actor& actor, const NewConversation& nc) {
  Conversation c;
  c.id = new_id("conv_");
  c.owner = actor.id;
  c.title = nc.title;
  c.collections = nc.collections;
  c.all_tools = nc.all_tools;
  c.tools = nc.all_tools ? std::vector<std::string>{} : nc.tools;
  c.system_prompt = nc.system_prompt;
  c.model = nc.model;
  c.created_at = c.updated_at = core::utc_timestamp_now();
  db_.transaction([&](Tx& tx) {
    tx.exec(
        "INSERT INTO agent_conversations (id, owner, title, collections, tools, system_prompt, "
        "model, summary, summarized_upto, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
        "$6, $7, '', 0, $8, $9)",
        {c.id, c.owner, c.title, strings_json(c.collections), tools_text(c.all_tools, c.tools),
         c.system_prompt, c.model, c.created_at, c.updated_at});
  });
  return c;
}

std::vector<Conversation> ConversationStore::list(const Actor& actor, std::int64_t limit,
                                                  std::int64_t offset) {
  std::vector<Conversation> out;
  db_.read([&](Tx& tx) {
    out.clear();
    auto res = tx.exec(std::string("SELECT ") + kConversationColumns +
                           " FROM agent_conversations WHERE owner = $1 "
                           "ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3",
                       {actor.id, limit, offset});
    for (const auto& r : res.rows) out.push_back(conversation_of(r));
  });
  return out;
}

core::Expected<Conversation> ConversationStore::get(const Actor& actor, const std::string& id) {
  core::Expected<Conversation> out = not_found(id);
  db_.read([&](Tx& tx) { out = owned(tx, actor, id); });
  return out;
}

core::Expected<std::int64_t> ConversationStore::turn_admission(const Actor& actor,
                                                               const std::string& id,
                                                               const std::string& day) {
  core::Expected<std::int64_t> out = not_found(id);
  db_.read([&](Tx& tx) {
    if (auto owns = owner_check(tx, actor, id); !owns) {
      out = owns.error();
      return;
    }
    out = tokens_in(tx, actor.id, day);
  });
  return out;
}

core::Expected<ConversationWithMessages> ConversationStore::get_with_messages(
    const Actor& actor, const std::string& id) {
  core::Expected<ConversationWithMessages> out = not_found(id);
  db_.read([&](Tx& tx) {
    auto c = owned(tx, actor, id);
    if (!c) {
      out = c.error();
      return;
    }
    ConversationWithMessages cm{std::move(c).value(), {}};
    auto res = tx.exec(std::string("SELECT ") + kMessageColumns +
                           " FROM agent_messages WHERE conversation_id = $1 ORDER BY seq",
                       {id});
    for (const auto& r : res.rows) cm.messages.push_back(message_of(r));
    out = std::move(cm);
  });
  return out;
}

core::Expected<Conversation> ConversationStore::update(const Actor& actor, const std::string& id,
                                                       const ConversationPatch& p) {
  core::Expected<Conversation> out = not_found(id);
  db_.transaction([&](Tx& tx) {
    out = owned(tx, actor, id);
    if (!out) return;
    Conversation& c = *out;
    if (p.title) c.title = *p.title;
    if (p.system_prompt) c.system_prompt = *p.system_prompt;
    if (p.model) c.model = *p.model;
    if (p.collections) c.collections = *p.collections;
    if (p.all_tools) c.all_tools = *p.all_tools;
    if (p.tools) c.tools = *p.tools;
    if (c.all_tools) c.tools.clear();
    c.updated_at = core::utc_timestamp_now();
    tx.exec(
        "UPDATE agent_conversations SET title = $2, system_prompt = $3, model = $4, "
        "collections = $5, tools = $6, updated_at = $7 WHERE id = $1",
        {c.id, c.title, c.system_prompt, c.model, strings_json(c.collections),
         tools_text(c.all_tools, c.tools), c.updated_at});
  });
  return out;
}

core::Status ConversationStore::remove(const Actor& actor, const std::string& id) {
  core::Status out = core::ok_status();
  db_.transaction([&](Tx& tx) {
    auto c = owned(tx, actor, id);
    if (!c) {
      out = c.error();
      return;
    }
    out = core::ok_status();
    tx.exec("DELETE FROM agent_messages WHERE conversation_id = $1", {id});
    tx.exec("DELETE FROM agent_conversations WHERE id = $1", {id});
  });
  if (out) window_->erase(id);
  return out;
}

core::Expected<std::vector<StoredMessage>> ConversationStore::append(
    const Actor& actor, const std::string& id, std::vector<StoredMessage> messages,
    const TokenCharge* charge, const SummaryUpdate* summary) {
  core::Expected<std::vector<StoredMessage>> out = not_found(id);
  db_.transaction([&](Tx& tx) {
    if (auto owns = owner_check(tx, actor, id); !owns) {
      out = owns.error();
      return;
    }
    out = append_in(tx, id, messages);  // a copy: a retried transaction starts again from it
    if (charge != nullptr) charge_in(tx, *charge);
    if (summary != nullptr) summary_in(tx, id, summary->summary, summary->upto);
  });
  if (out) window_->extend(id, *out);
  return out;
}

HistoryPtr window_message_of(const StoredMessage& m) {
  return HistoryMessage::make(m.seq, m.role, m.content, m.tool_calls, m.tool_call_id, m.name);
}

core::Expected<TurnStart> ConversationStore::begin_turn(const Actor& actor, const std::string& id,
                                                        StoredMessage user) {
  core::Expected<TurnStart> out = not_found(id);
  std::int64_t lo = 0, hi = 0;
  db_.transaction([&](Tx& tx) {
    auto c = owned(tx, actor, id);
    if (!c) {
      out = c.error();
      return;
    }
    TurnStart ts{std::move(c).value(), {}};
    lo = ts.conversation.summarized_upto;
    hi = window_->read(id, lo, &ts.messages);
    auto res = tx.exec(std::string("SELECT ") + kWindowColumns +
                           " FROM agent_messages WHERE conversation_id = $1 AND seq > $2 "
                           "ORDER BY seq",
                       {id, hi});
    ts.messages.reserve(ts.messages.size() + res.rows.size() + 1);
    for (const auto& r : res.rows) ts.messages.push_back(window_message_of(r));
    auto stored = append_in(tx, id, {user});  // a copy: a retried transaction starts again
    hi = stored.front().seq;
    ts.messages.push_back(window_message_of(stored.front()));
    out = std::move(ts);
  });
  if (!out) return out;
  // Committed: the messages up to the user's are complete; the turn itself does not see its
  // own message among them.
  window_->store(id, lo, hi, out->messages);
  out->messages.pop_back();
  return out;
}

core::Status ConversationStore::set_summary(const Actor& actor, const std::string& id,
                                            const std::string& summary, std::int64_t upto) {
  core::Status out = core::ok_status();
  db_.transaction([&](Tx& tx) {
    out = owner_check(tx, actor, id);
    if (!out) return;
    summary_in(tx, id, summary, upto);
  });
  return out;
}

std::int64_t ConversationStore::tokens_used(const std::string& user, const std::string& day) {
  std::int64_t used = 0;
  db_.read([&](Tx& tx) { used = tokens_in(tx, user, day); });
  return used;
}

void ConversationStore::add_tokens(const std::string& user, const std::string& day,
                                   std::int64_t tokens) {
  if (tokens <= 0) return;
  db_.transaction([&](Tx& tx) { charge_in(tx, {user, day, tokens}); });
}

}  // namespace enkisys::agent
