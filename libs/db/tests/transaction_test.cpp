// Transactions: commit, rollback on exception, constraint errors, read-only, transient retry.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "db_fixture.hpp"

namespace enkisys::db {
namespace {

using namespace std::chrono_literals;

// A one-shot event with a bounded wait (tests never wait forever).
class Event {
 public:
  void set() {
    std::lock_guard lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

class TransactionTest : public testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (IsSkipped()) return;
    db_->query("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
  }
};

struct Boom : std::runtime_error {
  Boom() : std::runtime_error("boom") {}
};

TEST_P(TransactionTest, CommittedRowsAreVisibleToAnotherDatabaseObject) {
  db_->transaction([](Tx& tx) {
    tx.exec("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{1}, std::string("a")});
    tx.exec("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{2}, std::string("b")});
  });
  auto other = store_->open();
  EXPECT_EQ(other->query("SELECT count(*) FROM items").one().i64(0), 2);
}

TEST_P(TransactionTest, ExceptionRollsBackEverythingAndPropagates) {
  int calls = 0;
  EXPECT_THROW(db_->transaction([&](Tx& tx) {
    ++calls;
    for (std::int64_t id = 1; id <= 3; ++id) {
      tx.exec("INSERT INTO items (id, name) VALUES ($1, $2)", {id, "n" + std::to_string(id)});
    }
    EXPECT_EQ(tx.exec("SELECT count(*) FROM items").one().i64(0), 3);
    throw Boom();
  }),
               Boom);
  EXPECT_EQ(calls, 1);  // not a database error: never retried
  EXPECT_EQ(count("items"), 0);
  // The connection is usable afterwards.
  db_->query("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{9}, std::string("z")});
  EXPECT_EQ(count("items"), 1);
}

TEST_P(TransactionTest, UniqueViolationIsReportedAsSuchAndRollsBack) {
  db_->query("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{1}, std::string("dup")});
  int calls = 0;
  try {
    db_->transaction([&](Tx& tx) {
      ++calls;
      tx.exec("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{2}, std::string("ok")});
      tx.exec("INSERT INTO items (id, name) VALUES ($1, $2)",
              {std::int64_t{3}, std::string("dup")});
    });
    FAIL() << "expected a unique violation";
  } catch (const DbError& e) {
    EXPECT_TRUE(e.unique_violation()) << e.what();
    EXPECT_EQ(e.sqlstate(), "23505");
    EXPECT_FALSE(e.transient());
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(count("items"), 1);
}

TEST_P(TransactionTest, OtherErrorsAreNotUniqueViolations) {
  try {
    db_->query("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{1}, nullptr});
    FAIL() << "expected a NOT NULL violation";
  } catch (const DbError& e) {
    EXPECT_FALSE(e.unique_violation());
    EXPECT_TRUE(e.not_null_violation()) << e.what();
  }
  EXPECT_THROW(db_->query("SELEC nonsense"), DbError);
}

TEST_P(TransactionTest, ReadTransactionsRefuseWrites) {
  EXPECT_THROW(db_->read([](Tx& tx) {
    tx.exec("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{1}, std::string("a")});
  }),
               DbError);
  EXPECT_EQ(count("items"), 0);
  std::int64_t n = -1;
  db_->read([&](Tx& tx) { n = tx.exec("SELECT count(*) FROM items").one().i64(0); });
  EXPECT_EQ(n, 0);
}

TEST_P(TransactionTest, TransientErrorFromBodyIsRetriedUntilItSucceeds) {
  Options options;
  int retries = 0;
  options.on_retry = [&](const DbError&, int) { ++retries; };
  auto db = store_->open(options);
  int calls = 0;
  db->transaction([&](Tx& tx) {
    tx.exec("INSERT INTO items (id, name) VALUES ($1, $2)",
            {std::int64_t{calls}, "try" + std::to_string(calls)});
    if (++calls < 3) throw DbError("simulated serialization failure", true, "40001");
  });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(retries, 2);
  // Only the last attempt's row survives: the failed attempts were rolled back.
  const auto rows = db->query("SELECT id FROM items").rows;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].i64(0), 2);
}

TEST_P(TransactionTest, RetriesAreBounded) {
  Options options;
  options.max_attempts = 3;
  options.backoff_initial = 1ms;
  auto db = store_->open(options);
  int calls = 0;
  EXPECT_THROW(db->transaction([&](Tx&) {
    ++calls;
    throw DbError("always busy", true);
  }),
               DbError);
  EXPECT_EQ(calls, 3);
}

// Another writer holds the database; our transaction fails with a real transient error
// (SQLITE_BUSY / PostgreSQL deadlock), is retried, and commits once the other one is done.
TEST_P(TransactionTest, RealContentionIsRetried) {
  db_->query("INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b')");
  Options options;
  options.max_attempts = 200;
  options.busy_timeout = 0ms;  // SQLite: report BUSY at once instead of waiting
  Event first_retry;
  std::atomic<int> retries{0};
  std::string retry_error;
  options.on_retry = [&](const DbError& e, int) {
    if (retries++ == 0) retry_error = e.what();
    first_retry.set();
  };
  auto mine = store_->open(options);
  auto theirs = store_->open(options);

  Event holding;
  Event mine_has_row2;
  std::thread other([&] {
    theirs->transaction([&](Tx& tx) {
      tx.exec("UPDATE items SET name = name || '+' WHERE id = 1");
      holding.set();
      if (tx.backend() == Backend::kPostgres) {
        // Both now hold one row and want the other's: the server picks a deadlock victim.
        mine_has_row2.wait();
        tx.exec("UPDATE items SET name = name || '+' WHERE id = 2");
      } else {
        first_retry.wait();  // keep the write lock until `mine` has seen SQLITE_BUSY
      }
    });
  });
  if (!holding.wait()) {
    other.join();
    FAIL() << "the other writer never started";
  }
  mine->transaction([&](Tx& tx) {
    tx.exec("UPDATE items SET name = name || '*' WHERE id = 2");
    mine_has_row2.set();
    tx.exec("UPDATE items SET name = name || '*' WHERE id = 1");
  });
  other.join();

  EXPECT_GE(retries.load(), 1) << "expected at least one transient failure";
  if (GetParam() == Backend::kPostgres) {
    EXPECT_NE(retry_error.find("40P01"), std::string::npos) << retry_error;
  } else {
    EXPECT_NE(retry_error.find("locked"), std::string::npos) << retry_error;
  }
  // Both transactions committed exactly once.
  const auto rows = db_->query("SELECT name FROM items ORDER BY id").rows;
  EXPECT_EQ(rows[0].text(0).size(), 3u) << rows[0].text(0);
  EXPECT_EQ(rows[1].text(0).size(), GetParam() == Backend::kPostgres ? 3u : 2u) << rows[1].text(0);
}

TEST_P(TransactionTest, HealthCheckAnswersSelectOne) {
  std::string why = "untouched";
  EXPECT_TRUE(db_->healthy(&why));
  EXPECT_EQ(why, "untouched");
  EXPECT_TRUE(db_->healthy(nullptr));
}

ENKISYS_DB_ON_BOTH_BACKENDS(TransactionTest);

}  // namespace
}  // namespace enkisys::db
