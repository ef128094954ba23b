// The services' DATABASE_URL wiring: a password from DATABASE_PASSWORD_FILE joins the URL.
#include "service_database.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

namespace enkisys::db {
namespace {

core::EnvConfig load(const std::map<std::string, std::string>& env) {
  core::EnvConfig config("enkisys-test", "test");
  declare_database(config, "sqlite:///data/test.db");
  std::string error;
  const bool ok = config.load(
      [&env](const char* name) -> const char* {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      &error);
  EXPECT_TRUE(ok) << error;
  return config;
}

std::string temp_file(const std::string& contents) {
  std::string path = ::testing::TempDir() + "db_password_XXXXXX";
  const int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << contents;
  return path;
}

TEST(ServiceDatabaseTest, UrlIsUnchangedWithoutAPasswordFile) {
  EXPECT_EQ(service_database_url(load({})), "sqlite:///data/test.db");
  EXPECT_EQ(service_database_url(load({{"DATABASE_URL", "postgres://tools:pw@pg/tools"}})),
            "postgres://tools:pw@pg/tools");
}

TEST(ServiceDatabaseTest, PasswordFileJoinsThePostgresUrl) {
  const auto path = temp_file("Zx-9_secret\n");
  const auto config = load(
      {{"DATABASE_URL", "postgres://tools@postgres:5432/tools"}, {"DATABASE_PASSWORD_FILE", path}});
  EXPECT_EQ(service_database_url(config), "postgres://tools:Zx-9_secret@postgres:5432/tools");
  std::remove(path.c_str());
}

TEST(ServiceDatabaseTest, BadPasswordFileIsAConfigErrorWithoutThePassword) {
  const auto missing = load({{"DATABASE_URL", "postgres://tools@postgres/tools"},
                             {"DATABASE_PASSWORD_FILE", "/nonexistent/enkisys/pw"}});
  EXPECT_THROW(service_database_url(missing), core::ConfigError);
  const auto path = temp_file("hunter2");
  const auto sqlite = load({{"DATABASE_PASSWORD_FILE", path}});
  try {
    service_database_url(sqlite);
    ADD_FAILURE() << "a password for a sqlite URL was accepted";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("DATABASE_PASSWORD_FILE"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace enkisys::db

namespace enkisys::db {
namespace {

TEST(ServiceDatabaseTest, AnUnusableDatabaseIsA503NotA500) {
  auto lost = classify_database_error(DbError("postgres: cannot connect", true));
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->kind, core::ErrorKind::kUnavailable);
  EXPECT_EQ(lost->code, "database_unavailable");
  EXPECT_GT(lost->retry_after_s, 0);
  auto commit = classify_database_error(DbError("connection lost during COMMIT", false, "08006"));
  ASSERT_TRUE(commit);
  EXPECT_EQ(commit->code, "database_unavailable");
  auto full = classify_database_error(DbError("sqlite: database or disk is full", false, "53100"));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->kind, core::ErrorKind::kUnavailable);
  EXPECT_EQ(full->code, "storage_full");
  // The request's own fault, or anything else: not this classifier's business.
  EXPECT_FALSE(classify_database_error(DbError("duplicate key", false, "23505")));
  EXPECT_FALSE(classify_database_error(std::runtime_error("boom")));
}

TEST(ServiceDatabaseTest, AFullSqliteDatabaseIsReportedAsDiskFull) {
  const std::string dir = ::testing::TempDir() + "enkisys-full-XXXXXX";
  std::string templ = dir;
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  auto db = Database::open("sqlite://" + templ + "/full.db");
  db->query("CREATE TABLE t (v TEXT)");
  // A page limit stands in for a full volume: SQLite answers both with SQLITE_FULL.
  db->query("PRAGMA max_page_count = 8");
  try {
    for (int i = 0; i < 1000; ++i) db->query("INSERT INTO t VALUES ($1)", {std::string(4000, 'x')});
    ADD_FAILURE() << "the database never filled up";
  } catch (const DbError& e) {
    EXPECT_TRUE(e.disk_full()) << e.what() << " sqlstate " << e.sqlstate();
    EXPECT_TRUE(e.unavailable());
  }
  std::filesystem::remove_all(templ);
}

// A database not reachable yet (a PostgreSQL still starting beside its services) is waited for:
// the opener runs again until it succeeds, within the budget.
TEST(ServiceDatabaseTest, OpenWaitsForADatabaseNotReachableYet) {
  int calls = 0;
  std::vector<std::chrono::milliseconds> waits;
  auto db = open_waiting(
      [&]() -> std::unique_ptr<Database> {
        if (++calls < 3) throw DbError("postgres: cannot connect: connection refused", true);
        return Database::open("sqlite::memory:");
      },
      std::chrono::seconds(30),
      [&](const DbError& e, std::chrono::milliseconds waited) {
        EXPECT_TRUE(e.unavailable());
        waits.push_back(waited);
      });
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(waits.size(), 2U);
  EXPECT_GE(waits[1].count(), 250);  // it did wait between the tries
}

// The wait is bounded: once the budget is spent the last error is thrown.
TEST(ServiceDatabaseTest, OpenGivesUpAfterItsBudget) {
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(
      open_waiting(
          [&]() -> std::unique_ptr<Database> {
            ++calls;
            throw DbError("postgres: cannot connect: connection refused", true);
          },
          std::chrono::milliseconds(600), [](const DbError&, std::chrono::milliseconds) {}),
      DbError);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
  EXPECT_GE(calls, 2);
  EXPECT_LE(calls, 4);  // 250 ms, then 350 ms: three tries in 600 ms
}

// An error that waiting cannot cure (a bad URL, a schema problem) is not retried.
TEST(ServiceDatabaseTest, OpenDoesNotWaitOnOtherErrors) {
  int calls = 0;
  EXPECT_THROW(open_waiting(
                   [&]() -> std::unique_ptr<Database> {
                     ++calls;
                     throw DbError("unsupported DATABASE_URL scheme");
                   },
                   std::chrono::seconds(30),
                   [](const DbError&, std::chrono::milliseconds) {
                     ADD_FAILURE() << "waited on a permanent error";
                   }),
               DbError);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace enkisys::db
