// The pure logic of the channel router: which channels exist, how each platform signs its
// webhooks, how an inbound update becomes messages, and how a reply is cut to a channel's limit.
//
// Contract: pure functions (no sockets, files, clocks or threads), thread safe, never throw on
// bad input: a refusal is a core::Error whose `code` is the reason counted in
// router_verification_failures_total ("missing_signature", "invalid_signature",
// "stale_timestamp") or a 400 for a body that is not the platform's JSON.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/expected.hpp"

namespace enkisys::router {

// kWeb is the embeddable web widget (web.hpp): its replies are fetched by the visitor, not sent.
enum class Channel { kTelegram, kWhatsapp, kSlack, kWeb };

inline constexpr Channel kChannels[] = {Channel::kTelegram, Channel::kWhatsapp, Channel::kSlack,
                                        Channel::kWeb};

std::string_view channel_name(Channel c);  // "telegram", "whatsapp", "slack", "web"
std::optional<Channel> channel_from(std::string_view name);

// Longest reply part of a channel, in UTF-16 code units (what Telegram counts): Telegram 4096,
// WhatsApp 4096, Slack 3000 (one section block's limit, well under chat.postMessage's 40,000),
// web 4096.
std::size_t reply_limit(Channel c);

// --- verification (constant-time compares) ---

// Telegram: X-Telegram-Bot-Api-Secret-Token must equal the webhook secret.
core::Status verify_telegram(std::string_view header_token, std::string_view secret);
// WhatsApp Cloud: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(raw body, app secret).
core::Status verify_whatsapp(std::string_view signature_header, std::string_view raw_body,
                             std::string_view app_secret);
// Slack: X-Slack-Signature = "v0=" + hex HMAC-SHA256("v0:" + ts + ":" + raw body, secret), and
// the timestamp within `max_skew_s` of `now_unix` either way.
core::Status verify_slack(std::string_view signature_header, std::string_view timestamp_header,
                          std::string_view raw_body, std::string_view signing_secret,
                          std::int64_t now_unix, std::int64_t max_skew_s = 300);
// The signature headers a sender computes (fixtures, fakes, the bench's load driver).
std::string whatsapp_signature(std::string_view raw_body, std::string_view app_secret);
std::string slack_signature(std::string_view timestamp, std::string_view raw_body,
                            std::string_view signing_secret);

// --- inbound updates ---

// One user message taken from a verified webhook.
struct Inbound {
  Channel channel = Channel::kTelegram;
  std::string dedupe_key;  // Telegram update_id, WhatsApp wamid, Slack event_id
  std::string chat_id;     // Telegram chat id, WhatsApp sender number, Slack channel id
  std::string sender;      // the platform's user id
  std::string text;
  std::string thread_ref;    // what the reply refers to: message_id, wamid, thread_ts
  std::string route;         // WhatsApp: the receiving phone_number_id; others: empty
  std::int64_t sent_at = 0;  // the platform's message time (unix seconds), 0 when unknown
};

// What a webhook body holds: messages to store, or (Slack) a url_verification challenge.
struct Update {
  std::vector<Inbound> messages;  // empty: nothing to answer (status updates, bot messages)
  std::optional<std::string> challenge;
  std::size_t ignored = 0;  // bot messages, edits, non-text updates
};

// Errors: 400 invalid_json / invalid_update. Text is kept as data, whatever it holds.
core::Expected<Update> parse_telegram(std::string_view body);
core::Expected<Update> parse_whatsapp(std::string_view body);
core::Expected<Update> parse_slack(std::string_view body);

// The platform user id of a channel user: "tg:<chat id>", "wa:<number>", "slack:<user>",
// "web:<site>:<visitor>".
std::string platform_user(const Inbound& m);

// --- replies ---

// Cuts `text` into parts of at most `limit` UTF-16 code units, preferring sentence ends
// (". ", "! ", "? ", newlines), then spaces, then any code point boundary; never splits a UTF-8
// sequence. Invalid UTF-8 is replaced first. Empty text → no parts. REQUIRES: limit >= 16.
std::vector<std::string> split_reply(std::string_view text, std::size_t limit);

}  // namespace enkisys::router
