// Clock: injected wall-clock time for token validity checks. The clock is libs/core's one
// (enkisys/core/clock.hpp); the names here are aliases kept for the security code.
//
// Contract: now() is const and thread safe in both implementations. SystemClock reads
// std::chrono::system_clock; ManualClock returns a time that tests set and advance (atomic,
// so a test thread may move it while others read); its steady time moves with it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "enkisys/core/clock.hpp"

namespace enkisys::security {

using Clock = core::Clock;
using SystemClock = core::SystemClock;

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::sys_seconds start) { set(start); }
  time_point now() const override {
    return time_point(std::chrono::nanoseconds(ns_.load(std::memory_order_relaxed)));
  }
  void set(time_point t) {
    ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
              std::memory_order_relaxed);
  }
  void advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count(), std::memory_order_relaxed); }
  steady_time_point steady_now() const override {
    return steady_time_point(std::chrono::nanoseconds(ns_.load(std::memory_order_relaxed)));
  }
  void sleep_for(std::chrono::milliseconds d) override { advance(d); }

 private:
  std::atomic<std::int64_t> ns_{0};
};

// Whole seconds since the Unix epoch (floor), the unit of JWT NumericDate.
inline std::int64_t unix_seconds(Clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace enkisys::security
