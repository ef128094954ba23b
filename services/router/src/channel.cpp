#include "enkisys/router/channel.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "enkisys/core/utf8.hpp"
#include "enkisys/security/encoding.hpp"
#include "enkisys/security/secrets.hpp"

namespace enkisys::router {

namespace json = boost::json;
using core::ErrorKind;

std::string_view channel_name(Channel c) {
  switch (c) {
    case Channel::kTelegram:
      return "telegram";
    case Channel::kWhatsapp:
      return "whatsapp";
    case Channel::kSlack:
      return "slack";
    case Channel::kWeb:
      return "web";
  }
  return "unknown";
}

std::optional<Channel> channel_from(std::string_view name) {
  for (Channel c : kChannels) {
    if (channel_name(c) == name) return c;
  }
  return std::nullopt;
}

std::size_t reply_limit(Channel c) {
  return c == Channel::kSlack ? 3000 : 4096;
}

namespace {

core::Error missing(std::string_view header) {
  return core::make_error(ErrorKind::kUnauthenticated, "missing_signature",
                          std::string(header) + " is missing");
}

core::Error invalid() {
  return core::make_error(ErrorKind::kPermissionDenied, "invalid_signature",
                          "the request's signature does not match");
}

}  // namespace

core::Status verify_telegram(std::string_view header_token, std::string_view secret) {
  if (header_token.empty()) return missing("X-Telegram-Bot-Api-Secret-Token");
  if (secret.empty() || !security::constant_time_equal(header_token, secret)) return invalid();
  return core::ok_status();
}

std::string whatsapp_signature(std::string_view raw_body, std::string_view app_secret) {
  return "sha256=" + security::hex_encode(security::hmac_sha256(app_secret, raw_body));
}

std::string slack_signature(std::string_view timestamp, std::string_view raw_body,
                            std::string_view signing_secret) {
  std::string base = "v0:";
  base.append(timestamp).append(":").append(raw_body);
  return "v0=" + security::hex_encode(security::hmac_sha256(signing_secret, base));
}

core::Status verify_whatsapp(std::string_view signature_header, std::string_view raw_body,
                             std::string_view app_secret) {
  if (signature_header.empty()) return missing("X-Hub-Signature-256");
  if (app_secret.empty()) return invalid();
  // Hex digits compare case-insensitively on the wire; ours are lower-case.
  std::string got(signature_header);
  for (char& ch : got) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!security::constant_time_equal(got, whatsapp_signature(raw_body, app_secret))) {
    return invalid();
  }
  return core::ok_status();
}

core::Status verify_slack(std::string_view signature_header, std::string_view timestamp_header,
                          std::string_view raw_body, std::string_view signing_secret,
                          std::int64_t now_unix, std::int64_t max_skew_s) {
  if (signature_header.empty()) return missing("X-Slack-Signature");
  if (timestamp_header.empty()) return missing("X-Slack-Request-Timestamp");
  std::int64_t ts = 0;
  const auto* end = timestamp_header.data() + timestamp_header.size();
  const auto [p, ec] = std::from_chars(timestamp_header.data(), end, ts);
  if (ec != std::errc() || p != end) return invalid();
  if (ts < now_unix - max_skew_s || ts > now_unix + max_skew_s) {
    return core::make_error(ErrorKind::kPermissionDenied, "stale_timestamp",
                            "X-Slack-Request-Timestamp is more than 300 s away from now");
  }
  if (signing_secret.empty() ||
      !security::constant_time_equal(signature_header,
                                     slack_signature(timestamp_header, raw_body, signing_secret))) {
    return invalid();
  }
  return core::ok_status();
}

namespace {

core::Error bad_update(std::string message) {
  return core::make_error(ErrorKind::kInvalidArgument, "invalid_update", std::move(message));
}

core::Expected<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return core::make_error(ErrorKind::kInvalidArgument, "invalid_json", ec.message());
  if (!v.is_object()) return bad_update("the body is not a JSON object");
  return std::move(v.as_object());
}

const json::object* obj(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

// A string or integer field as text ("" when absent or of another type).
std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (v->is_string()) return core::to_valid_utf8(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return {};
}

std::int64_t int_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_string()) {
    std::int64_t n = 0;
    const std::string_view s = v->as_string();
    std::from_chars(s.data(), s.data() + s.size(), n);
    return n;
  }
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return 0;
}

}  // namespace

core::Expected<Update> parse_telegram(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Update u;
  const std::string update_id = text_of(*o, "update_id");
  if (update_id.empty()) return bad_update("update_id is missing");
  const json::object* msg = obj(*o, "message");
  const json::object* chat = msg != nullptr ? obj(*msg, "chat") : nullptr;
  const json::object* from = msg != nullptr ? obj(*msg, "from") : nullptr;
  const std::string text = msg != nullptr ? text_of(*msg, "text") : std::string();
  if (chat == nullptr || text.empty() ||
      (from != nullptr && from->if_contains("is_bot") && from->at("is_bot").is_bool() &&
       from->at("is_bot").as_bool())) {
    u.ignored = 1;  // edits, channel posts, stickers, bots: nothing to answer
    return u;
  }
  Inbound m;
  m.channel = Channel::kTelegram;
  m.dedupe_key = update_id;
  m.chat_id = text_of(*chat, "id");
  m.sender = from != nullptr ? text_of(*from, "id") : m.chat_id;
  m.text = text;
  m.thread_ref = text_of(*msg, "message_id");
  m.sent_at = int_of(*msg, "date");
  if (m.chat_id.empty()) return bad_update("message.chat.id is missing");
  u.messages.push_back(std::move(m));
  return u;
}

