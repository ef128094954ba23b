// Test fixture running a test on both backends. Each test gets a fresh store: a new SQLite file
// in its own temporary directory, or a new PostgreSQL schema (dropped afterwards) on the server
// named by ENKISYS_TEST_POSTGRES_URL. Without that variable the PostgreSQL instances skip.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <string>

#include "enkisys/db/database.hpp"

namespace enkisys::db {
inline void PrintTo(Backend b, std::ostream* os) {
  *os << (b == Backend::kSqlite ? "sqlite" : "postgres");
}
}  // namespace enkisys::db

namespace enkisys::db::testing {

inline std::string postgres_test_url() {
  const char* url = std::getenv("ENKISYS_TEST_POSTGRES_URL");
  return url ? url : "";
}

inline constexpr const char* kHowToSetPostgres =
    "ENKISYS_TEST_POSTGRES_URL is not set; start a throwaway server with "
    "`export ENKISYS_TEST_POSTGRES_URL=$(scripts/pg-test-server.sh start /tmp/enkisys-pg)` "
    "(make test does this)";

inline std::string random_hex(std::size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += kDigits[rng() % 16];
  return s;
}

// One fresh, empty store. open() may be called many times to get independent Database objects
// on the same data (as separate processes would).
class TestStore {
 public:
  explicit TestStore(Backend backend) : backend_(backend) {
    if (backend == Backend::kSqlite) {
      std::string templ = (std::filesystem::temp_directory_path() / "enkisys-db-XXXXXX").string();
      if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
      dir_ = templ;
      url_ = "sqlite://" + (dir_ / "test.db").string();
    } else {
      url_ = postgres_test_url();
      schema_ = "enkisys_t_" + random_hex(12);
      admin()->query("CREATE SCHEMA " + schema_);
    }
  }
  ~TestStore() {
    try {
      if (backend_ == Backend::kSqlite) {
        std::filesystem::remove_all(dir_);
      } else {
        admin()->query("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup failed: " << e.what();
    }
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;

  Backend backend() const { return backend_; }
  const std::string& url() const { return url_; }
  const std::string& schema() const { return schema_; }  // empty for SQLite
  const std::filesystem::path& dir() const { return dir_; }

  // The URL a separate process (a service binary under test) opens the same data with: on
  // PostgreSQL the test's schema rides in the connection options.
  std::string process_url() const {
    if (backend_ == Backend::kSqlite) return url_;
    const std::string sep = url_.find('?') == std::string::npos ? "?" : "&";
    return url_ + sep + "options=-csearch_path%3D" + schema_;
  }

  std::unique_ptr<Database> open(Options options = {}) const {
    options.search_path = schema_;
    return Database::open(url_, options);
  }

 private:
  std::unique_ptr<Database> admin() const {
    Options o;
    o.pool_size = 1;
    return Database::open(url_, o);
  }

  Backend backend_;
  std::string url_;
  std::string schema_;
  std::filesystem::path dir_;
};

class DbTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres && postgres_test_url().empty()) {
      GTEST_SKIP() << kHowToSetPostgres;
    }
    store_ = std::make_unique<TestStore>(GetParam());
    db_ = store_->open();
  }
  void TearDown() override {
    db_.reset();
    store_.reset();
  }

  std::int64_t count(const std::string& table) {
    return db_->query("SELECT count(*) FROM " + table).one().i64(0);
  }

  std::unique_ptr<TestStore> store_;
  std::unique_ptr<Database> db_;
};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}

}  // namespace enkisys::db::testing

#define ENKISYS_DB_ON_BOTH_BACKENDS(suite)                                                   \
  INSTANTIATE_TEST_SUITE_P(                                                                  \
      Backends, suite,                                                                       \
      ::testing::Values(::enkisys::db::Backend::kSqlite, ::enkisys::db::Backend::kPostgres), \
      ::enkisys::db::testing::backend_name)

// Skips the current test when the backend is PostgreSQL and no server is configured.
#define ENKISYS_SKIP_WITHOUT_BACKEND(backend)                  \
  if ((backend) == ::enkisys::db::Backend::kPostgres &&        \
      ::enkisys::db::testing::postgres_test_url().empty()) {   \
    GTEST_SKIP() << ::enkisys::db::testing::kHowToSetPostgres; \
  }
