#include "enkisys/router/relay.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "enkisys/core/http.hpp"
#include "enkisys/router/outbound.hpp"
#include "on_pool.hpp"

namespace enkisys::router {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

using detail::on_pool;

awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::use_awaitable);
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// A reason without any secret that might ride in a URL (the Telegram bot token does).
std::string redacted(std::string reason, const std::string& secret) {
  if (secret.empty()) return reason;
  for (auto at = reason.find(secret); at != std::string::npos; at = reason.find(secret)) {
    reason.replace(at, secret.size(), "***");
  }
  return reason;
}

}  // namespace

Relay::Relay(RouterStore& store, const RouterConfig& config, core::HttpSender& http,
             core::Clock& clock, core::Logger& log, core::MetricsRegistry& metrics,
             asio::thread_pool& blocking, RelayOptions options)
    : store_(store),
      config_(config),
      http_(http),
      clock_(clock),
      log_(log),
      blocking_(blocking),
      options_(options),
      sent_(metrics.counter("router_replies_sent_total", "reply parts the channel API accepted",
                            {"channel"})),
      failures_(metrics.counter("router_send_failures_total",
                                "channel API calls that failed (retried or dead-lettered)",
                                {"channel", "reason"})),
      dead_(metrics.counter("router_dead_letters_total", "messages given up on",
                            {"channel", "reason"})) {}

std::int64_t Relay::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

std::chrono::milliseconds Relay::backoff(std::int64_t attempts) const {
  auto d = options_.retry_base;
  for (std::int64_t i = 0; i < attempts && d < options_.retry_max; ++i) d *= 2;
  return std::min(d, options_.retry_max);
}

std::int64_t Relay::reserve_send_slot(Channel c) {
  if (options_.send_rate_per_s <= 0) return 0;
  const auto interval = static_cast<std::int64_t>(1000.0 / options_.send_rate_per_s);
  const std::int64_t now = now_ms();
  std::lock_guard lock(mu_);
  std::int64_t& next = next_slot_ms_[c];
  const std::int64_t slot = std::max(now, next);
  next = slot + interval;
  return slot - now;
}

awaitable<void> Relay::run_inbox(std::stop_token stop) {
  const std::chrono::milliseconds idle = options_.poll;
  while (!stop.stop_requested()) {
    const bool worked = co_await inbox_once();
    if (!worked) co_await pause(idle);
  }
}

awaitable<void> Relay::run_outbox(std::stop_token stop) {
  const std::chrono::milliseconds idle = options_.poll;
  while (!stop.stop_requested()) {
    const bool worked = co_await outbox_once();
    if (!worked) co_await pause(idle);
  }
}

awaitable<void> Relay::run_purge(std::stop_token stop) {
  const std::chrono::milliseconds every = std::chrono::hours(1);
  while (!stop.stop_requested()) {
    const std::int64_t cutoff =
        now_ms() -
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count();
    const std::int64_t n =
        co_await on_pool(blocking_, [this, cutoff] { return store_.purge(cutoff); });
    if (n > 0) log_.info("purged answered messages", {{"rows", n}});
    co_await pause(every);
  }
}

awaitable<core::Expected<std::string>> Relay::answer(const InboxItem& item, Chat chat) {
  const Inbound& m = item.message;
  const std::string request_id = core::new_request_id();
  core::ClientOptions copts;
  copts.timeout = options_.agent_timeout;
  if (auto typing = typing_request(config_, m)) {
    core::ClientOptions topts;
    topts.timeout = std::chrono::seconds(2);
    // Best effort: the reply matters, not this.
    const core::ClientResult typed = co_await http_.send(std::move(*typing), topts);
    if (!typed) log_.debug("typing indicator not sent", {{"error", typed.error().message}});
  }
  if (chat.conversation_id.empty()) {
    const std::string title = std::string(channel_name(m.channel)) + " chat " + m.chat_id;
    core::ClientRequest create =
        agent_create_conversation(config_, chat.user_id, title, request_id);
    const auto created = co_await http_.send(std::move(create), copts);
    auto id = read_conversation_id(created);
    if (!id) co_return id.error();
    chat.conversation_id = *id;
    co_await on_pool(blocking_, [this, &m, &chat] {
      store_.set_conversation(m.channel, m.chat_id, chat.conversation_id);
    });
  }
  core::ClientRequest post =
      agent_post_message(config_, chat.user_id, chat.conversation_id, m.text, request_id);
  const auto posted = co_await http_.send(std::move(post), copts);
  co_return read_reply(posted);
}

