#include "enkisys/tools/tool_store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "enkisys/core/log.hpp"
#include "enkisys/db/migrate.hpp"
#include "enkisys/security/secrets.hpp"

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

const std::vector<db::Migration>& migrations() {
  static const std::vector<db::Migration> m{
      {1, "tools and invocation audit", tools_schema("INTEGER PRIMARY KEY AUTOINCREMENT"),
       tools_schema("BIGSERIAL PRIMARY KEY")},
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
  t.etag = row.text("etag");
  t.created_at = row.text("created_at");
  t.updated_at = row.text("updated_at");
  return t;
}

constexpr const char* kSelect =
    "SELECT name, definition, builtin, etag, created_at, updated_at FROM tools";
}  // namespace

void ToolStore::migrate(const std::vector<ToolDefinition>& builtins) {
  db::migrate(db_, migrations());
  const std::string now = core::utc_timestamp_now();
  db_.transaction([&](db::Tx& tx) {
    for (const auto& b : builtins) {
      // Keeps built-ins current with the binary: insert, or refresh the stored definition.
      tx.exec(
          "INSERT INTO tools (name, kind, definition, builtin, etag, created_at, updated_at) "
          "VALUES ($1, $2, $3, 1, $5, $4, $4) ON CONFLICT (name) DO UPDATE SET "
          "definition = excluded.definition, kind = excluded.kind, builtin = 1, "
          "etag = excluded.etag",
          {b.name, std::string(to_string(b.kind)), json::serialize(to_json(b)), now, new_etag()});
    }
  });
}

std::shared_ptr<const StoredTool> ToolStore::get(const std::string& name) {
  std::shared_ptr<const StoredTool> out;
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
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kCacheCapacity) cache_.clear();  // crude bound; rows are small
    cache_[name] = out;
  });
  return out;
}

std::vector<StoredTool> ToolStore::list() {
  std::vector<StoredTool> out;
  db_.read([&](db::Tx& tx) {
    out.clear();
    auto r = tx.exec(std::string(kSelect) + " ORDER BY name");
    for (const auto& row : r.rows) out.push_back(from_row(row));
  });
  return out;
}

WriteOutcome ToolStore::create(const ToolDefinition& def) {
  std::string clash;
  return create_all({def}, &clash);
}

WriteOutcome ToolStore::create_all(const std::vector<ToolDefinition>& defs, std::string* clash) {
  struct Clash {};
  const std::string now = core::utc_timestamp_now();
  try {
    db_.transaction([&](db::Tx& tx) {
      for (const auto& d : defs) {
        // ON CONFLICT DO NOTHING keeps the transaction usable on PostgreSQL after a clash.
        auto r = tx.exec(
            "INSERT INTO tools (name, kind, definition, builtin, etag, created_at, updated_at) "
            "VALUES ($1, $2, $3, 0, $5, $4, $4) ON CONFLICT (name) DO NOTHING",
            {d.name, std::string(to_string(d.kind)), json::serialize(to_json(d)), now, new_etag()});
        if (r.affected == 0) {
          *clash = d.name;
          throw Clash{};  // rolls back everything written so far
        }
      }
    });
  } catch (const Clash&) {
    return WriteOutcome::kExists;
  }
  return WriteOutcome::kOk;
}

WriteOutcome ToolStore::update(const ToolDefinition& def) {
  WriteOutcome outcome = WriteOutcome::kOk;
  db_.transaction([&](db::Tx& tx) {
    auto cur = tx.exec("SELECT builtin FROM tools WHERE name = $1", {def.name});
    if (cur.empty()) {
      outcome = WriteOutcome::kNotFound;
      return;
    }
    if (cur.rows[0].i64(0) != 0) {
      outcome = WriteOutcome::kReadOnly;
      return;
    }
    tx.exec(
        "UPDATE tools SET kind = $2, definition = $3, updated_at = $4, etag = $5 WHERE name = $1",
        {def.name, std::string(to_string(def.kind)), json::serialize(to_json(def)),
         core::utc_timestamp_now(), new_etag()});
    outcome = WriteOutcome::kOk;
  });
  return outcome;
}

WriteOutcome ToolStore::remove(const std::string& name) {
  WriteOutcome outcome = WriteOutcome::kOk;
  db_.transaction([&](db::Tx& tx) {
    auto cur = tx.exec("SELECT builtin FROM tools WHERE name = $1", {name});
    if (cur.empty()) {
      outcome = WriteOutcome::kNotFound;
      return;
    }
    if (cur.rows[0].i64(0) != 0) {
      outcome = WriteOutcome::kReadOnly;
      return;
    }
    tx.exec("DELETE FROM tools WHERE name = $1", {name});
    outcome = WriteOutcome::kOk;
  });
  return outcome;
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

InvocationPage ToolStore::invocations(const std::string& tool, std::optional<std::int64_t> before,
                                      int limit) {
  limit = std::clamp(limit, 1, 200);
  InvocationPage page;
  db_.read([&](db::Tx& tx) {
    page = {};
    const auto r = tx.exec(
        "SELECT id, tool, caller, status, error_code, duration_ms, arguments_sha256, created_at "
        "FROM tool_invocations WHERE tool = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        {tool, before.value_or(INT64_MAX), static_cast<std::int64_t>(limit) + 1});
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

}  // namespace enkisys::tools
