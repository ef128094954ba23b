#include "enkisys/tools/audit_log.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace enkisys::tools {

namespace asio = boost::asio;

AuditLog::AuditLog(ToolStore& store) : store_(store), writer_([this] { run(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  writer_.join();
}

void AuditLog::enqueue(Invocation inv, std::function<void(std::exception_ptr)> done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::move(inv), std::move(done)});
  }
  cv_.notify_one();
}

asio::awaitable<void> AuditLog::record(Invocation inv) {
  auto initiate = [this, inv = std::move(inv)](auto handler) mutable {
    // The handler is move-only; share it so the type-erased callback is copyable.
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    enqueue(std::move(inv), [h](std::exception_ptr e) {
      auto ex = asio::get_associated_executor(*h);
      asio::post(ex, [h, e]() mutable { (*h)(e); });
    });
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
      std::move(initiate), asio::use_awaitable);
}

void AuditLog::run() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<Invocation> rows;
    rows.reserve(batch.size());
    for (auto& p : batch) rows.push_back(std::move(p.inv));
    std::exception_ptr error;
    try {
      store_.record_all(rows);
    } catch (...) {
      error = std::current_exception();
    }
    for (auto& p : batch) p.done(error);
  }
}

}  // namespace enkisys::tools
