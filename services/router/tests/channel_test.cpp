// The router's pure logic: each platform's signature check, update parsing, reply splitting.
#include "enkisys/router/channel.hpp"

#include <gtest/gtest.h>

#include <string>

#include "enkisys/core/utf8.hpp"

namespace enkisys::router {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

// --- Telegram ---

TEST(VerifyTelegram, AcceptsTheSecretTokenOnly) {
  EXPECT_TRUE(verify_telegram("s3cret-token", "s3cret-token"));
  const auto wrong = verify_telegram("s3cret-tokem", "s3cret-token");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, "invalid_signature");
  EXPECT_EQ(wrong.error().kind, core::ErrorKind::kPermissionDenied);
  const auto none = verify_telegram("", "s3cret-token");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "missing_signature");
  EXPECT_EQ(none.error().kind, core::ErrorKind::kUnauthenticated);
  EXPECT_FALSE(verify_telegram("anything", ""));  // no secret configured: nothing passes
}

// --- WhatsApp ---

TEST(VerifyWhatsapp, ChecksTheHmacOfTheRawBytes) {
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  const std::string sig = whatsapp_signature(body, "app-secret");
  EXPECT_TRUE(sig.starts_with("sha256="));
  EXPECT_EQ(sig.size(), 7u + 64u);
  EXPECT_TRUE(verify_whatsapp(sig, body, "app-secret"));
  // Tampered body (one byte, even whitespace), wrong secret, missing or malformed header.
  EXPECT_EQ(verify_whatsapp(sig, body + " ", "app-secret").error().code, "invalid_signature");
  EXPECT_EQ(verify_whatsapp(whatsapp_signature(body, "other"), body, "app-secret").error().code,
            "invalid_signature");
  EXPECT_EQ(verify_whatsapp("", body, "app-secret").error().code, "missing_signature");
  EXPECT_FALSE(verify_whatsapp(sig.substr(7), body, "app-secret"));
}

TEST(VerifyWhatsapp, KnownVector) {
  // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") (RFC 4231 style vector).
  EXPECT_EQ(whatsapp_signature("The quick brown fox jumps over the lazy dog", "key"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  EXPECT_TRUE(
      verify_whatsapp("sha256=F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8",
                      "The quick brown fox jumps over the lazy dog", "key"));
}

// --- Slack ---

TEST(VerifySlack, ChecksSignatureAndTimestamp) {
  const std::string body = R"({"type":"event_callback","event_id":"Ev1"})";
  const std::string ts = std::to_string(kNow);
  const std::string sig = slack_signature(ts, body, "signing");
  EXPECT_TRUE(sig.starts_with("v0="));
  EXPECT_TRUE(verify_slack(sig, ts, body, "signing", kNow));
  EXPECT_TRUE(verify_slack(sig, ts, body, "signing", kNow + 300));
  EXPECT_EQ(verify_slack(sig, ts, body + "x", "signing", kNow).error().code, "invalid_signature");
  EXPECT_EQ(verify_slack(sig, ts, body, "wrong", kNow).error().code, "invalid_signature");
  // A replay: the signature is right but the timestamp is old (or far in the future).
  EXPECT_EQ(verify_slack(sig, ts, body, "signing", kNow + 301).error().code, "stale_timestamp");
  EXPECT_EQ(verify_slack(sig, ts, body, "signing", kNow - 301).error().code, "stale_timestamp");
  // The timestamp is part of what is signed: moving it breaks the signature.
  const std::string later = std::to_string(kNow + 1);
  EXPECT_EQ(verify_slack(sig, later, body, "signing", kNow).error().code, "invalid_signature");
  EXPECT_EQ(verify_slack("", ts, body, "signing", kNow).error().code, "missing_signature");
  EXPECT_EQ(verify_slack(sig, "", body, "signing", kNow).error().code, "missing_signature");
  EXPECT_EQ(verify_slack(sig, "12abc", body, "signing", kNow).error().code, "invalid_signature");
}

// --- parsing ---

TEST(ParseTelegram, TakesTextMessagesAndKeepsInjectionAsData) {
  const std::string evil =
      R"('; DROP TABLE router_inbox; -- <script>alert(1)</script> {{x}} \u0000)";
  const std::string body =
      R"({"update_id":9001,"message":{"message_id":77,"date":1800000000,"chat":{"id":-42,)"
      R"("type":"private"},"from":{"id":5,"is_bot":false},"text":)" +
      std::string("\"") +
      R"('; DROP TABLE router_inbox; -- <script>alert(1)<\/script> {{x}} \\u0000)" + "\"}}";
  const auto u = parse_telegram(body);
  ASSERT_TRUE(u) << u.error().message;
  ASSERT_EQ(u->messages.size(), 1u);
  const Inbound& m = u->messages[0];
  EXPECT_EQ(m.dedupe_key, "9001");
  EXPECT_EQ(m.chat_id, "-42");
  EXPECT_EQ(m.sender, "5");
  EXPECT_EQ(m.thread_ref, "77");
  EXPECT_EQ(m.sent_at, 1'800'000'000);
  EXPECT_EQ(m.text, evil);
  EXPECT_EQ(platform_user(m), "tg:-42");
}

TEST(ParseTelegram, IgnoresUpdatesWithoutText) {
  const auto u = parse_telegram(R"({"update_id":1,"edited_message":{"text":"x"}})");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->messages.empty());
  EXPECT_EQ(u->ignored, 1u);
  EXPECT_EQ(parse_telegram("not json").error().code, "invalid_json");
  EXPECT_EQ(parse_telegram("[1]").error().code, "invalid_update");
  EXPECT_EQ(parse_telegram(R"({"message":{}})").error().code, "invalid_update");
}

TEST(ParseWhatsapp, TakesEveryTextMessageAndSkipsStatuses) {
  const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1",
    "changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
    "metadata":{"display_phone_number":"1555","phone_number_id":"PHONE1"},
    "messages":[{"from":"4915100","id":"wamid.A","timestamp":"1800000000","type":"text",
    "text":{"body":"hello"}},{"from":"4915100","id":"wamid.B","timestamp":"1800000001",
    "type":"image","image":{"id":"x"}}]}},{"field":"messages","value":{"metadata":
    {"phone_number_id":"PHONE1"},"statuses":[{"id":"wamid.Z","status":"read"}]}}]}]})";
  const auto u = parse_whatsapp(body);
  ASSERT_TRUE(u) << u.error().message;
  ASSERT_EQ(u->messages.size(), 1u);
  EXPECT_EQ(u->messages[0].dedupe_key, "wamid.A");
  EXPECT_EQ(u->messages[0].chat_id, "4915100");
  EXPECT_EQ(u->messages[0].route, "PHONE1");
  EXPECT_EQ(u->messages[0].thread_ref, "wamid.A");
  EXPECT_EQ(u->messages[0].sent_at, 1'800'000'000);
  EXPECT_EQ(u->ignored, 2u);
}

