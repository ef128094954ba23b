// ToolStore: tool definitions and the invocation audit, kept in the service's database.
//
// Contract:
//  * Thread-safe; every method blocks on the database, so call it off the I/O threads.
//  * Writes are single transactions: a failing call leaves nothing half-written.
//  * Definitions are stored in their canonical JSON form (tools::to_json) and re-validated when
//    read, so a row edited by hand cannot smuggle an invalid schema into the service.
//  * Built-in tools are seeded by migrate() and are read-only (update/remove refuse them).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "enkisys/db/database.hpp"
#include "enkisys/tools/tool_definition.hpp"

namespace enkisys::tools {

struct StoredTool {
  ToolDefinition definition;
  bool builtin = false;
  std::string etag;                    // changes on every write of the row
  std::string created_at, updated_at;  // RFC 3339 UTC
};

struct Invocation {
  std::int64_t id = 0;
  std::string tool, caller, status, error_code, arguments_sha256, created_at;
  double duration_ms = 0;
};

struct InvocationPage {
  std::vector<Invocation> items;
  std::optional<std::int64_t> next_before;  // pass as `before` for the next (older) page
};

enum class WriteOutcome { kOk, kExists, kNotFound, kReadOnly };

class ToolStore {
 public:
  explicit ToolStore(db::Database& db) : db_(db) {}

  // Applies the schema migrations and seeds the built-in tools. Safe to run from several
  // processes at once.
  void migrate(const std::vector<ToolDefinition>& builtins);

  // Reads the row; the parsed definition (with its compiled schema) is reused from a small
  // cache while the row's etag is unchanged, so other processes' writes are always seen.
  std::shared_ptr<const StoredTool> get(const std::string& name);
  std::vector<StoredTool> list();
  // True for SQLite: reads are local, short and never wait for writers (WAL).
  bool reads_are_local() const { return db_.backend() == db::Backend::kSqlite; }
  WriteOutcome create(const ToolDefinition& def);
  // Creates all or none; on a clash returns kExists and sets *clash to the first existing name.
  WriteOutcome create_all(const std::vector<ToolDefinition>& defs, std::string* clash);
  WriteOutcome update(const ToolDefinition& def);
  WriteOutcome remove(const std::string& name);

  void record(const Invocation& inv) { record_all({inv}); }
  // All rows in one transaction.
  void record_all(const std::vector<Invocation>& rows);
  // Newest first; `before` is an exclusive id cursor; limit is clamped to 1..200.
  InvocationPage invocations(const std::string& tool, std::optional<std::int64_t> before,
                             int limit);

 private:
  static constexpr std::size_t kCacheCapacity = 4096;
  db::Database& db_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<const StoredTool>> cache_;
};

}  // namespace enkisys::tools
