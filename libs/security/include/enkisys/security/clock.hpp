// Clock: injected wall-clock time for token validity checks.
//
// Contract: now() is const and thread safe in both implementations. SystemClock reads
// std::chrono::system_clock; ManualClock returns a time that tests set and advance (atomic,
// so a test thread may move it while others read).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace enkisys::security {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

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

 private:
  std::atomic<std::int64_t> ns_{0};
};

// Whole seconds since the Unix epoch (floor), the unit of JWT NumericDate.
inline std::int64_t unix_seconds(Clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace enkisys::security
