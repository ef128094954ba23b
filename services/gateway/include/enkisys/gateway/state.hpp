// The live configuration: the current Generation, swapped atomically on reload or admin change.
//
// Contract:
//  * current() is thread-safe; version() is a relaxed atomic that workers poll per request and
//    only when it changes do they take the lock to copy the new shared_ptr.
//  * apply()/update() are serialized; an invalid config (compile error) is refused and the old
//    generation keeps serving. In-flight requests keep the generation they started with.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "enkisys/gateway/route_table.hpp"

namespace enkisys::gateway {

class GatewayState {
 public:
  // Called on every new generation before it is published (metrics, verifiers); an error
  // refuses the generation like a compile error.
  using Prepare = std::function<std::optional<std::string>(Generation&)>;
  explicit GatewayState(UpstreamRegistry& upstreams, Prepare prepare = {})
      : upstreams_(upstreams), prepare_(std::move(prepare)) {}

  // Compiles and publishes `config`. Returns an error (and keeps the old one) if invalid.
  std::optional<std::string> apply(GatewayConfig config);
  // Copies the current config, lets `mutate` change it (it may return an error to abort),
  // then applies it — the admin API's atomic read-modify-write.
  std::optional<std::string> update(
      const std::function<std::optional<std::string>(GatewayConfig&)>& mutate);

  std::shared_ptr<const Generation> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
  UpstreamRegistry& upstreams() { return upstreams_; }

 private:
  std::optional<std::string> apply_locked(GatewayConfig config);  // REQUIRES: update_mu_ held
  UpstreamRegistry& upstreams_;
  Prepare prepare_;
  std::mutex update_mu_;
  mutable std::mutex mu_;
  std::shared_ptr<const Generation> current_;
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace enkisys::gateway
