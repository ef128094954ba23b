// Clock: the one injectable source of time (leveldb's Env::NowMicros, split in two).
//
// Contract:
//  * now() is wall-clock time (UTC): timestamps, token validity, records. It may jump.
//  * steady_now() is monotonic: deadlines, intervals, timeouts. It never goes backwards.
//  * sleep_for() blocks the calling thread for `d` (a fake clock advances its time instead). Use
//    it only on threads that may block; coroutines wait on a timer or a stop token instead.
//  * now()/steady_now() are const and thread-safe in every implementation; sleep_for() too.
//  * Every library that needs time takes a `const Clock&` (or `Clock&` when it sleeps); the
//    service skeleton hands one to every service (ServiceEnv::clock, SystemClock by default);
//    tests pass core::testing::FakeClock (libs/core/testing) and advance it by hand.
#pragma once

#include <chrono>

namespace enkisys::core {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using steady_time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  virtual steady_time_point steady_now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

// std::chrono::system_clock / steady_clock / std::this_thread::sleep_for.
class SystemClock final : public Clock {
 public:
  time_point now() const override;
  steady_time_point steady_now() const override;
  void sleep_for(std::chrono::milliseconds d) override;

  // The process-wide instance (stateless, so sharing it is free).
  static SystemClock& instance();
};

}  // namespace enkisys::core
