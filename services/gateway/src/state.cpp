#include "enkisys/gateway/state.hpp"

namespace enkisys::gateway {

std::optional<std::string> GatewayState::apply(GatewayConfig config) {
  std::lock_guard serial(update_mu_);
  return apply_locked(std::move(config));
}

std::optional<std::string> GatewayState::apply_locked(GatewayConfig config) {
  const std::uint64_t next = version_.load(std::memory_order_relaxed) + 1;
  auto compiled = compile(std::move(config), upstreams_, next);
  if (!compiled.ok()) return compiled.error().message;
  auto gen = std::const_pointer_cast<Generation>(compiled.value());
  if (prepare_) {
    if (auto err = prepare_(*gen)) return err;
  }
  {
    std::lock_guard lock(mu_);
    current_ = std::move(gen);
  }
  version_.store(next, std::memory_order_release);
  return std::nullopt;
}

std::optional<std::string> GatewayState::update(
    const std::function<std::optional<std::string>(GatewayConfig&)>& mutate) {
  std::lock_guard serial(update_mu_);
  GatewayConfig copy;
  {
    std::lock_guard lock(mu_);
    if (!current_) return std::string("no configuration loaded");
    copy = current_->config;
  }
  if (auto err = mutate(copy)) return err;
  return apply_locked(std::move(copy));
}

}  // namespace enkisys::gateway
