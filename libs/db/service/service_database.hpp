// The database wiring every stateful service shares: the DATABASE_URL / DB_POOL_SIZE variables,
// opening the database at start (with the URL logged only in redacted form) and the "database"
// health check.
//
// Contract: call declare_database() from ServiceSpec::declare and open_service_database() from
// ServiceSpec::wire; the returned Database must outlive the server (keep it in the wired
// object), because the health check refers to it. Opening throws DbError on failure.
#pragma once

#include <memory>
#include <string>

#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"

namespace enkisys::db {

void declare_database(core::EnvConfig& config, const std::string& default_url);

std::unique_ptr<Database> open_service_database(core::ServiceEnv& env);

}  // namespace enkisys::db
