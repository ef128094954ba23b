#include "enkisys/agent/event_pump.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace enkisys::agent {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct PumpState {
  explicit PumpState(const asio::any_io_executor& ex) : wake(ex) {}
  // Taken whole by the writer (a deque would keep a 512-byte block for each open stream).
  std::vector<std::pair<std::string, std::string>> queue;
  bool done = false;
  std::exception_ptr error;
  asio::steady_timer wake;
  asio::cancellation_signal cancel;
};

asio::awaitable<void> run_work(std::shared_ptr<PumpState> st,
                               std::function<asio::awaitable<void>(EventSink)> work) {
  EventSink sink = [st](std::string_view name, json::value data) {
    st->queue.emplace_back(std::string(name), data.is_string() ? std::string(data.as_string())
                                                               : json::serialize(data));
    st->wake.cancel();
  };
  try {
    co_await work(std::move(sink));
  } catch (...) {
    st->error = std::current_exception();
  }
  st->done = true;
  st->wake.cancel();
}

}  // namespace

asio::awaitable<bool> pump(core::SseStream& sse,
                           std::function<asio::awaitable<void>(EventSink)> work) {
  const auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<PumpState>(ex);
  asio::co_spawn(ex, run_work(st, std::move(work)),
                 asio::bind_cancellation_slot(st->cancel.slot(), asio::detached));
  bool gone = false;
  bool cancel_sent = false;
  for (;;) {
    while (!st->queue.empty()) {
      // Events queued while one is written wait for the next batch, in order.
      std::vector<std::pair<std::string, std::string>> batch;
      batch.swap(st->queue);
      for (const auto& [name, data] : batch) {
        if (gone) break;
        try {
          co_await sse.event(name, data);
        } catch (const core::StreamClosed&) {
          gone = true;
        }
      }
    }
    if (st->done) break;
    if ((gone || sse.cancelled()) && !cancel_sent) {
      cancel_sent = true;
      st->cancel.emit(asio::cancellation_type::terminal);
      continue;  // the work may have finished or queued events meanwhile
    }
    st->wake.expires_at(asio::steady_timer::time_point::max());
    if (cancel_sent) {
      co_await st->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    } else {
      co_await st->wake.async_wait(asio::bind_cancellation_slot(
          sse.cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
    }
  }
  if (st->error) std::rethrow_exception(st->error);
  co_return !gone && !sse.client_gone();
}

}  // namespace enkisys::agent
