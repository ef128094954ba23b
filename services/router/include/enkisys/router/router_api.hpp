// The router's HTTP API: the public channel webhooks under /channels (each verified as its
// platform signs it, then written to the durable inbox and acknowledged at once) and the admin
// API under /api/router (channels, dead letters, handoffs; admins only, X-User-Roles).
//
// Routes:
//   POST /channels/telegram, GET|POST /channels/whatsapp, POST /channels/slack
//   GET  /api/router/channels
//   GET  /api/router/dead-letters              POST /api/router/dead-letters/{id|all}/replay
//   GET  /api/router/handoffs                  PUT|DELETE /api/router/handoffs/{channel}/{chat}
//
// Contract: handlers never block an I/O thread (the store runs on RequestContext::blocking).
// A channel that is off answers 404 channel_disabled; a failed verification answers 401/403,
// stores nothing, counts router_verification_failures_total{channel,reason} and logs one line
// (never a secret). `config`, `store`, `clock`, `metrics` outlive the object. Thread safe.
#pragma once
#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>

#include "enkisys/core/clock.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/router/config.hpp"
#include "enkisys/router/store.hpp"

namespace enkisys::router {

class RouterApi {
 public:
  RouterApi(RouterStore& store, const RouterConfig& config, core::Clock& clock,
            core::MetricsRegistry& metrics);
  void add_routes(core::Router& r);

 private:
  using Request = core::Request;
  using Response = core::Response;
  using Ctx = core::RequestContext;
  boost::asio::awaitable<Response> telegram(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> whatsapp_handshake(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> whatsapp(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> slack(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> channels(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> dead_letters(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> replay(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> handoffs(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> set_handoff(Request& req, Ctx& ctx);

  void require_on(Channel c) const;
  // Throws the refusal after counting and logging it.
  void refuse(Channel c, const core::Error& e, Ctx& ctx);
  boost::asio::awaitable<Response> store(Channel c, std::vector<Inbound> messages, Ctx& ctx);

  RouterStore& store_;
  const RouterConfig& config_;
  core::Clock& clock_;
  core::Family<core::Counter>& verify_failures_;
  core::Family<core::Counter>& accepted_;
  core::Family<core::Counter>& duplicates_;
  core::Counter& slack_retries_;
  std::array<std::atomic<std::uint64_t>, 4> failures_by_channel_{};
};

}  // namespace enkisys::router
