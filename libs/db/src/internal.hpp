// Internal pieces shared by the SQLite and PostgreSQL backends: the bounded retry loop and
// the connection pool. Not part of the public interface.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/db/database.hpp"

namespace enkisys::db::internal {

// Runs attempt() until it returns, throws a non-transient error, or Options::max_attempts
// attempts have failed; sleeps a jittered, doubling backoff between attempts.
void run_with_retry(const Options& options, const std::function<void()>& attempt);

std::unique_ptr<Database> open_sqlite(std::string_view url, const Options& options);
std::unique_ptr<Database> open_postgres(std::string_view url, const Options& options);

// "SQL text" shortened for error messages (parameters are never included).
std::string sql_excerpt(std::string_view sql);

// A fixed-capacity pool. Connections are created lazily by the factory (outside the lock); a
// connection returned as broken is destroyed, so the next acquire() makes a fresh one.
// Thread-safe.
template <class Conn>
class Pool {
 public:
  using Factory = std::function<std::unique_ptr<Conn>()>;

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease() {
      if (conn_) pool_->give_back(std::move(conn_), broken_);
    }
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }
    void mark_broken() { broken_ = true; }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
    bool broken_ = false;
  };

  Pool(Factory factory, std::size_t capacity, std::chrono::milliseconds acquire_timeout)
      : factory_(std::move(factory)),
        capacity_(capacity == 0 ? 1 : capacity),
        timeout_(acquire_timeout) {}

  // Adds an already-open connection (used by open() to fail fast on a bad URL).
  void seed(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mu_);
    ++open_;
    idle_.push_back(std::move(conn));
  }

  Lease acquire() {
    std::unique_lock lock(mu_);
    const bool ready =
        cv_.wait_for(lock, timeout_, [&] { return !idle_.empty() || open_ < capacity_; });
    if (!ready) {
      throw DbError("no database connection free after " + std::to_string(timeout_.count()) +
                        " ms (pool of " + std::to_string(capacity_) + ")",
                    true);
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    try {
      return Lease(this, factory_());
    } catch (...) {
      lock.lock();
      --open_;
      cv_.notify_one();
      throw;
    }
  }

 private:
  void give_back(std::unique_ptr<Conn> conn, bool broken) {
    if (broken) conn.reset();  // close outside the lock
    std::lock_guard lock(mu_);
    if (broken) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

  Factory factory_;
  const std::size_t capacity_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  std::size_t open_ = 0;  // idle + leased + being created
};

}  // namespace enkisys::db::internal
