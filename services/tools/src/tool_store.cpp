#include "enkisys/tools/tool_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "enkisys/core/log.hpp"
#include "enkisys/db/migrate.hpp"
#include "enkisys/security/secrets.hpp"
#include "enkisys/tools/credentials.hpp"

namespace enkisys::tools {

namespace json = boost::json;

namespace {

// The schema for both backends; they differ only in how the audit id is generated.
std::string tools_schema(std::string_view id_column) {
  std::string sql = R"sql(
CREATE TABLE tools (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  definition TEXT NOT NULL,
  builtin BIGINT NOT NULL DEFAULT 0,
  etag TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE tool_invocations (
  id @ID@,
  tool TEXT NOT NULL,
  caller TEXT NOT NULL,
  status TEXT NOT NULL,
  error_code TEXT NOT NULL DEFAULT '',
  duration_ms DOUBLE PRECISION NOT NULL,
  arguments_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX tool_invocations_by_tool ON tool_invocations (tool, id);
)sql";
  sql.replace(sql.find("@ID@"), 4, id_column);
  return sql;
}

// Ownership: rows written before it existed become stage-wide (owner ''). The history of
// changes lives beside the invocation audit.
std::string ownership_schema(std::string_view id_column) {
  std::string sql = R"sql(
ALTER TABLE tools ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE TABLE tool_history (
  id @ID@,
  tool TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  fields TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX tool_history_by_tool ON tool_history (tool, id);
)sql";
  sql.replace(sql.find("@ID@"), 4, id_column);
  return sql;
}

const std::vector<db::Migration>& migrations() {
  static const std::vector<db::Migration> m{
      {1, "tools and invocation audit", tools_schema("INTEGER PRIMARY KEY AUTOINCREMENT"),
       tools_schema("BIGSERIAL PRIMARY KEY")},
      {2, "tool owners and change history", ownership_schema("INTEGER PRIMARY KEY AUTOINCREMENT"),
       ownership_schema("BIGSERIAL PRIMARY KEY")},
  };
  return m;
}

std::string new_etag() {
  return security::random_token(12);
}

StoredTool from_row(const db::Row& row) {
  auto parsed = parse_tool_definition(json::parse(row.text("definition")));
  if (!parsed) {
    throw std::runtime_error("stored tool '" + row.text("name") +
                             "' is invalid: " + parsed.error().message);
  }
  StoredTool t;
  t.definition = std::move(parsed).value();
  t.builtin = row.i64("builtin") != 0;
  t.owner = row.text("owner");
  t.etag = row.text("etag");
  t.created_at = row.text("created_at");
  t.updated_at = row.text("updated_at");
  return t;
}

constexpr std::string_view kSelect =
    "SELECT name, definition, builtin, owner, etag, created_at, updated_at FROM tools";

void append_history(db::Tx& tx, const std::string& tool, const Actor& actor, const char* action,
                    const std::vector<std::string>& fields, const std::string& now) {
  json::array names;
  for (const auto& f : fields) names.emplace_back(f);
  tx.exec(
      "INSERT INTO tool_history (tool, actor, action, fields, created_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {tool, actor.id, std::string(action), json::serialize(names), now});
}

core::Error conflict(const std::string& name) {
  return core::make_error(core::ErrorKind::kConflict, "conflict",
                          "'" + name + "' was changed at the same time; read it and try again");
}

core::Error exists(const std::string& name, const char* tail = "") {
  return core::make_error(core::ErrorKind::kConflict, "already_exists",
                          "a tool named '" + name + "' already exists" + tail);
}

// The current row of `name` in `tx`, or null.
std::shared_ptr<StoredTool> current_row(db::Tx& tx, const std::string& name) {
  auto r = tx.exec(std::string(kSelect) + " WHERE name = $1", {name});
  if (r.empty()) return nullptr;
  return std::make_shared<StoredTool>(from_row(r.rows[0]));
}
}  // namespace

std::string_view StoredTool::scope() const {
  if (builtin) return "builtin";
  return owner.empty() ? "stage" : "user";
}

void ToolStore::migrate(const std::vector<ToolDefinition>& builtins) {
  db::migrate(db_, migrations());
  const std::string now = core::utc_timestamp_now();
  db_.transaction([&](db::Tx& tx) {
    for (const auto& b : builtins) {
      // Keeps built-ins current with the binary: insert, or refresh the stored definition.
      tx.exec(
          "INSERT INTO tools (name, kind, definition, builtin, owner, etag, created_at, "
          "updated_at) VALUES ($1, $2, $3, 1, '', $5, $4, $4) ON CONFLICT (name) DO UPDATE SET "
          "definition = excluded.definition, kind = excluded.kind, builtin = 1, owner = '', "
          "etag = excluded.etag",
          {b.name, std::string(to_string(b.kind)), json::serialize(to_json(b)), now, new_etag()});
    }
  });
}

void ToolStore::remember(const ToolPtr& tool) {
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= kCacheCapacity) cache_.clear();  // crude bound; rows are small
  cache_[tool->definition.name] = tool;
}

ToolPtr ToolStore::get(const std::string& name) {
  ToolPtr out;
  db_.read([&](db::Tx& tx) {
    out.reset();
    auto r = tx.exec(std::string(kSelect) + " WHERE name = $1", {name});
    if (r.empty()) return;
    const db::Row& row = r.rows[0];
    const std::string etag = row.text("etag");
    {
      std::lock_guard lock(cache_mu_);
      auto it = cache_.find(name);
      if (it != cache_.end() && it->second->etag == etag) {
        out = it->second;
        return;
      }
    }
    out = std::make_shared<const StoredTool>(from_row(row));
    remember(out);
  });
  return out;
}

std::vector<ToolPtr> ToolStore::list() {
  std::vector<ToolPtr> out;
  db_.read([&](db::Tx& tx) {
    out.clear();
    auto r = tx.exec(std::string(kSelect) + " ORDER BY name");
    for (const auto& row : r.rows) {
      {
        std::lock_guard lock(cache_mu_);
        auto it = cache_.find(row.text("name"));
        if (it != cache_.end() && it->second->etag == row.text("etag")) {
          out.push_back(it->second);
          continue;
        }
      }
      out.push_back(std::make_shared<const StoredTool>(from_row(row)));
    }
  });
  return out;
}

core::Expected<ToolPtr> ToolStore::create(const ToolDefinition& def, const Actor& actor,
                                          Scope scope) {
  if (auto ok = check_create(scope, actor); !ok) return ok.error();
  std::shared_ptr<StoredTool> out;
  db_.transaction([&](db::Tx& tx) {
    out.reset();
    auto t = std::make_shared<StoredTool>();
    t->definition = def;
    t->owner = scope == Scope::kStage ? "" : actor.id;
    t->etag = new_etag();
    t->created_at = t->updated_at = core::utc_timestamp_now();
    // ON CONFLICT DO NOTHING keeps the transaction usable on PostgreSQL after a clash.
    auto r = tx.exec(
        "INSERT INTO tools (name, kind, definition, builtin, owner, etag, created_at, updated_at) "
        "VALUES ($1, $2, $3, 0, $4, $5, $6, $6) ON CONFLICT (name) DO NOTHING",
        {def.name, std::string(to_string(def.kind)), json::serialize(to_json(def)), t->owner,
         t->etag, t->created_at});
    if (r.affected == 0) return;
    append_history(tx, def.name, actor, "create", changed_fields(nullptr, def), t->created_at);
    out = std::move(t);
  });
  if (!out) return exists(def.name);
  remember(out);
  return ToolPtr(out);
}

core::Status ToolStore::create_all(const std::vector<ToolDefinition>& defs, const Actor& actor,
                                   Scope scope) {
  if (auto ok = check_create(scope, actor); !ok) return ok;
  struct Clash {
    std::string name;
  };
  const std::string owner = scope == Scope::kStage ? "" : actor.id;
  try {
    db_.transaction([&](db::Tx& tx) {
      const std::string now = core::utc_timestamp_now();
      for (const auto& d : defs) {
        auto r = tx.exec(
            "INSERT INTO tools (name, kind, definition, builtin, owner, etag, created_at, "
            "updated_at) VALUES ($1, $2, $3, 0, $4, $5, $6, $6) ON CONFLICT (name) DO NOTHING",
            {d.name, std::string(to_string(d.kind)), json::serialize(to_json(d)), owner, new_etag(),
             now});
        if (r.affected == 0) throw Clash{d.name};  // rolls back everything written so far
        append_history(tx, d.name, actor, "create", changed_fields(nullptr, d), now);
      }
    });
  } catch (const Clash& c) {
    return exists(c.name, "; nothing was imported");
  }
  return core::ok_status();
}

core::Expected<ToolPtr> ToolStore::update(const ToolDefinition& def, const Actor& actor,
                                          std::optional<Scope> scope) {
  std::optional<core::Error> error;
  std::shared_ptr<StoredTool> out;
  db_.transaction([&](db::Tx& tx) {
    error.reset();
    out.reset();
    const auto cur = current_row(tx, def.name);
    if (auto ok = check_change(cur.get(), actor, def.name); !ok) {
      error = ok.error();
      return;
    }
    auto t = std::make_shared<StoredTool>(*cur);
    if (scope) {
      if (auto ok = check_create(*scope, actor); !ok) {
        error = ok.error();
        return;
      }
      if (*scope == Scope::kStage) t->owner.clear();
      if (*scope == Scope::kUser && t->owner.empty()) t->owner = actor.id;
    }
    t->definition = def;  // a fresh copy on every attempt of the transaction
    if (auto ok = keep_stored_secrets(t->definition, &cur->definition); !ok) {
      error = ok.error();
      return;
    }
    auto fields = changed_fields(&cur->definition, t->definition);
    if (t->owner != cur->owner) fields.emplace_back("scope");
    t->etag = new_etag();
    t->updated_at = core::utc_timestamp_now();
    auto r = tx.exec(
        "UPDATE tools SET kind = $2, definition = $3, owner = $4, updated_at = $5, etag = $6 "
        "WHERE name = $1 AND etag = $7",
        {def.name, std::string(to_string(def.kind)), json::serialize(to_json(t->definition)),
         t->owner, t->updated_at, t->etag, cur->etag});
    if (r.affected == 0) {
      error = conflict(def.name);
      return;
    }
    append_history(tx, def.name, actor, "update", fields, t->updated_at);
    out = std::move(t);
  });
  if (error) return *error;
  remember(out);
  return ToolPtr(out);
}

core::Status ToolStore::remove(const std::string& name, const Actor& actor) {
  std::optional<core::Error> error;
  db_.transaction([&](db::Tx& tx) {
    error.reset();
    const auto cur = current_row(tx, name);
    if (auto ok = check_change(cur.get(), actor, name); !ok) {
      error = ok.error();
      return;
    }
    auto r = tx.exec("DELETE FROM tools WHERE name = $1 AND etag = $2", {name, cur->etag});
    if (r.affected == 0) {
      error = conflict(name);
      return;
    }
    append_history(tx, name, actor, "delete", {}, core::utc_timestamp_now());
  });
  if (error) return *error;
  std::lock_guard lock(cache_mu_);
  cache_.erase(name);
  return core::ok_status();
}

void ToolStore::record_all(const std::vector<Invocation>& rows) {
  const std::string now = core::utc_timestamp_now();
  db_.transaction([&](db::Tx& tx) {
    for (const auto& inv : rows) {
      tx.exec(
          "INSERT INTO tool_invocations (tool, caller, status, error_code, duration_ms, "
          "arguments_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {inv.tool, inv.caller, inv.status, inv.error_code, inv.duration_ms, inv.arguments_sha256,
           inv.created_at.empty() ? now : inv.created_at});
    }
  });
}

InvocationPage ToolStore::invocations(const std::string& tool,
                                      const std::optional<std::string>& caller,
                                      std::optional<std::int64_t> before, int limit) {
  limit = std::clamp(limit, 1, 200);
  InvocationPage page;
  db_.read([&](db::Tx& tx) {
    page = {};
    const auto r = tx.exec(
        "SELECT id, tool, caller, status, error_code, duration_ms, arguments_sha256, created_at "
        "FROM tool_invocations WHERE tool = $1 AND id < $2 AND ($4 = '' OR caller = $4) "
        "ORDER BY id DESC LIMIT $3",
        {tool, before.value_or(INT64_MAX), static_cast<std::int64_t>(limit) + 1,
         caller.value_or("")});
    for (const auto& row : r.rows) {
      if (page.items.size() == static_cast<std::size_t>(limit)) {
        page.next_before = page.items.back().id;
        break;
      }
      page.items.push_back({row.i64(0), row.text(1), row.text(2), row.text(3), row.text(4),
                            row.text(6), row.text(7), row.f64(5)});
    }
  });
  return page;
}

ChangePage ToolStore::history(const std::string& tool, bool since_last_create,
                              std::optional<std::int64_t> before, int limit) {
  limit = std::clamp(limit, 1, 200);
  ChangePage page;
  db_.read([&](db::Tx& tx) {
    page = {};
    std::int64_t from = 0;
    if (since_last_create) {
      auto c = tx.exec(
          "SELECT COALESCE(MAX(id), 0) FROM tool_history WHERE tool = $1 AND action = 'create'",
          {tool});
      from = c.rows[0].i64(0);
    }
    const auto r = tx.exec(
        "SELECT id, tool, actor, action, fields, created_at FROM tool_history "
        "WHERE tool = $1 AND id < $2 AND id >= $3 ORDER BY id DESC LIMIT $4",
        {tool, before.value_or(INT64_MAX), from, static_cast<std::int64_t>(limit) + 1});
    for (const auto& row : r.rows) {
      if (page.items.size() == static_cast<std::size_t>(limit)) {
        page.next_before = page.items.back().id;
        break;
      }
      Change c{row.i64(0), row.text(1), row.text(2), row.text(3), {}, row.text(5)};
      const json::value fields = json::parse(row.text(4));
      for (const auto& f : fields.as_array()) c.fields.emplace_back(f.as_string());
      page.items.push_back(std::move(c));
    }
  });
  return page;
}

}  // namespace enkisys::tools
