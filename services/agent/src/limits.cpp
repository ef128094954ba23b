#include "enkisys/agent/limits.hpp"

#include <algorithm>
#include <cstdio>

namespace enkisys::agent {

namespace {
constexpr std::chrono::seconds kWindow{60};
}

std::string utc_day(core::Clock::time_point t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::int64_t seconds_to_utc_midnight(core::Clock::time_point t) {
  const auto next = std::chrono::floor<std::chrono::days>(t) + std::chrono::days(1);
  const auto s = std::chrono::ceil<std::chrono::seconds>(next - t).count();
  return s < 1 ? 1 : s;
}

RateLimiter::RateLimiter(const core::Clock& clock, int per_minute)
    : clock_(clock),
      per_minute_(std::max(per_minute, 1)),
      interval_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(kWindow) /
                per_minute_) {}

core::Status RateLimiter::admit(const std::string& user) {
  const auto now = clock_.steady_now();
  // A user may be at most this far ahead of now: per_minute - 1 intervals plus this turn's.
  const auto burst = interval_ * (per_minute_ - 1);
  std::lock_guard lock(mu_);
  if (now - last_sweep_ > kWindow) {
    std::erase_if(full_at_, [&](const auto& kv) { return kv.second <= now; });
    last_sweep_ = now;
  }
  const auto it = full_at_.try_emplace(user, now).first;
  const auto from = std::max(it->second, now);
  if (from - now > burst) {
    auto e = core::make_error(
        core::ErrorKind::kResourceExhausted, "rate_limited",
        "too many messages: at most " + std::to_string(per_minute_) + " per minute");
    e.retry_after_s = std::max<std::int64_t>(
        1, std::chrono::ceil<std::chrono::seconds>(from - now - burst).count());
    return e;
  }
  it->second = from + interval_;
  return core::ok_status();
}

std::size_t RateLimiter::users() const {
  std::lock_guard lock(mu_);
  return full_at_.size();
}

}  // namespace enkisys::agent
