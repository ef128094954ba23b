// The calls the router makes: the channel APIs (send a reply, show "typing") and the agent
// (create a conversation, post a message), as requests built from values and answers read back
// into outcomes. Pure: no sockets; the relay sends them with its core::HttpSender.
//
// Contract: pure functions, thread safe. Secrets go only into the request they authenticate.
#pragma once
#include <cstdint>
#include <string>

#include "enkisys/core/client.hpp"
#include "enkisys/core/expected.hpp"
#include "enkisys/router/config.hpp"
#include "enkisys/router/store.hpp"

namespace enkisys::router {

// The channel API request that delivers `o` (threaded: Telegram reply_to_message_id, WhatsApp
// context.message_id, Slack thread_ts).
core::ClientRequest send_request(const RouterConfig& cfg, const OutboxItem& o);
// Telegram's sendChatAction "typing" for a chat (other channels have none: nullopt).
std::optional<core::ClientRequest> typing_request(const RouterConfig& cfg, const Inbound& m);

// What a channel API answer means for the outbox row.
struct SendOutcome {
  enum class Kind { kSent, kRetry, kRateLimited, kRejected } kind = Kind::kRetry;
  std::int64_t retry_after_s = 0;  // kRateLimited: the channel's retry_after / Retry-After
  std::string reason;              // for the log and the dead letter
};
SendOutcome read_send_result(Channel c, const core::ClientResult& r);

// The agent: POST /api/chat/conversations and POST /api/chat/conversations/{id}/messages,
// with X-User-Id, X-Request-Id and X-Service-Secret.
core::ClientRequest agent_create_conversation(const RouterConfig& cfg, const std::string& user,
                                              const std::string& title,
                                              const std::string& request_id);
core::ClientRequest agent_post_message(const RouterConfig& cfg, const std::string& user,
                                       const std::string& conversation, const std::string& text,
                                       const std::string& request_id);
// The conversation id of a create answer / the assistant's text of a message answer.
// Errors: kUpstream "agent_failed" (transport, 5xx, malformed), kUnprocessable "agent_refused"
// for a 4xx (retrying will not help), with retry_after_s from a 429.
core::Expected<std::string> read_conversation_id(const core::ClientResult& r);
core::Expected<std::string> read_reply(const core::ClientResult& r);

}  // namespace enkisys::router
