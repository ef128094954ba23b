// ToolStore: tool definitions, their owners, their change history and the invocation audit,
// kept in the service's database.
//
// Contract:
//  * Thread-safe; every method blocks on the database, so call it off the I/O threads.
//  * Writes are single transactions: a failing call leaves nothing half-written. Each write
//    checks the access rules (access.hpp) on the row it changes, inside its own transaction,
//    and answers from that transaction — never from a later read, which a concurrent delete
//    could empty. Every write of a tool appends one history row (actor, action, the names of
//    the fields that changed — never values) in the same transaction.
//  * Definitions are stored in their canonical JSON form (tools::to_json) and re-validated when
//    read, so a row edited by hand cannot smuggle an invalid schema into the service.
//  * Built-in tools are seeded by migrate() and are read-only (update/remove refuse them).
//    Tools without an owner are stage-wide (rows from before ownership existed become so).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/db/database.hpp"
#include "enkisys/tools/access.hpp"
#include "enkisys/tools/tool_definition.hpp"

namespace enkisys::tools {

struct StoredTool {
  ToolDefinition definition;
  bool builtin = false;
  std::string owner;                   // "" for built-ins and stage-wide tools
  std::string etag;                    // changes on every write of the row
  std::string created_at, updated_at;  // RFC 3339 UTC

  // "builtin" | "stage" | "user"
  std::string_view scope() const;
};
using ToolPtr = std::shared_ptr<const StoredTool>;

struct Invocation {
  std::int64_t id = 0;
  std::string tool, caller, status, error_code, arguments_sha256, created_at;
  double duration_ms = 0;
};

struct InvocationPage {
  std::vector<Invocation> items;
  std::optional<std::int64_t> next_before;  // pass as `before` for the next (older) page
};

struct Change {
  std::int64_t id = 0;
  std::string tool, actor, action;  // action: create | update | delete
  std::vector<std::string> fields;  // names of the changed fields (credentials.hpp)
  std::string created_at;
};

struct ChangePage {
  std::vector<Change> items;
  std::optional<std::int64_t> next_before;
};

class ToolStore {
 public:
  explicit ToolStore(db::Database& db) : db_(db) {}

  // Applies the schema migrations and seeds the built-in tools. Safe to run from several
  // processes at once.
  void migrate(const std::vector<ToolDefinition>& builtins);

  // Reads the row (null when there is none); the parsed definition (with its compiled schema
  // and the owner) is reused from a small cache while the row's etag is unchanged, so other
  // processes' writes are always seen. Applies no access rule: callers use can_see().
  ToolPtr get(const std::string& name);
  std::vector<ToolPtr> list();
  // True for SQLite: reads are local, short and never wait for writers (WAL).
  bool reads_are_local() const { return db_.backend() == db::Backend::kSqlite; }

  // Creates `def` owned by `actor` (scope user) or stage-wide. Errors: check_create(), 409
  // already_exists on a name clash.
  core::Expected<ToolPtr> create(const ToolDefinition& def, const Actor& actor, Scope scope);
  // Creates all or none. Errors: as create(); the clash names the first existing tool.
  core::Status create_all(const std::vector<ToolDefinition>& defs, const Actor& actor, Scope scope);
  // Replaces the definition; `scope` changes the scope when set (stage: admins only; an admin
  // making a stage-wide tool their own becomes its owner). "***" header values keep the stored
  // ones (keep_stored_secrets). Errors: check_change(), check_create() for a scope change,
  // keep_stored_secrets(), 409 conflict when the row changed during the call.
  core::Expected<ToolPtr> update(const ToolDefinition& def, const Actor& actor,
                                 std::optional<Scope> scope = std::nullopt);
  // Errors: check_change(), 409 conflict when the row changed during the call.
  core::Status remove(const std::string& name, const Actor& actor);

  void record(const Invocation& inv) { record_all({inv}); }
  // All rows in one transaction.
  void record_all(const std::vector<Invocation>& rows);
  // Newest first; `before` is an exclusive id cursor; limit is clamped to 1..200. With a
  // `caller`, only that caller's invocations.
  InvocationPage invocations(const std::string& tool, const std::optional<std::string>& caller,
                             std::optional<std::int64_t> before, int limit);
  // The change history of `tool`, newest first (paging as invocations()). With
  // `since_last_create`, only the entries of its current life (from its latest creation).
  ChangePage history(const std::string& tool, bool since_last_create,
                     std::optional<std::int64_t> before, int limit);

 private:
  static constexpr std::size_t kCacheCapacity = 4096;
  void remember(const ToolPtr& tool);

  db::Database& db_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, ToolPtr> cache_;
};

}  // namespace enkisys::tools
