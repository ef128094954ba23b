// The pool under concurrent use: many threads, many small transactions, an exact count.
#include <atomic>
#include <thread>

#include "db_fixture.hpp"

namespace enkisys::db {
namespace {

class ConcurrencyTest : public testing::DbTest {};

TEST_P(ConcurrencyTest, EightThreadsInsertingLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  db_->query(
      "CREATE TABLE hits (thread BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (thread, seq))");
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kPerThread; ++i) {
          db_->transaction([&](Tx& tx) {
            tx.exec("INSERT INTO hits (thread, seq) VALUES ($1, $2)",
                    {std::int64_t{t}, std::int64_t{i}});
          });
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(count("hits"), kThreads * kPerThread);
  const auto per_thread = db_->query("SELECT thread, count(*) FROM hits GROUP BY thread").rows;
  ASSERT_EQ(per_thread.size(), static_cast<std::size_t>(kThreads));
  for (const auto& row : per_thread) EXPECT_EQ(row.i64(1), kPerThread);
}

TEST_P(ConcurrencyTest, ReadersRunWhileAWriterWaits) {
  db_->query("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)");
  db_->query("INSERT INTO kv (k, v) VALUES ('a', 1)");
  std::vector<std::thread> readers;
  std::atomic<int> seen{0};
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        db_->read(
            [&](Tx& tx) { seen += static_cast<int>(tx.exec("SELECT v FROM kv").one().i64(0)); });
      }
    });
  }
  for (int i = 0; i < 50; ++i) db_->query("UPDATE kv SET v = 1 WHERE k = 'a'");
  for (auto& t : readers) t.join();
  EXPECT_EQ(seen.load(), 200);
}

ENKISYS_DB_ON_BOTH_BACKENDS(ConcurrencyTest);

}  // namespace
}  // namespace enkisys::db
