// on_pool(pool, fn): runs a blocking `fn` on a thread pool and resumes the calling coroutine on
// its own executor with the result (an exception thrown by fn is rethrown there).
//
// Plain handlers, not a coroutine spawned on the pool: a worker's stop (terminal cancellation)
// then never reaches the pool thread — the database step runs to its end and the caller sees
// the stop at its next wait. (A coroutine spawned on the pool and cancelled during a stop threw
// "co_await: Operation canceled" on the pool thread, where nothing catches it.)
#pragma once
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <type_traits>

namespace enkisys::router::detail {

template <typename Fn, typename R = std::invoke_result_t<Fn>>
boost::asio::awaitable<R> on_pool(boost::asio::thread_pool& pool, Fn fn) {
  namespace asio = boost::asio;
  if constexpr (std::is_void_v<R>) {
    co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
        [&pool, f = std::move(fn)](auto handler) mutable {
          asio::post(pool, [f = std::move(f), h = std::move(handler)]() mutable {
            std::exception_ptr e;
            try {
              f();
            } catch (...) {
              e = std::current_exception();
            }
            const auto ex = asio::get_associated_executor(h);
            asio::dispatch(ex, [h = std::move(h), e]() mutable { std::move(h)(e); });
          });
        },
        asio::use_awaitable);
  } else {
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                            void(std::exception_ptr, R)>(
        [&pool, f = std::move(fn)](auto handler) mutable {
          asio::post(pool, [f = std::move(f), h = std::move(handler)]() mutable {
            std::exception_ptr e;
            R r{};
            try {
              r = f();
            } catch (...) {
              e = std::current_exception();
            }
            const auto ex = asio::get_associated_executor(h);
            asio::dispatch(ex, [h = std::move(h), e, r = std::move(r)]() mutable {
              std::move(h)(e, std::move(r));
            });
          });
        },
        asio::use_awaitable);
  }
}

}  // namespace enkisys::router::detail
