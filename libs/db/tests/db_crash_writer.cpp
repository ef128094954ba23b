// db_crash_writer URL [SCHEMA] — inserts rows into crash_rows one transaction at a time and
// prints each id on its own line (flushed) only after its COMMIT has returned. Stops after
// 100000 rows or 20 seconds. Used by crash_test to check that acknowledged writes survive
// kill -9 of the writing process.
#include <chrono>
#include <cstdio>
#include <exception>

#include "enkisys/db/database.hpp"
#include "enkisys/db/migrate.hpp"

int main(int argc, char** argv) {
  using namespace enkisys::db;
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: db_crash_writer URL [POSTGRES_SCHEMA]\n");
    return 2;
  }
  try {
    Options options;
    options.pool_size = 1;
    if (argc == 3) options.search_path = argv[2];
    auto db = Database::open(argv[1], options);
    const Migration schema[] = {
        {1, "crash_rows",
         "CREATE TABLE crash_rows (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)"}};
    migrate(*db, schema);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (std::int64_t id = 1; id <= 100000 && std::chrono::steady_clock::now() < deadline; ++id) {
      db->transaction([&](Tx& tx) {
        tx.exec("INSERT INTO crash_rows (id, payload) VALUES ($1, $2)",
                {id, "row " + std::to_string(id)});
      });
      std::printf("%lld\n", static_cast<long long>(id));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "db_crash_writer: %s\n", e.what());
    return 1;
  }
  return 0;
}
