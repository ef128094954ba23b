// AuditLog: group commit for the invocation audit. Each invocation's row is durable before its
// answer is sent, but concurrent invocations share one transaction (one fsync), so recording
// costs a fraction of a commit per request under load.
//
// Contract:
//  * Thread-safe. record() is an awaitable that completes (on the caller's executor) after the
//    row is committed, or throws the database error.
//  * One writer thread; a batch holds at most kMaxBatch rows. The destructor commits what is
//    queued, then stops the thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "enkisys/tools/tool_store.hpp"

namespace enkisys::tools {

class AuditLog {
 public:
  explicit AuditLog(ToolStore& store);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  boost::asio::awaitable<void> record(Invocation inv);

 private:
  struct Pending {
    Invocation inv;
    std::function<void(std::exception_ptr)> done;  // called on the writer thread
  };
  static constexpr std::size_t kMaxBatch = 512;

  void enqueue(Invocation inv, std::function<void(std::exception_ptr)> done);
  void run();

  ToolStore& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace enkisys::tools
