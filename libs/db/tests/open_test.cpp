// Opening databases: URL forms, clear errors, password redaction, memory databases, reconnects.
#include <unistd.h>

#include <fstream>

#include "db_fixture.hpp"

namespace enkisys::db {
namespace {

std::string open_error(const std::string& url, const Options& options = {}) {
  try {
    Database::open(url, options);
  } catch (const DbError& e) {
    return e.what();
  }
  return "<opened>";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(OpenTest, UnknownSchemeIsNamed) {
  const auto msg = open_error("mysql://root:hunter2@db/app");
  EXPECT_TRUE(contains(msg, "'mysql'")) << msg;
  EXPECT_FALSE(contains(msg, "hunter2")) << msg;
  EXPECT_TRUE(contains(open_error("/var/lib/app.db"), "no scheme"));
}

TEST(OpenTest, RelativeSqlitePathIsRejectedWithTheFix) {
  const auto msg = open_error("sqlite://relative.db");
  EXPECT_TRUE(contains(msg, "sqlite:///absolute/path.db")) << msg;
  EXPECT_TRUE(contains(open_error("sqlite:"), "sqlite:///"));
}

TEST(OpenTest, MissingDirectoryIsNamed) {
  const auto msg = open_error("sqlite:///nonexistent-dir-for-enkisys/sub/app.db");
  EXPECT_TRUE(contains(msg, "/nonexistent-dir-for-enkisys/sub")) << msg;
  EXPECT_TRUE(contains(msg, "does not exist")) << msg;
}

TEST(OpenTest, UnwritableDirectoryIsReported) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write to any directory";
  testing::TestStore store(Backend::kSqlite);
  std::filesystem::permissions(
      store.dir(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  const auto msg = open_error(store.url());
  std::filesystem::permissions(store.dir(), std::filesystem::perms::owner_all);
  EXPECT_TRUE(contains(msg, "not writable")) << msg;
}

TEST(OpenTest, SqliteFileIsCreatedInWalMode) {
  testing::TestStore store(Backend::kSqlite);
  auto db = Database::open(store.url());
  EXPECT_EQ(db->backend(), Backend::kSqlite);
  EXPECT_EQ(db->query("PRAGMA journal_mode").one().text(0), "wal");
  EXPECT_EQ(db->query("PRAGMA foreign_keys").one().i64(0), 1);
  EXPECT_EQ(db->query("PRAGMA synchronous").one().i64(0), 2);  // FULL
  EXPECT_TRUE(std::filesystem::exists(store.dir() / "test.db"));
}

TEST(OpenTest, SqlitePageCacheIsTheOptionsPerConnection) {
  testing::TestStore store(Backend::kSqlite);
  EXPECT_EQ(Database::open(store.url())->query("PRAGMA cache_size").one().i64(0), -2000);
  Options small;
  small.sqlite_cache_kib = 256;
  auto db = Database::open(store.url(), small);
  for (int i = 0; i < 8; ++i) {  // every pooled connection, not only the first
    EXPECT_EQ(db->query("PRAGMA cache_size").one().i64(0), -256);
  }
}

TEST(OpenTest, ForeignKeysAreEnforced) {
  auto db = Database::open("sqlite::memory:");
  db->query("CREATE TABLE parent (id BIGINT PRIMARY KEY)");
  db->query("CREATE TABLE child (parent_id BIGINT NOT NULL REFERENCES parent (id))");
  try {
    db->query("INSERT INTO child (parent_id) VALUES (42)");
    FAIL() << "expected a foreign key violation";
  } catch (const DbError& e) {
    EXPECT_TRUE(e.foreign_key_violation()) << e.what();
  }
}

TEST(OpenTest, MemoryDatabasesArePrivateUnlessNamed) {
  auto a = Database::open("sqlite::memory:");
  auto b = Database::open("sqlite::memory:");
  a->query("CREATE TABLE t (x BIGINT)");
  EXPECT_THROW(b->query("SELECT x FROM t"), DbError);

  const std::string named = "sqlite::memory:shared-" + testing::random_hex(8);
  auto c = Database::open(named);
  auto d = Database::open(named);
  c->query("CREATE TABLE t (x BIGINT)");
  c->query("INSERT INTO t (x) VALUES (7)");
  EXPECT_EQ(d->query("SELECT x FROM t").one().i64(0), 7);
  EXPECT_TRUE(contains(open_error("sqlite::memory:bad name"), "invalid memory database name"));
}

TEST(OpenTest, RedactUrlHidesPasswords) {
  EXPECT_EQ(redact_url("postgres://app:s3cr%40t@db:5432/x?sslmode=require"),
            "postgres://app:***@db:5432/x?sslmode=require");
  EXPECT_EQ(redact_url("postgresql://app:p@ss@db/x"), "postgresql://app:***@db/x");
  EXPECT_EQ(redact_url("postgres://db/x?user=a&password=s3cret&sslmode=disable"),
            "postgres://db/x?user=a&password=***&sslmode=disable");
  EXPECT_EQ(redact_url("postgres://app@db/x"), "postgres://app@db/x");
  EXPECT_EQ(redact_url("sqlite:///var/lib/a.db"), "sqlite:///var/lib/a.db");
}

TEST(OpenTest, UrlWithPasswordSetsTheUsersPassword) {
  EXPECT_EQ(url_with_password("postgres://tools@postgres:5432/tools", "s3cret"),
            "postgres://tools:s3cret@postgres:5432/tools");
  // Replaces a password already there; encodes what a URL cannot carry as is.
  EXPECT_EQ(url_with_password("postgresql://app:old@db/x?sslmode=require", "a b@c/d:e%"),
            "postgresql://app:a%20b%40c%2Fd%3Ae%25@db/x?sslmode=require");
  // A password with reserved characters still reaches the server intact (libpq decodes it).
  EXPECT_NE(open_error(url_with_password("postgres://u@127.0.0.1:1/x", "p@ss")), "<opened>");
}

TEST(OpenTest, UrlWithPasswordRefusesUrlsWhereItWouldBeIgnored) {
  EXPECT_TRUE(contains(
      [] {
        try {
          url_with_password("sqlite:///data/tools.db", "pw");
        } catch (const DbError& e) {
          return std::string(e.what());
        }
        return std::string("<accepted>");
      }(),
      "only to a postgres:// URL"));
  EXPECT_THROW(url_with_password("postgres://db.example/x", "pw"), DbError);
  EXPECT_THROW(url_with_password("postgres://:x@db/x", "pw"), DbError);
}

TEST(OpenTest, UnreachablePostgresErrorNeverShowsThePassword) {
  Options o;
  o.connect_timeout_seconds = 2;
  // Port 1 on loopback: connection refused at once.
  const auto msg = open_error("postgres://app:Sup3rS3cret@127.0.0.1:1/x", o);
  EXPECT_TRUE(contains(msg, "cannot connect")) << msg;
  EXPECT_TRUE(contains(msg, "app:***@127.0.0.1:1")) << msg;
  EXPECT_FALSE(contains(msg, "Sup3rS3cret")) << msg;
  const auto msg2 = open_error("postgresql://127.0.0.1:1/x?password=Sup3rS3cret", o);
  EXPECT_FALSE(contains(msg2, "Sup3rS3cret")) << msg2;
}

TEST(OpenTest, PostgresOptionsAreValidated) {
  Options o;
  o.search_path = "x; DROP TABLE y";
  EXPECT_TRUE(contains(open_error("postgres://127.0.0.1:1/x", o), "search_path"));
}

TEST(OpenTest, PostgresReconnectsAfterTheServerDropsTheConnection) {
  const auto url = testing::postgres_test_url();
  if (url.empty()) GTEST_SKIP() << testing::kHowToSetPostgres;
  Options o;
  o.pool_size = 1;
  auto db = Database::open(url, o);
  const auto pid = db->query("SELECT pg_backend_pid()").one().i64(0);
  auto admin = Database::open(url, o);
  EXPECT_EQ(
      admin
          ->query(
              "SELECT CASE WHEN pg_terminate_backend(CAST($1 AS INTEGER), 10000) THEN 1 ELSE 0 END",
              {pid})
          .one()
          .i64(0),
      1);
  // The pooled connection is dead; the next call notices, reconnects and succeeds.
  const auto new_pid = db->query("SELECT pg_backend_pid()").one().i64(0);
  EXPECT_NE(new_pid, pid);
  std::string why;
  EXPECT_TRUE(db->healthy(&why)) << why;
}

TEST(OpenTest, PostgresHealthReportsAFailure) {
  const auto url = testing::postgres_test_url();
  if (url.empty()) GTEST_SKIP() << testing::kHowToSetPostgres;
  Options o;
  o.pool_size = 1;
  auto db = Database::open(url, o);
  const auto pid = db->query("SELECT pg_backend_pid()").one().i64(0);
  Database::open(url, o)->query("SELECT pg_terminate_backend(CAST($1 AS INTEGER), 10000)", {pid});
  // healthy() does not retry: the dead connection is reported (and replaced for next time).
  std::string why;
  EXPECT_FALSE(db->healthy(&why));
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(db->healthy(&why)) << why;
}

}  // namespace
}  // namespace enkisys::db
