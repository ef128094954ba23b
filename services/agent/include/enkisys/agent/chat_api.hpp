// The HTTP API of the conversation service (/api/chat, ARCHITECTURE.md "Agent"):
// conversations (CRUD, paged list), turns (JSON or a server-sent event stream), the models, and
// the platform itself as an OpenAI-compatible endpoint (/api/chat/v1/...).
//
// Contract:
//  * Identity: X-User-Id / X-User-Roles as the gateway sets them (core::actor_of, 401 without).
//    A request carrying X-Service-Secret acts for the X-User-Id it names only when the secret
//    matches the configured one (constant-time compare); a wrong secret, or any secret when
//    none is configured, is 401 invalid_service_secret.
//  * A conversation exists only for its owner: 404 for anyone else (store.hpp).
//  * Limits, checked in this order before a turn starts: message over max_message_bytes → 413
//    message_too_large; unknown conversation → 404; more than rate_per_minute turns in a minute
//    → 429 rate_limited; the day's tokens spent → 429 token_budget_exhausted with Retry-After
//    until midnight UTC. The OpenAI-compatible endpoint shares the rate and token limits.
//  * A turn whose model fails → 502 model_unavailable, the user's message kept (turn.hpp).
//  * Streaming (Accept: text/event-stream): the events of turn.hpp as they happen, then the
//    stream ends; a failure after the stream began is an `error {"error":{"code","message"}}`
//    event; a client that disconnects cancels the turn, which stores what it had, interrupted.
//  * Thread-safe; store work runs on the blocking pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "enkisys/agent/backends.hpp"
#include "enkisys/agent/limits.hpp"
#include "enkisys/agent/store.hpp"
#include "enkisys/agent/turn.hpp"
#include "enkisys/core/clock.hpp"
#include "enkisys/core/http.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"

namespace enkisys::agent {

struct ChatApiOptions {
  std::size_t max_message_bytes = 32 * 1024;  // AGENT_MAX_MESSAGE_BYTES
  int rate_per_minute = 30;                   // AGENT_RATE_PER_MIN
  std::int64_t daily_tokens = 200'000;        // AGENT_DAILY_TOKENS
  std::string service_secret;                 // AGENT_SERVICE_SECRET_FILE; empty: refused
  std::chrono::milliseconds heartbeat{15'000};
};

class ChatApi {
 public:
  ChatApi(ConversationStore& store, TurnRunner& turns, ChatModel& model, RagClient& rag,
          boost::asio::thread_pool& blocking, const core::Clock& clock, core::Logger& log,
          ChatApiOptions options);

  void add_routes(core::Router& router);

 private:
  using Awaitable = boost::asio::awaitable<core::Response>;
  Awaitable create_conversation(core::Request& req, core::RequestContext& ctx);
  Awaitable list_conversations(core::Request& req, core::RequestContext& ctx);
  Awaitable get_conversation(core::Request& req, core::RequestContext& ctx);
  Awaitable patch_conversation(core::Request& req, core::RequestContext& ctx);
  Awaitable delete_conversation(core::Request& req, core::RequestContext& ctx);
  Awaitable post_message(core::Request& req, core::RequestContext& ctx);
  // post_message's answer after admit(): as one JSON object, or streamed.
  Awaitable answer_message(core::Request& req, Actor actor, Caller caller, std::string id,
                           std::string content);
  Awaitable stream_message(core::RequestContext& ctx, Actor actor, Caller caller, std::string id,
                           std::string content);
  // The message's text: 400 unless {"content": non-empty string}, 413 over the cap. Throws.
  std::string message_content(const core::Request& req) const;
  Awaitable list_models(core::Request& req, core::RequestContext& ctx);
  // openai_api.cpp
  Awaitable completions(core::Request& req, core::RequestContext& ctx);
  Awaitable openai_models(core::Request& req, core::RequestContext& ctx);

  core::Expected<Actor> identity(const core::Request& req) const;
  Caller caller_of(const Actor& actor, const core::Request& req,
                   const core::RequestContext& ctx) const;
  // Rate limit, then the daily token budget (reads the store off the I/O thread). With a
  // conversation id, first 404 unless actor owns it (one read for both). Throws ApiError.
  boost::asio::awaitable<void> admit(const Actor& actor, const std::string* conversation_id);

  ConversationStore& store_;
  TurnRunner& turns_;
  ChatModel& model_;
  RagClient& rag_;
  boost::asio::thread_pool& blocking_;
  const core::Clock& clock_;
  core::Logger& log_;
  ChatApiOptions options_;
  RateLimiter limiter_;
};

}  // namespace enkisys::agent
