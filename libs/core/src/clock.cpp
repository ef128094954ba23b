#include "enkisys/core/clock.hpp"

#include <thread>

namespace enkisys::core {

Clock::time_point SystemClock::now() const {
  return std::chrono::system_clock::now();
}

Clock::steady_time_point SystemClock::steady_now() const {
  return std::chrono::steady_clock::now();
}

void SystemClock::sleep_for(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace enkisys::core
