// The router's two workers: the inbox worker (claimed inbox item → platform user and agent
// conversation → agent reply → reply parts into the outbox, in the transaction that marks the
// item done) and the outbox sender (claimed outbox row → channel API, retries with exponential
// backoff, 429 retry_after honoured, a per-channel send rate, dead letters after N attempts and
// for WhatsApp replies outside the 24-hour window).
//
// Contract:
//  * Coroutines on the service's io_context; database work runs on `blocking` (never on the
//    io_context thread). Several inbox and outbox loops may run at once (each claims its own
//    items through the store's leases). Thread safe.
//  * Delivery: an outbox row is marked sent only after the channel API said ok. The one window
//    for a duplicate is a crash between the channel's ok and mark_sent (the lease then runs out
//    and the part is sent again). A crash before complete() repeats the agent call (one extra
//    agent turn) but never queues a second reply.
//  * run_*() loop until the stop token fires; *_once() handle at most one item (tests).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <stop_token>

#include "enkisys/core/client.hpp"
#include "enkisys/core/clock.hpp"
#include "enkisys/core/log.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/router/config.hpp"
#include "enkisys/router/store.hpp"

namespace enkisys::router {

struct RelayOptions {
  std::int64_t max_inbox_attempts = 6;          // agent failures before an inbox dead letter
  std::int64_t max_send_attempts = 8;           // channel failures before an outbox dead letter
  std::chrono::milliseconds retry_base{1'000};  // backoff: base * 2^(attempts), capped
  std::chrono::milliseconds retry_max{300'000};
  std::chrono::milliseconds poll{50};  // idle wait between claims
  double send_rate_per_s = 25;         // per channel
  std::chrono::milliseconds whatsapp_window{24LL * 3600 * 1000};
  std::chrono::milliseconds agent_timeout{120'000};
  std::chrono::milliseconds send_timeout{15'000};
  std::chrono::hours retention{24 * 30};  // answered messages are purged after this
};

// The reply to "/human" (the chat is handed to a person) and to "/bot" (handed back).
inline constexpr const char* kHandoffReply =
    "A person will answer you here. Send /bot to talk to the assistant again.";
inline constexpr const char* kBotBackReply = "The assistant is back.";

class Relay {
 public:
  Relay(RouterStore& store, const RouterConfig& config, core::HttpSender& http, core::Clock& clock,
        core::Logger& log, core::MetricsRegistry& metrics, boost::asio::thread_pool& blocking,
        RelayOptions options = {});

  boost::asio::awaitable<void> run_inbox(std::stop_token stop);
  boost::asio::awaitable<void> run_outbox(std::stop_token stop);
  // Hourly: RouterStore::purge() of what is older than RelayOptions::retention.
  boost::asio::awaitable<void> run_purge(std::stop_token stop);
  boost::asio::awaitable<bool> inbox_once();
  boost::asio::awaitable<bool> outbox_once();

 private:
  std::int64_t now_ms() const;
  std::chrono::milliseconds backoff(std::int64_t attempts) const;
  // Milliseconds to wait before the next send on `c` (0: send now); reserves the slot.
  std::int64_t reserve_send_slot(Channel c);
  boost::asio::awaitable<core::Expected<std::string>> answer(const InboxItem& item, Chat chat);

  RouterStore& store_;
  const RouterConfig& config_;
  core::HttpSender& http_;
  core::Clock& clock_;
  core::Logger& log_;
  boost::asio::thread_pool& blocking_;
  RelayOptions options_;
  core::Family<core::Counter>& sent_;
  core::Family<core::Counter>& failures_;
  core::Family<core::Counter>& dead_;
  std::mutex mu_;
  std::map<Channel, std::int64_t> next_slot_ms_;  // guarded by mu_
};

}  // namespace enkisys::router
