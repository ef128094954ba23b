#include "enkisys/router/router_api.hpp"

#include <boost/json.hpp>

#include "enkisys/core/request.hpp"
#include "enkisys/core/server.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::router {

namespace json = boost::json;
namespace http = core::http;
using boost::asio::awaitable;
using core::ErrorKind;

namespace {

std::size_t index_of(Channel c) {
  return static_cast<std::size_t>(c);
}

void require_admin(const core::Request& req) {
  const core::Actor a = core::value_or_throw(core::actor_of(req));
  if (!a.admin) {
    throw core::ApiError(
        core::make_error(ErrorKind::kPermissionDenied, "forbidden", "admins only"));
  }
}

Channel channel_param(std::string_view name) {
  const auto c = channel_from(name);
  if (!c) {
    throw core::ApiError(core::make_error(ErrorKind::kNotFound, "not_found", "no such channel"));
  }
  return *c;
}

}  // namespace

RouterApi::RouterApi(RouterStore& store, const RouterConfig& config, core::Clock& clock,
                     core::MetricsRegistry& metrics)
    : store_(store),
      config_(config),
      clock_(clock),
      verify_failures_(metrics.counter("router_verification_failures_total",
                                       "webhooks refused by their signature check",
                                       {"channel", "reason"})),
      accepted_(metrics.counter("router_inbox_accepted_total", "messages written to the inbox",
                                {"channel"})),
      duplicates_(metrics.counter("router_inbox_duplicates_total",
                                  "redelivered messages recognised by their unique key",
                                  {"channel"})),
      slack_retries_(metrics
                         .counter("router_slack_retries_total",
                                  "Slack redeliveries (X-Slack-Retry-Num), answered 200")
                         .with({})) {}

void RouterApi::add_routes(core::Router& r) {
  const auto bind = [this](auto method) { return core::member_handler(this, method); };
  r.add(http::verb::post, "/channels/telegram", bind(&RouterApi::telegram));
  r.add(http::verb::get, "/channels/whatsapp", bind(&RouterApi::whatsapp_handshake));
  r.add(http::verb::post, "/channels/whatsapp", bind(&RouterApi::whatsapp));
  r.add(http::verb::post, "/channels/slack", bind(&RouterApi::slack));
  r.add(http::verb::get, "/api/router/channels", bind(&RouterApi::channels));
  r.add(http::verb::get, "/api/router/dead-letters", bind(&RouterApi::dead_letters));
  r.add(http::verb::post, "/api/router/dead-letters/{id}/replay", bind(&RouterApi::replay));
  r.add(http::verb::get, "/api/router/handoffs", bind(&RouterApi::handoffs));
  r.add(http::verb::put, "/api/router/handoffs/{channel}/{chat}", bind(&RouterApi::set_handoff));
  r.add(http::verb::delete_, "/api/router/handoffs/{channel}/{chat}",
        bind(&RouterApi::set_handoff));
}

void RouterApi::require_on(Channel c) const {
  if (!config_.on(c)) {
    throw core::ApiError(core::make_error(
        ErrorKind::kNotFound, "channel_disabled",
        "the " + std::string(channel_name(c)) + " channel is not enabled on this stage"));
  }
}

void RouterApi::refuse(Channel c, const core::Error& e, Ctx& ctx) {
  const std::string ch(channel_name(c));
  verify_failures_.with({ch, e.code}).inc();
  failures_by_channel_[index_of(c)].fetch_add(1, std::memory_order_relaxed);
  ctx.log().warn("webhook verification failed", {{"channel", ch},
                                                 {"reason", e.code},
                                                 {"client_ip", ctx.client_ip()},
                                                 {"request_id", ctx.request_id()}});
  throw core::ApiError(e);
}

awaitable<RouterApi::Response> RouterApi::store(Channel c, std::vector<Inbound> messages,
                                                Ctx& ctx) {
  std::size_t added = 0;
  if (!messages.empty()) {
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
            .count();
    added = co_await ctx.blocking([this, &messages, now] { return store_.accept(messages, now); });
  }
  const std::string ch(channel_name(c));
  accepted_.with({ch}).inc(added);
  duplicates_.with({ch}).inc(messages.size() - added);
  co_return core::json_response(
      http::status::ok,
      json::object{{"ok", true}, {"accepted", added}, {"duplicates", messages.size() - added}});
}

awaitable<RouterApi::Response> RouterApi::telegram(Request& req, Ctx& ctx) {
  require_on(Channel::kTelegram);
  const auto st =
      verify_telegram(req["X-Telegram-Bot-Api-Secret-Token"], config_.telegram_webhook_secret);
  if (!st) refuse(Channel::kTelegram, st.error(), ctx);
  auto update = core::value_or_throw(parse_telegram(req.body()));
  co_return co_await store(Channel::kTelegram, std::move(update.messages), ctx);
}

awaitable<RouterApi::Response> RouterApi::whatsapp_handshake(Request& req, Ctx& ctx) {
  require_on(Channel::kWhatsapp);
  const auto q = core::parse_query(ctx.query());
  const auto get = [&q](const char* k) {
    const auto it = q.find(k);
    return it == q.end() ? std::string() : it->second;
  };
  if (get("hub.mode") != "subscribe" ||
      !security::constant_time_equal(get("hub.verify_token"), config_.whatsapp_verify_token)) {
    refuse(Channel::kWhatsapp,
           core::make_error(ErrorKind::kPermissionDenied, "invalid_verify_token",
                            "hub.mode or hub.verify_token is not accepted"),
           ctx);
  }
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = get("hub.challenge");
  res.prepare_payload();
  co_return res;
}

