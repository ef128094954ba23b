#include "enkisys/core/worker.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <thread>

namespace enkisys::core {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct WorkerSet::Entry {
  std::string name;
  CoroutineWorker co;  // one of co / th is set
  ThreadWorker th;
  WorkerPolicy policy;
  asio::cancellation_signal cancel;
  std::thread thread;
  bool running = false;  // guarded by WorkerSet::mu_

  mutable std::mutex mu;  // guards the three below
  int failures = 0;       // consecutive
  std::string last_error;
  std::optional<steady_clock::time_point> run_started;  // set while a run is in progress

  steady_clock::time_point begin_run() {
    const auto now = steady_clock::now();
    std::lock_guard lock(mu);
    run_started = now;
    return now;
  }
  void end_run() {
    std::lock_guard lock(mu);
    run_started.reset();
  }

  // Records a failed run that lasted `ran`; returns how long to wait before the restart.
  milliseconds failed(const std::string& error, steady_clock::duration ran, Logger& log) {
    int n = 0;
    {
      std::lock_guard lock(mu);
      run_started.reset();
      if (ran >= policy.max_backoff) failures = 0;  // it had been healthy for a while
      n = ++failures;
      last_error = error;
    }
    milliseconds wait = policy.initial_backoff;
    for (int i = 1; i < n && wait < policy.max_backoff; ++i) wait *= 2;
    wait = std::min(wait, policy.max_backoff);
    log.error(
        "worker failed",
        {{"worker", name}, {"error", error}, {"failures", n}, {"restart_in_ms", wait.count()}});
    return wait;
  }
};

namespace {

// The restart loop of one coroutine worker (a free function: its parameters live in the frame).
asio::awaitable<void> supervise(WorkerSet::Entry* e, std::stop_token token, Logger* log) {
  for (;;) {
    if (token.stop_requested()) co_return;
    const auto started = e->begin_run();
    std::string error;
    try {
      co_await e->co(token);
    } catch (const std::exception& ex) {
      error = ex.what();
    } catch (...) {
      error = "unknown exception";
    }
    if (token.stop_requested() || error.empty()) e->end_run();
    if (token.stop_requested()) co_return;
    if (error.empty()) {
      log->info("worker finished", {{"worker", e->name}});
      co_return;
    }
    const milliseconds wait = e->failed(error, steady_clock::now() - started, *log);
    asio::steady_timer timer(co_await asio::this_coro::executor, wait);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

bool wait_for_stop(const std::stop_token& token, milliseconds d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, token, d, [] { return false; });
  return token.stop_requested();
}

WorkerSet::WorkerSet(asio::io_context& ioc, Logger& log) : ioc_(ioc), log_(log) {}

WorkerSet::~WorkerSet() {
  request_stop();
  for (auto& e : entries_) {
    if (e.thread.joinable()) e.thread.join();
  }
}

void WorkerSet::add(std::string name, CoroutineWorker fn, WorkerPolicy policy) {
  auto& e = entries_.emplace_back();
  e.name = std::move(name);
  e.co = std::move(fn);
  e.policy = policy;
}

void WorkerSet::add_thread(std::string name, ThreadWorker fn, WorkerPolicy policy) {
  auto& e = entries_.emplace_back();
  e.name = std::move(name);
  e.th = std::move(fn);
  e.policy = policy;
}

void WorkerSet::start() {
  {
    std::lock_guard lock(mu_);
    started_ = true;
    running_ = entries_.size();
    for (auto& e : entries_) e.running = true;
  }
  for (auto& e : entries_) {
    log_.info("worker started", {{"worker", e.name}, {"kind", e.co ? "coroutine" : "thread"}});
    if (e.co) {
      asio::co_spawn(ioc_, supervise(&e, stop_.get_token(), &log_),
                     asio::bind_cancellation_slot(
                         e.cancel.slot(), [this, &e](const std::exception_ptr&) { finished(e); }));
    } else {
      e.thread = std::thread([this, &e] { run_thread(e); });
    }
  }
}

void WorkerSet::run_thread(Entry& e) {
  const std::stop_token token = stop_.get_token();
  while (!token.stop_requested()) {
    const auto started = e.begin_run();
    std::string error;
    try {
      e.th(token);
    } catch (const std::exception& ex) {
      error = ex.what();
    } catch (...) {
      error = "unknown exception";
    }
    if (token.stop_requested() || error.empty()) e.end_run();
    if (token.stop_requested()) break;
    if (error.empty()) {
      log_.info("worker finished", {{"worker", e.name}});
      break;
    }
    wait_for_stop(token, e.failed(error, steady_clock::now() - started, log_));
  }
  finished(e);
}

void WorkerSet::finished(Entry& e) {
  std::lock_guard lock(mu_);
  e.running = false;
  --running_;
  cv_.notify_all();
}

void WorkerSet::request_stop() {
  if (!stop_.request_stop()) return;  // already requested
  for (auto& e : entries_) {
    if (e.co) {
      // cancellation_signal is not thread-safe: emit on the io_context's thread.
      asio::post(ioc_, [&e] { e.cancel.emit(asio::cancellation_type::terminal); });
    }
  }
}

std::vector<std::string> WorkerSet::wait(milliseconds timeout) {
  std::vector<std::string> stuck;
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return running_ == 0; });
    for (const auto& e : entries_) {
      if (e.running) stuck.push_back(e.name);
    }
  }
  for (auto& e : entries_) {
    bool running = false;
    {
      std::lock_guard lock(mu_);
      running = e.running;
    }
    if (!running && e.thread.joinable()) e.thread.join();
  }
  return stuck;
}

CheckResult WorkerSet::health() const {
  CheckResult r;
  const auto now = steady_clock::now();
  for (const auto& e : entries_) {
    std::lock_guard lock(e.mu);
    // A run in progress for max_backoff counts as recovered.
    const bool recovered = e.run_started && now - *e.run_started >= e.policy.max_backoff;
    if (e.failures >= e.policy.unhealthy_after && !recovered) {
      if (!r.message.empty()) r.message += "; ";
      r.message +=
          e.name + " failed " + std::to_string(e.failures) + " times in a row: " + e.last_error;
      r.ok = false;
    }
  }
  return r;
}

}  // namespace enkisys::core
