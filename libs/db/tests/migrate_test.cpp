// Migrations apply once, in order, atomically, and safely from concurrent callers.
#include "enkisys/db/migrate.hpp"

#include <barrier>
#include <thread>

#include "db_fixture.hpp"

namespace enkisys::db {
namespace {

// Neither migration is idempotent by itself: applying one twice fails or duplicates a row.
const std::vector<Migration> kMigrations = {
    {1, "create_notes", "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)"},
    {2, "seed_notes",
     "INSERT INTO notes (id, body) VALUES (1, 'first');"
     "CREATE TABLE audit (note_id BIGINT NOT NULL REFERENCES notes (id), at TEXT)"},
};

class MigrateTest : public testing::DbTest {};

TEST_P(MigrateTest, AppliesEachMigrationOnce) {
  migrate(*db_, kMigrations);
  migrate(*db_, kMigrations);
  EXPECT_EQ(count("notes"), 1);
  EXPECT_EQ(applied_migrations(*db_), (std::vector<std::int64_t>{1, 2}));
  const auto row =
      db_->query("SELECT name, applied_at FROM schema_migrations WHERE version = 2").one();
  EXPECT_EQ(row.text("name"), "seed_notes");
  EXPECT_EQ(row.text("applied_at").size(), 20u) << row.text("applied_at");  // 2024-01-02T03:04:05Z
}

TEST_P(MigrateTest, NewMigrationsAreAppliedOnTopOfOldOnes) {
  migrate(*db_, std::span(kMigrations).first(1));
  EXPECT_EQ(applied_migrations(*db_), (std::vector<std::int64_t>{1}));
  migrate(*db_, kMigrations);
  EXPECT_EQ(applied_migrations(*db_), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(count("notes"), 1);
}

TEST_P(MigrateTest, NoTableMeansNothingApplied) {
  EXPECT_TRUE(applied_migrations(*db_).empty());
}

TEST_P(MigrateTest, FailingMigrationLeavesNoTraceAndKeepsEarlierOnes) {
  std::vector<Migration> list = kMigrations;
  list.push_back(
      {3, "broken", "CREATE TABLE half (id BIGINT); INSERT INTO no_such_table VALUES (1)"});
  try {
    migrate(*db_, list);
    FAIL() << "expected the broken migration to fail";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("migration 3 (broken)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(applied_migrations(*db_), (std::vector<std::int64_t>{1, 2}));
  // The first statement of migration 3 was rolled back with it.
  list.back().sql = "CREATE TABLE half (id BIGINT)";
  migrate(*db_, list);
  EXPECT_EQ(count("half"), 0);
}

TEST_P(MigrateTest, PostgresSqlReplacesSqlOnPostgres) {
  const std::vector<Migration> list = {
      {1, "which", "CREATE TABLE which (name TEXT); INSERT INTO which VALUES ('sqlite')",
       "CREATE TABLE which (name TEXT); INSERT INTO which VALUES ('postgres')"}};
  migrate(*db_, list);
  EXPECT_EQ(db_->query("SELECT name FROM which").one().text(0),
            GetParam() == Backend::kPostgres ? "postgres" : "sqlite");
}

TEST_P(MigrateTest, RenamedOrMisorderedMigrationsAreRejected) {
  migrate(*db_, kMigrations);
  std::vector<Migration> renamed = kMigrations;
  renamed[1].name = "something_else";
  EXPECT_THROW(migrate(*db_, renamed), DbError);
  std::vector<Migration> misordered = {kMigrations[1], kMigrations[0]};
  EXPECT_THROW(migrate(*db_, misordered), std::invalid_argument);
}

TEST_P(MigrateTest, ConcurrentCallersApplyEachMigrationExactlyOnce) {
  constexpr int kCallers = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kCallers; ++i) dbs.push_back(store_->open());
  std::barrier start(kCallers);
  std::vector<std::string> errors(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      try {
        migrate(*dbs[static_cast<std::size_t>(i)], kMigrations);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(i)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(count("notes"), 1);
  EXPECT_EQ(count("schema_migrations"), 2);
}

ENKISYS_DB_ON_BOTH_BACKENDS(MigrateTest);

}  // namespace
}  // namespace enkisys::db
