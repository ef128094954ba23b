// Versioned migrations: one transaction per migration, serialised across processes.
#include "enkisys/db/migrate.hpp"

#include <ctime>
#include <map>
#include <stdexcept>

namespace enkisys::db {
namespace {

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Takes the migration lock (PostgreSQL; SQLite holds it through BEGIN IMMEDIATE) and makes
// sure the bookkeeping table exists. Creating it under the lock avoids the PostgreSQL race
// where two concurrent CREATE TABLE IF NOT EXISTS both try to create it.
void lock_and_prepare(Tx& tx) {
  if (tx.backend() == Backend::kPostgres) {
    tx.exec("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey});
  }
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
}

void check_list(std::span<const Migration> migrations) {
  int previous = 0;
  for (const auto& m : migrations) {
    if (m.version <= previous) {
      throw std::invalid_argument("migration versions must be positive and strictly increasing (" +
                                  std::to_string(m.version) + " after " + std::to_string(previous) +
                                  ")");
    }
    if (m.name.empty()) {
      throw std::invalid_argument("migration " + std::to_string(m.version) + " has no name");
    }
    previous = m.version;
  }
}

void check_name(const Migration& m, const std::string& recorded) {
  if (recorded != m.name) {
    throw DbError("migration " + std::to_string(m.version) + " is recorded as '" + recorded +
                  "' but the program calls it '" + m.name + "'; migrations must not be renumbered");
  }
}

}  // namespace

void migrate(Database& db, std::span<const Migration> migrations) {
  check_list(migrations);
  std::map<std::int64_t, std::string> applied;
  db.transaction([&](Tx& tx) {
    applied.clear();
    lock_and_prepare(tx);
    for (const auto& row : tx.exec("SELECT version, name FROM schema_migrations").rows) {
      applied[row.i64(0)] = row.text(1);
    }
  });
  for (const auto& m : migrations) {
    if (auto it = applied.find(m.version); it != applied.end()) {
      check_name(m, it->second);
      continue;
    }
    try {
      db.transaction([&](Tx& tx) {
        lock_and_prepare(tx);
        // Another process may have applied it since we looked.
        const auto done = tx.exec("SELECT name FROM schema_migrations WHERE version = $1",
                                  {std::int64_t{m.version}});
        if (!done.empty()) {
          check_name(m, done.one().text(0));
          return;
        }
        const bool pg = tx.backend() == Backend::kPostgres && !m.postgres_sql.empty();
        tx.exec_script(pg ? m.postgres_sql : m.sql);
        tx.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                {std::int64_t{m.version}, m.name, now_utc()});
      });
    } catch (const DbError& e) {
      throw DbError(
          "migration " + std::to_string(m.version) + " (" + m.name + ") failed: " + e.what(),
          e.transient(), e.sqlstate());
    }
  }
}

std::vector<std::int64_t> applied_migrations(Database& db) {
  std::vector<std::int64_t> versions;
  db.read([&](Tx& tx) {
    versions.clear();
    const char* exists = tx.backend() == Backend::kPostgres
                             ? "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL "
                               "THEN 0 ELSE 1 END"
                             : "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                               "AND name = 'schema_migrations'";
    if (tx.exec(exists).one().i64(0) == 0) return;
    for (const auto& row : tx.exec("SELECT version FROM schema_migrations ORDER BY version").rows) {
      versions.push_back(row.i64(0));
    }
  });
  return versions;
}

}  // namespace enkisys::db
