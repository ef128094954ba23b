// Background workers of a service: queues, pollers, key refreshers. A service registers them at
// wiring time (ServiceHooks::add_worker / add_thread_worker); the skeleton starts them once the
// listeners are up and stops them on SIGTERM after the requests have drained.
//
// Contract:
//  * Two kinds. A coroutine worker runs on the service's io_context (one thread shared by every
//    coroutine worker, the signal handler and the reload hook): it must not block; it awaits
//    timers, sockets and HTTP. A thread worker gets a thread of its own for a blocking loop
//    (database polling, file work).
//  * Stop: request_stop() fires the std::stop_token handed to every worker and, for coroutine
//    workers, emits terminal cancellation, so the operation a coroutine awaits completes at once
//    with operation_aborted (the exception that then escapes the worker is a clean stop, not a
//    failure). A thread worker waits with wait_for_stop() (or checks its token) between steps.
//  * Failure: a worker that throws is logged ("worker failed") and restarted after a backoff that
//    doubles from `initial_backoff` to `max_backoff`; a run that lasted `max_backoff` resets it.
//    While a worker has failed `unhealthy_after` times in a row, health() fails (the service's
//    /health check "workers" → 503), so a crash-looping worker is visible to the orchestrator.
//  * A worker that returns without a stop request is finished ("worker finished"), not restarted.
//  * The function objects stay alive until wait() has seen every worker return; captures of a
//    coroutine lambda are therefore safe to use across suspension points.
//  * Thread safety: add*() and start() at wiring time from one thread; request_stop(), wait()
//    and health() from any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "enkisys/core/health.hpp"
#include "enkisys/core/log.hpp"

namespace enkisys::core {

using CoroutineWorker = std::function<boost::asio::awaitable<void>(std::stop_token)>;
using ThreadWorker = std::function<void(std::stop_token)>;

struct WorkerPolicy {
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{60'000};
  int unhealthy_after = 3;  // consecutive failures that fail health()
};

// Blocks until `token` is stopped or `d` has passed; true iff stopped. For thread workers.
bool wait_for_stop(const std::stop_token& token, std::chrono::milliseconds d);

class WorkerSet {
 public:
  // `ioc` runs the coroutine workers (someone else runs it); `log` outlives the set.
  WorkerSet(boost::asio::io_context& ioc, Logger& log);
  ~WorkerSet();  // REQUIRES: no worker still running (wait() returned empty) or none started
  WorkerSet(const WorkerSet&) = delete;
  WorkerSet& operator=(const WorkerSet&) = delete;

  void add(std::string name, CoroutineWorker fn, WorkerPolicy policy = {});
  void add_thread(std::string name, ThreadWorker fn, WorkerPolicy policy = {});
  std::size_t size() const { return entries_.size(); }

  // Starts every registered worker. REQUIRES: called once.
  void start();
  // Thread-safe, idempotent.
  void request_stop();
  // Waits until every started worker has returned or `timeout` has passed; returns the names
  // of the workers still running (empty: all stopped; their threads are joined).
  std::vector<std::string> wait(std::chrono::milliseconds timeout);
  // ok, or the workers that failed `unhealthy_after` times in a row with their last error.
  CheckResult health() const;

  struct Entry;

 private:
  void finished(Entry& e);
  void run_thread(Entry& e);

  boost::asio::io_context& ioc_;
  Logger& log_;
  std::list<Entry> entries_;  // stable addresses
  std::stop_source stop_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t running_ = 0;
  bool started_ = false;
};

}  // namespace enkisys::core