core::Expected<Update> parse_whatsapp(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Update u;
  const auto* entries = o->if_contains("entry");
  if (entries == nullptr || !entries->is_array()) return bad_update("entry is missing");
  for (const auto& e : entries->as_array()) {
    const auto* eo = e.if_object();
    const auto* changes = eo != nullptr ? eo->if_contains("changes") : nullptr;
    if (changes == nullptr || !changes->is_array()) continue;
    for (const auto& c : changes->as_array()) {
      const auto* co = c.if_object();
      const json::object* value = co != nullptr ? obj(*co, "value") : nullptr;
      if (value == nullptr) continue;
      const json::object* meta = obj(*value, "metadata");
      const std::string phone_id = meta != nullptr ? text_of(*meta, "phone_number_id") : "";
      const auto* msgs = value->if_contains("messages");
      if (msgs == nullptr || !msgs->is_array()) {
        ++u.ignored;  // statuses (sent, delivered, read)
        continue;
      }
      for (const auto& mv : msgs->as_array()) {
        const auto* mo = mv.if_object();
        if (mo == nullptr) continue;
        const json::object* textobj = obj(*mo, "text");
        Inbound m;
        m.channel = Channel::kWhatsapp;
        m.dedupe_key = text_of(*mo, "id");
        m.chat_id = text_of(*mo, "from");
        m.sender = m.chat_id;
        m.text = textobj != nullptr ? text_of(*textobj, "body") : "";
        m.thread_ref = m.dedupe_key;
        m.route = phone_id;
        m.sent_at = int_of(*mo, "timestamp");
        if (m.dedupe_key.empty() || m.chat_id.empty() || m.text.empty() || phone_id.empty()) {
          ++u.ignored;  // media, reactions, malformed entries
          continue;
        }
        u.messages.push_back(std::move(m));
      }
    }
  }
  return u;
}

core::Expected<Update> parse_slack(std::string_view body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  Update u;
  const std::string type = text_of(*o, "type");
  if (type == "url_verification") {
    u.challenge = text_of(*o, "challenge");
    return u;
  }
  if (type != "event_callback") {
    u.ignored = 1;
    return u;
  }
  const json::object* ev = obj(*o, "event");
  const std::string event_id = text_of(*o, "event_id");
  if (ev == nullptr || event_id.empty()) return bad_update("event or event_id is missing");
  const std::string etype = text_of(*ev, "type");
  if ((etype != "message" && etype != "app_mention") || ev->contains("bot_id") ||
      ev->contains("subtype") || text_of(*ev, "text").empty()) {
    u.ignored = 1;  // our own replies, edits, joins: never answered
    return u;
  }
  Inbound m;
  m.channel = Channel::kSlack;
  m.dedupe_key = event_id;
  m.chat_id = text_of(*ev, "channel");
  m.sender = text_of(*ev, "user");
  m.text = text_of(*ev, "text");
  m.thread_ref = text_of(*ev, "thread_ts");
  if (m.thread_ref.empty()) m.thread_ref = text_of(*ev, "ts");
  m.sent_at = int_of(*o, "event_time");
  if (m.chat_id.empty() || m.sender.empty()) return bad_update("event.channel or user missing");
  u.messages.push_back(std::move(m));
  return u;
}

std::string platform_user(const Inbound& m) {
  switch (m.channel) {
    case Channel::kTelegram:
      return "tg:" + m.chat_id;
    case Channel::kWhatsapp:
      return "wa:" + m.chat_id;
    case Channel::kSlack:
      return "slack:" + m.sender;
    case Channel::kWeb:
      return "web:" + m.chat_id;
  }
  return {};
}

std::vector<std::string> split_reply(std::string_view input, std::size_t limit) {
  const std::string text = core::to_valid_utf8(input);
  std::vector<std::string> parts;
  std::size_t start = 0;
  const auto skip_space = [&](std::size_t at) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\n' || text[at] == '\t')) ++at;
    return at;
  };
  start = skip_space(0);
  while (start < text.size()) {
    std::size_t units = 0;
    std::size_t at = start;
    std::size_t sentence = 0;  // end of the last sentence boundary seen (exclusive)
    std::size_t space = 0;
    while (at < text.size()) {
      const std::size_t len = std::max<std::size_t>(1, core::utf8_sequence_length(text, at));
      const std::size_t cost = len == 4 ? 2 : 1;  // UTF-16 code units
      if (units + cost > limit) break;
      units += cost;
      const char ch = text[at];
      at += len;
      if (ch == '\n') sentence = at;
      if ((ch == '.' || ch == '!' || ch == '?') &&
          (at == text.size() || text[at] == ' ' || text[at] == '\n')) {
        sentence = at;
      }
      if (ch == ' ') space = at;
    }
    std::size_t cut = at;
    if (at < text.size()) {
      if (sentence > start && sentence - start >= (at - start) / 4) {
        cut = sentence;
      } else if (space > start) {
        cut = space;
      }
    }
    std::string part = text.substr(start, cut - start);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\n')) part.pop_back();
    if (!part.empty()) parts.push_back(std::move(part));
    start = skip_space(cut);
  }
  return parts;
}

}  // namespace enkisys::router