awaitable<RouterApi::Response> RouterApi::whatsapp(Request& req, Ctx& ctx) {
  require_on(Channel::kWhatsapp);
  const auto st =
      verify_whatsapp(req["X-Hub-Signature-256"], req.body(), config_.whatsapp_app_secret);
  if (!st) refuse(Channel::kWhatsapp, st.error(), ctx);
  auto update = core::value_or_throw(parse_whatsapp(req.body()));
  co_return co_await store(Channel::kWhatsapp, std::move(update.messages), ctx);
}

awaitable<RouterApi::Response> RouterApi::slack(Request& req, Ctx& ctx) {
  require_on(Channel::kSlack);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  const auto st = verify_slack(req["X-Slack-Signature"], req["X-Slack-Request-Timestamp"],
                               req.body(), config_.slack_signing_secret, now);
  if (!st) refuse(Channel::kSlack, st.error(), ctx);
  auto update = core::value_or_throw(parse_slack(req.body()));
  if (update.challenge) {
    co_return core::json_response(http::status::ok, json::object{{"challenge", *update.challenge}});
  }
  // A retry (X-Slack-Retry-Num) of an event we stored is a duplicate by event_id: answered 200.
  if (req.find("X-Slack-Retry-Num") != req.end()) slack_retries_.inc();
  co_return co_await store(Channel::kSlack, std::move(update.messages), ctx);
}

awaitable<RouterApi::Response> RouterApi::channels(Request& req, Ctx& ctx) {
  require_admin(req);
  std::vector<ChannelStats> stats = co_await ctx.blocking([this] {
    std::vector<ChannelStats> s;
    for (Channel c : kChannels) s.push_back(store_.stats(c));
    return s;
  });
  json::array out;
  for (Channel c : kChannels) {
    const ChannelStats& s = stats[index_of(c)];
    out.push_back(json::object{{"name", channel_name(c)},
                               {"configured", config_.configured(c)},
                               {"enabled", config_.enabled_in_stage(c)},
                               {"on", config_.on(c)},
                               {"last_message_at_ms", s.last_message_at_ms},
                               {"inbox_queued", s.inbox_queued},
                               {"outbox_pending", s.outbox_pending},
                               {"sent", s.sent},
                               {"dead_letters", s.dead},
                               {"verification_failures", failures_by_channel_[index_of(c)].load(
                                                             std::memory_order_relaxed)}});
  }
  co_return core::json_response(http::status::ok, json::object{{"channels", std::move(out)}});
}

awaitable<RouterApi::Response> RouterApi::dead_letters(Request& req, Ctx& ctx) {
  require_admin(req);
  const auto q = core::parse_query(ctx.query());
  const auto limit = static_cast<std::size_t>(core::query_int(q, "limit", 200, 1, 1000));
  const auto list = co_await ctx.blocking([this, limit] { return store_.dead_letters(limit); });
  json::array out;
  for (const DeadLetter& d : list) {
    out.push_back(json::object{{"id", d.id},
                               {"kind", d.kind},
                               {"channel", d.channel},
                               {"chat_id", d.chat_id},
                               {"text", d.text},
                               {"attempts", d.attempts},
                               {"reason", d.reason},
                               {"updated_at_ms", d.updated_at_ms}});
  }
  co_return core::json_response(http::status::ok, json::object{{"dead_letters", std::move(out)}});
}

awaitable<RouterApi::Response> RouterApi::replay(Request& req, Ctx& ctx) {
  require_admin(req);
  const std::string id(ctx.param("id"));
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  auto n = co_await ctx.blocking([this, &id, now] { return store_.replay(id, now); });
  co_return core::json_response(http::status::ok,
                                json::object{{"replayed", core::value_or_throw(std::move(n))}});
}

awaitable<RouterApi::Response> RouterApi::handoffs(Request& req, Ctx& ctx) {
  require_admin(req);
  const auto list = co_await ctx.blocking([this] { return store_.handoffs(); });
  json::array out;
  for (const HandoffChat& h : list) {
    out.push_back(json::object{{"channel", h.channel},
                               {"chat_id", h.chat_id},
                               {"user_id", h.user_id},
                               {"conversation_id", h.conversation_id}});
  }
  co_return core::json_response(http::status::ok, json::object{{"handoffs", std::move(out)}});
}

awaitable<RouterApi::Response> RouterApi::set_handoff(Request& req, Ctx& ctx) {
  require_admin(req);
  const Channel c = channel_param(ctx.param("channel"));
  const std::string chat(ctx.param("chat"));
  const bool on = req.method() == http::verb::put;
  auto st = co_await ctx.blocking([this, c, &chat, on] { return store_.set_handoff(c, chat, on); });
  core::value_or_throw(st);
  co_return core::json_response(
      http::status::ok,
      json::object{{"channel", channel_name(c)}, {"chat_id", chat}, {"handoff", on}});
}

}  // namespace enkisys::router
