#include "service_database.hpp"

#include <algorithm>
#include <thread>

namespace enkisys::db {

void declare_database(core::EnvConfig& config, const std::string& default_url, int cache_kib,
                      int pool_size) {
  config.add(
      {"DATABASE_URL", "sqlite:///path or postgres://user@host/db", default_url, false, true});
  config.add({"DATABASE_PASSWORD_FILE",
              "file holding the password of the DATABASE_URL user (postgres:// only)", "", false,
              false});
  config.add({"DB_POOL_SIZE", "database connections", std::to_string(pool_size), false, false,
              core::integer_in(1, 64)});
  config.add({"DB_CACHE_KIB", "SQLite page cache per pooled connection, KiB (sqlite:// only)",
              std::to_string(cache_kib), false, false, core::integer_in(16, 1 << 20)});
  config.add({"DB_START_TIMEOUT_S", "seconds to wait at start for a database not reachable yet",
              "30", false, false, core::integer_in(0, 600)});
}

std::string service_database_url(const core::EnvConfig& config) {
  std::string url = config.get("DATABASE_URL");
  std::optional<std::string> password;
  try {
    password = config.secret_file("DATABASE_PASSWORD_FILE");
  } catch (const std::runtime_error& e) {
    throw core::ConfigError(e.what());
  }
  if (!password) return url;
  try {
    return url_with_password(url, *password);
  } catch (const DbError& e) {
    throw core::ConfigError(std::string("DATABASE_PASSWORD_FILE: ") + e.what());
  }
}

std::optional<core::Error> classify_database_error(const std::exception& e) {
  const auto* db = dynamic_cast<const DbError*>(&e);
  if (db == nullptr || !db->unavailable()) return std::nullopt;
  core::Error err = db->disk_full()
                        ? core::make_error(core::ErrorKind::kUnavailable, "storage_full",
                                           "the service's storage is full; nothing was written", "")
                        : core::make_error(core::ErrorKind::kUnavailable, "database_unavailable",
                                           "the database is unavailable; try again shortly", "");
  err.retry_after_s = db->disk_full() ? 30 : 1;
  return err;
}

std::unique_ptr<Database> open_waiting(
    const DatabaseOpener& open, std::chrono::milliseconds budget,
    const std::function<void(const DbError&, std::chrono::milliseconds)>& on_wait) {
  using std::chrono::milliseconds;
  const auto start = std::chrono::steady_clock::now();
  milliseconds pause{250};
  for (;;) {
    try {
      return open();
    } catch (const DbError& e) {
      const auto waited =
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
      if (!e.unavailable() || waited >= budget) throw;
      on_wait(e, waited);
      std::this_thread::sleep_for(std::min(pause, budget - waited));
      pause = std::min(pause * 2, milliseconds{2000});
    }
  }
}

std::unique_ptr<Database> open_service_database(core::ServiceEnv& env) {
  Options opts;
  opts.pool_size = static_cast<std::size_t>(env.config.get_int("DB_POOL_SIZE"));
  opts.sqlite_cache_kib = static_cast<int>(env.config.get_int("DB_CACHE_KIB"));
  const std::string url = service_database_url(env.config);
  bool told = false;
  auto database = open_waiting([&] { return Database::open(url, opts); },
                               std::chrono::seconds(env.config.get_int("DB_START_TIMEOUT_S")),
                               [&](const DbError& e, std::chrono::milliseconds waited) {
                                 if (told) return;  // once: the reason does not change
                                 told = true;
                                 env.log.warn("database not reachable yet; waiting",
                                              {{"error", e.what()}, {"waited_ms", waited.count()}});
                               });
  env.log.info("database ready", {{"url", database->redacted_url()}});
  // A database that cannot be used right now is a 503 with a JSON error, not a 500.
  env.server.classify_exception = classify_database_error;
  Database* raw = database.get();
  env.health.add("database", [raw] {
    std::string why;
    const bool ok = raw->healthy(&why);
    return core::CheckResult{ok, ok ? "" : why};
  });
  return database;
}

}  // namespace enkisys::db
