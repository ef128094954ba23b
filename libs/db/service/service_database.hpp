// The database wiring every stateful service shares: the DATABASE_URL / DATABASE_PASSWORD_FILE /
// DB_POOL_SIZE variables, opening the database at start (with the URL logged only in redacted
// form) and the "database" health check.
//
// Contract: call declare_database() from ServiceSpec::declare and open_service_database() from
// ServiceSpec::wire; the returned Database must outlive the server (keep it in the wired
// object), because the health check refers to it. Opening throws DbError on failure.
// DATABASE_PASSWORD_FILE (a compose/Docker secret) holds the password of the user that a
// postgres:// DATABASE_URL names, so that no password sits in the environment.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"

namespace enkisys::db {

// `cache_kib`: the default of DB_CACHE_KIB, the SQLite page cache per connection;
// `pool_size`: the default of DB_POOL_SIZE.
void declare_database(core::EnvConfig& config, const std::string& default_url, int cache_kib = 2000,
                      int pool_size = 4);

// DATABASE_URL with the password of DATABASE_PASSWORD_FILE (when set) put in.
// REQUIRES: config declared by declare_database() and loaded.
// Throws core::ConfigError naming the variable (never the password) for an unreadable or empty
// password file, or for a password file next to a URL that cannot carry it (sqlite, no user).
std::string service_database_url(const core::EnvConfig& config);

// The error a DbError that escapes a handler stands for: DbError::unavailable() →
// kUnavailable (503) "database_unavailable" (Retry-After 1), or "storage_full" for a full disk
// (Retry-After 30; the transaction was rolled back); nullopt for any other exception.
// open_service_database() installs it as the main listener's ServerOptions::classify_exception.
std::optional<core::Error> classify_database_error(const std::exception& e);

// Runs `open` until it succeeds, waiting while the database cannot be reached yet
// (DbError::unavailable(): a PostgreSQL still starting or not yet resolvable — the stage's
// database and its services start side by side): again after 250 ms, then doubling up to 2 s,
// until `budget` has passed; `on_wait(error, waited_so_far)` is called before each wait. Any
// other error, or an unavailable one once the budget is spent, is thrown as it is.
using DatabaseOpener = std::function<std::unique_ptr<Database>()>;
std::unique_ptr<Database> open_waiting(
    const DatabaseOpener& open, std::chrono::milliseconds budget,
    const std::function<void(const DbError&, std::chrono::milliseconds)>& on_wait);

// Opens DATABASE_URL (waiting up to DB_START_TIMEOUT_S for it, open_waiting), logs it redacted,
// installs classify_database_error and the "database" health check.
std::unique_ptr<Database> open_service_database(core::ServiceEnv& env);

}  // namespace enkisys::db
