// The pool under concurrent use: many threads, many small transactions, an exact count.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
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

// Waits until `pred` holds or `deadline` passes; returns pred().
template <class Pred>
bool wait_for(std::mutex& m, std::condition_variable& cv, std::chrono::seconds deadline,
              Pred pred) {
  std::unique_lock lock(m);
  return cv.wait_for(lock, deadline, pred);
}

// The contract: read() transactions run while a write transaction is open (SQLite WAL readers
// never wait for the writer; PostgreSQL MVCC), and they see the last committed state. A writer
// holds its transaction open until the readers are done: if reads were serialised behind the
// writer, none could finish and the bounded wait below fails (the writer is then released so
// the test ends).
TEST_P(ConcurrencyTest, ReadersRunWhileAWriterHoldsItsTransaction) {
  db_->query("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)");
  db_->query("INSERT INTO kv (k, v) VALUES ('a', 1)");
  std::mutex m;
  std::condition_variable cv;
  bool writer_inside = false;
  bool release_writer = false;
  int readers_done = 0;
  std::vector<std::int64_t> seen;

  std::thread writer([&] {
    db_->transaction([&](Tx& tx) {
      tx.exec("UPDATE kv SET v = 2 WHERE k = 'a'");
      std::unique_lock lock(m);
      writer_inside = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(20), [&] { return release_writer; });
    });
  });
  ASSERT_TRUE(wait_for(m, cv, std::chrono::seconds(20), [&] { return writer_inside; }));

  constexpr int kReaders = 4;
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      std::int64_t v = -1;
      db_->read([&](Tx& tx) { v = tx.exec("SELECT v FROM kv WHERE k = 'a'").one().i64(0); });
      std::lock_guard lock(m);
      seen.push_back(v);
      ++readers_done;
      cv.notify_all();
    });
  }
  const bool overlapped =
      wait_for(m, cv, std::chrono::seconds(10), [&] { return readers_done == kReaders; });
  {
    std::lock_guard lock(m);
    release_writer = true;
    cv.notify_all();
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_TRUE(overlapped) << "read() waited for the open write transaction";
  for (const auto v : seen) EXPECT_EQ(v, 1) << "a reader saw an uncommitted write";
  std::int64_t after = 0;
  db_->read([&](Tx& tx) { after = tx.exec("SELECT v FROM kv WHERE k = 'a'").one().i64(0); });
  EXPECT_EQ(after, 2);
}

// Two read() transactions are open at the same time: each waits inside its transaction until
// the other has entered its own. Serialised reads would never meet (bounded wait fails).
TEST_P(ConcurrencyTest, ReadTransactionsOverlap) {
  db_->query("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT)");
  db_->query("INSERT INTO kv (k, v) VALUES ('a', 1)");
  std::mutex m;
  std::condition_variable cv;
  int inside = 0;
  std::atomic<int> met{0};
  auto reader = [&] {
    db_->read([&](Tx& tx) {
      (void)tx.exec("SELECT v FROM kv").one();
      std::unique_lock lock(m);
      ++inside;
      cv.notify_all();
      if (cv.wait_for(lock, std::chrono::seconds(10), [&] { return inside >= 2; })) ++met;
    });
  };
  std::thread a(reader);
  std::thread b(reader);
  a.join();
  b.join();
  EXPECT_EQ(met.load(), 2) << "read() transactions did not run concurrently";
}

ENKISYS_DB_ON_BOTH_BACKENDS(ConcurrencyTest);

}  // namespace
}  // namespace enkisys::db
