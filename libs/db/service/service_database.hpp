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

#include <memory>
#include <optional>
#include <string>

#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"

namespace enkisys::db {

void declare_database(core::EnvConfig& config, const std::string& default_url);

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

std::unique_ptr<Database> open_service_database(core::ServiceEnv& env);

}  // namespace enkisys::db
