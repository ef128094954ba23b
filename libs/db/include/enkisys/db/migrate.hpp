// enkisys/db/migrate.hpp — versioned schema migrations.
//
// Contract:
//  * migrate() applies, in version order, each migration whose version is not yet recorded in
//    the table schema_migrations(version BIGINT PRIMARY KEY, name TEXT, applied_at TEXT).
//  * Each migration runs in its own transaction together with its schema_migrations row, so it is
//    applied exactly once or not at all. Concurrent callers (threads or processes) are serialised
//    by BEGIN IMMEDIATE on SQLite and pg_advisory_xact_lock(kMigrationLockKey) on PostgreSQL; the
//    version is re-checked under the lock.
//  * Versions must be positive and strictly increasing; a recorded version whose name differs
//    from the given one is an error (a renumbered migration). Versions recorded in the database
//    but unknown here are ignored (an older binary next to a newer schema during a deploy).
//  * sql may hold several statements; postgres_sql, when non-empty, replaces it on PostgreSQL.
//  * Throws DbError (std::invalid_argument for a malformed list).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "enkisys/db/database.hpp"

namespace enkisys::db {

struct Migration {
  int version;
  std::string name;
  std::string sql;
  std::string postgres_sql = {};
};

inline constexpr std::int64_t kMigrationLockKey = 0x656e6b6973797301;  // "enkisys\x01"

void migrate(Database& db, std::span<const Migration> migrations);

// Versions recorded in schema_migrations, ascending (empty if the table does not exist).
std::vector<std::int64_t> applied_migrations(Database& db);

}  // namespace enkisys::db