awaitable<bool> Relay::inbox_once() {
  const std::int64_t claimed_at = now_ms();
  auto item =
      co_await on_pool(blocking_, [this, claimed_at] { return store_.claim_inbox(claimed_at); });
  if (!item) co_return false;
  const Inbound& m = item->message;
  const std::string command = trimmed(m.text);
  const Chat chat = co_await on_pool(blocking_, [this, &m] { return store_.chat(m); });
  std::vector<std::string> parts;
  if (command == "/human" || command == "/bot") {
    const bool on = command == "/human";
    const core::Status st = co_await on_pool(
        blocking_, [this, &m, on] { return store_.set_handoff(m.channel, m.chat_id, on); });
    if (!st) log_.warn("handoff not recorded", {{"code", st.error().code}});
    parts.emplace_back(on ? kHandoffReply : kBotBackReply);
    log_.info("handoff", {{"channel", channel_name(m.channel)}, {"on", on}});
  } else if (!chat.handoff) {
    auto reply = co_await answer(*item, chat);
    if (!reply) {
      const core::Error& e = reply.error();
      const bool final = e.kind == core::ErrorKind::kUnprocessable;
      auto delay = backoff(item->attempts);
      if (e.retry_after_s > 0)
        delay = std::max(delay, std::chrono::milliseconds(e.retry_after_s * 1000));
      const std::int64_t retry_at = now_ms() + delay.count();
      const std::int64_t max = final ? 0 : options_.max_inbox_attempts;
      co_await on_pool(blocking_, [this, &item, &e, retry_at, max] {
        store_.release_inbox(*item, e.code + ": " + e.message, retry_at, max);
      });
      log_.warn("agent call failed", {{"channel", channel_name(m.channel)},
                                      {"code", e.code},
                                      {"attempts", item->attempts + 1}});
      if (final || item->attempts + 1 >= options_.max_inbox_attempts) {
        dead_.with({std::string(channel_name(m.channel)), e.code}).inc();
      }
      co_return true;
    }
    parts = split_reply(*reply, reply_limit(m.channel));
  }
  const std::int64_t done_at = now_ms();
  const bool done = co_await on_pool(
      blocking_, [this, &item, &parts, done_at] { return store_.complete(*item, parts, done_at); });
  if (!done) log_.warn("inbox claim lost before completion", {{"item", item->id}});
  co_return true;
}

awaitable<bool> Relay::outbox_once() {
  const std::int64_t claimed_at = now_ms();
  auto o =
      co_await on_pool(blocking_, [this, claimed_at] { return store_.claim_outbox(claimed_at); });
  if (!o) co_return false;
  const std::string ch(channel_name(o->channel));
  if (o->channel == Channel::kWhatsapp && o->last_user_at_ms > 0 &&
      claimed_at - o->last_user_at_ms > options_.whatsapp_window.count()) {
    co_await on_pool(blocking_, [this, &o, claimed_at] {
      store_.dead_outbox(o->id, "outside_24h_window", claimed_at);
    });
    dead_.with({ch, "outside_24h_window"}).inc();
    log_.warn("reply outside the 24-hour window: dead letter", {{"channel", ch}, {"id", o->id}});
    co_return true;
  }
  if (!config_.configured(o->channel)) {
    const std::int64_t later = claimed_at + options_.retry_max.count();
    co_await on_pool(blocking_, [this, &o, later, claimed_at] {
      store_.retry_outbox(o->id, "channel_not_configured", later, false, claimed_at);
    });
    co_return true;
  }
  if (const std::int64_t wait = reserve_send_slot(o->channel); wait > 0) {
    const std::chrono::milliseconds d(wait);
    co_await pause(d);
  }
  core::ClientOptions copts;
  copts.timeout = options_.send_timeout;
  core::ClientRequest request = send_request(config_, *o);
  const auto result = co_await http_.send(std::move(request), copts);
  const SendOutcome out = read_send_result(o->channel, result);
  const std::string reason = redacted(out.reason, config_.telegram_bot_token);
  const std::int64_t now = now_ms();
  switch (out.kind) {
    case SendOutcome::Kind::kSent:
      co_await on_pool(blocking_, [this, &o, now] { store_.mark_sent(o->id, now); });
      sent_.with({ch}).inc();
      break;
    case SendOutcome::Kind::kRateLimited: {
      const std::int64_t at = now + out.retry_after_s * 1000;
      {
        std::lock_guard lock(mu_);
        next_slot_ms_[o->channel] = std::max(next_slot_ms_[o->channel], at);
      }
      co_await on_pool(blocking_, [this, &o, &reason, at, now] {
        store_.retry_outbox(o->id, reason, at, false, now);
      });
      failures_.with({ch, "rate_limited"}).inc();
      break;
    }
    case SendOutcome::Kind::kRetry:
      if (o->attempts + 1 < options_.max_send_attempts) {
        const std::int64_t at = now + backoff(o->attempts).count();
        co_await on_pool(blocking_, [this, &o, &reason, at, now] {
          store_.retry_outbox(o->id, reason, at, true, now);
        });
        failures_.with({ch, "retry"}).inc();
        break;
      }
      [[fallthrough]];
    case SendOutcome::Kind::kRejected:
      co_await on_pool(blocking_,
                       [this, &o, &reason, now] { store_.dead_outbox(o->id, reason, now); });
      failures_.with({ch, "dead"}).inc();
      dead_.with({ch, out.kind == SendOutcome::Kind::kRejected ? "rejected" : "attempts"}).inc();
      log_.warn("reply dead-lettered", {{"channel", ch}, {"id", o->id}, {"reason", reason}});
      break;
  }
  co_return true;
}

}  // namespace enkisys::router