TEST(ParseSlack, ChallengeEventsAndBots) {
  const auto c = parse_slack(R"({"type":"url_verification","challenge":"abc123","token":"t"})");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->challenge);
  EXPECT_EQ(*c->challenge, "abc123");

  const auto m =
      parse_slack(R"({"type":"event_callback","event_id":"Ev9","event_time":1800000000,"event":)"
                  R"({"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1800000000.1",)"
                  R"("thread_ts":"1799999999.5"}})");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->messages.size(), 1u);
  EXPECT_EQ(m->messages[0].dedupe_key, "Ev9");
  EXPECT_EQ(m->messages[0].chat_id, "C1");
  EXPECT_EQ(m->messages[0].thread_ref, "1799999999.5");  // stays in the user's thread
  EXPECT_EQ(platform_user(m->messages[0]), "slack:U1");

  for (const char* ignored :
       {R"({"type":"event_callback","event_id":"E1","event":{"type":"message","channel":"C1",)"
        R"("bot_id":"B1","text":"our own reply","ts":"1"}})",
        R"({"type":"event_callback","event_id":"E2","event":{"type":"message","channel":"C1",)"
        R"("user":"U1","subtype":"message_changed","text":"x","ts":"1"}})"}) {
    const auto u = parse_slack(ignored);
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->messages.empty()) << ignored;
    EXPECT_EQ(u->ignored, 1u);
  }
}

// --- splitting ---

std::size_t utf16_units(const std::string& s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = core::utf8_sequence_length(s, i);
    EXPECT_GT(len, 0u) << "invalid UTF-8 in a part";
    if (len == 0) return n;
    n += len == 4 ? 2 : 1;
    i += len;
  }
  return n;
}

TEST(SplitReply, ShortTextIsOnePart) {
  EXPECT_EQ(split_reply("Hello there.", 4096), std::vector<std::string>{"Hello there."});
  EXPECT_TRUE(split_reply("", 4096).empty());
  EXPECT_TRUE(split_reply("   \n ", 4096).empty());
}

TEST(SplitReply, CutsAtSentenceEndsUnderTheLimit) {
  std::string text;
  for (int i = 0; i < 400; ++i) text += "This is sentence " + std::to_string(i) + " of many. ";
  for (Channel c : kChannels) {
    const auto parts = split_reply(text, reply_limit(c));
    ASSERT_GE(parts.size(), 2u);
    std::string joined;
    for (const auto& p : parts) {
      EXPECT_LE(utf16_units(p), reply_limit(c));
      EXPECT_TRUE(p.ends_with(".")) << "not cut at a sentence end: ..." << p.substr(p.size() - 20);
      joined += (joined.empty() ? "" : " ") + p;
    }
    EXPECT_EQ(joined + " ", text);  // nothing lost
  }
}

TEST(SplitReply, NeverSplitsACodePointAndCountsUtf16Units) {
  // 3000 emoji (4 bytes, 2 UTF-16 units each) without any space: hard cuts only.
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "\xF0\x9F\x98\x80";
  const auto parts = split_reply(text, 4096);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(utf16_units(parts[0]), 4096u);
  EXPECT_EQ(parts[0].size() + parts[1].size(), text.size());
  // Two-byte letters with spaces: cut at a space, never inside "é".
  std::string accents;
  for (int i = 0; i < 2000; ++i) accents += "\xC3\xA9t\xC3\xA9 ";
  for (const auto& p : split_reply(accents, 100)) {
    EXPECT_LE(utf16_units(p), 100u);
    EXPECT_TRUE(core::valid_utf8(p));
  }
  // Invalid UTF-8 in a reply is replaced, not passed on.
  for (const auto& p : split_reply(std::string("ok \xFF\xFE bytes"), 4096)) {
    EXPECT_TRUE(core::valid_utf8(p));
  }
}

}  // namespace
}  // namespace enkisys::router
