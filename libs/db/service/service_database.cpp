#include "service_database.hpp"

namespace enkisys::db {

void declare_database(core::EnvConfig& config, const std::string& default_url) {
  config.add(
      {"DATABASE_URL", "sqlite:///path or postgres://user@host/db", default_url, false, true});
  config.add({"DB_POOL_SIZE", "database connections", "4", false, false, core::integer_in(1, 64)});
}

std::unique_ptr<Database> open_service_database(core::ServiceEnv& env) {
  Options opts;
  opts.pool_size = static_cast<std::size_t>(env.config.get_int("DB_POOL_SIZE"));
  auto database = Database::open(env.config.get("DATABASE_URL"), opts);
  env.log.info("database ready", {{"url", database->redacted_url()}});
  Database* raw = database.get();
  env.health.add("database", [raw] {
    std::string why;
    const bool ok = raw->healthy(&why);
    return core::CheckResult{ok, ok ? "" : why};
  });
  return database;
}

}  // namespace enkisys::db
