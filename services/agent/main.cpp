// enkisys-agent: the conversation service (port 5004): conversations, turns with memory,
// retrieval and tools, streaming, and an OpenAI-compatible endpoint. Wiring only.
#include <malloc.h>

#include <boost/asio/thread_pool.hpp>
#include <cstdlib>
#include <memory>

#include "enkisys/agent/backends.hpp"
#include "enkisys/agent/chat_api.hpp"
#include "enkisys/agent/offline_model.hpp"
#include "enkisys/agent/openai_model.hpp"
#include "enkisys/agent/store.hpp"
#include "enkisys/agent/turn.hpp"
#include "enkisys/core/service.hpp"
#include "enkisys/db/database.hpp"
#include "service_database.hpp"

namespace {

using namespace enkisys;

struct AgentService {
  std::unique_ptr<db::Database> database;
  std::unique_ptr<agent::ConversationStore> store;
  std::unique_ptr<boost::asio::thread_pool> blocking;
  std::unique_ptr<agent::ChatModel> model;
  std::unique_ptr<agent::RagClient> rag;
  std::unique_ptr<agent::ToolsClient> tools;
  std::unique_ptr<agent::TurnRunner> turns;
  std::unique_ptr<agent::ChatApi> api;
};

std::optional<std::string> http_url(std::string_view v) {
  if (v.empty() || v.starts_with("http://") || v.starts_with("https://")) return std::nullopt;
  return "must be an http:// or https:// URL";
}

std::unique_ptr<agent::ChatModel> make_model(core::ServiceEnv& env) {
  const std::string base_url = env.config.get("LLM_BASE_URL");
  if (base_url.empty()) return std::make_unique<agent::OfflineModel>();
  agent::OpenAiOptions o;
  o.base_url = base_url;
  o.model = env.config.get("LLM_MODEL");
  if (env.config.is_set("LLM_API_KEY_FILE")) {
    auto key = env.config.secret_file("LLM_API_KEY_FILE");
    if (!key) throw core::ConfigError("LLM_API_KEY_FILE could not be read");
    o.api_key = *key;
  }
  return std::make_unique<agent::OpenAiChatModel>(env.http, o);
}

// glibc gives every thread that allocates an arena of its own (up to 8 per core), and each keeps
// the memory it freed: the blocking pool's threads (the store's reads) left ~3 MB more resident
// at 64 conversations at once (bench/agent). One arena: the I/O threads and the pool share it
// (a turn allocates on both sides of the hop, and frees on the other); two arenas kept ~0.9 MB
// more at 64, and one costs no turns/s there. MALLOC_ARENA_MAX or GLIBC_TUNABLES still decide.
// The database pool (DB_POOL_SIZE, DB_CACHE_KIB): a turn's work is mostly two writes, which
// SQLite runs one at a time, and each pooled connection keeps a page cache of its own, of the
// same hot pages. Two connections (a write and a read at once) of 128 KiB: the turns read
// little beyond the window cache's misses, and the operating system caches the file's pages
// anyway. −1.2 MB at 64 conversations against four of 256 KiB, with no turns/s lost; see
// bench/agent/README.md ("Memory"). On PostgreSQL, where a statement waits on the network,
// raise DB_POOL_SIZE with the concurrent turns expected.
constexpr int kAgentDbCacheKib = 128;
constexpr int kAgentDbPoolSize = 2;

void tune_malloc() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr && std::getenv("GLIBC_TUNABLES") == nullptr) {
    mallopt(M_ARENA_MAX, 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  tune_malloc();
  core::ServiceSpec spec;
  spec.name = "agent";
  spec.summary = "conversations with memory, retrieval and tools; streaming; OpenAI-compatible";
  spec.default_port = 5004;
  spec.declare = [](core::EnvConfig& c) {
    db::declare_database(c, "sqlite:///data/agent.db", kAgentDbCacheKib, kAgentDbPoolSize);
    c.add({"TOOLS_URL", "base URL of the tools service", "http://tools:5001", false, false,
           http_url});
    c.add({"RAG_URL", "base URL of the rag service", "http://rag:5003", false, false, http_url});
    c.add({"LLM_BASE_URL",
           "OpenAI-compatible chat API base (e.g. https://api.openai.com/v1); unset: the "
           "built-in offline answerer",
           "", false, false, http_url});
    c.add({"LLM_MODEL", "model name sent to LLM_BASE_URL", "gpt-4o-mini"});
    c.add({"LLM_API_KEY_FILE", "file holding the LLM API key (optional)", ""});
    c.add({"AGENT_SERVICE_SECRET_FILE",
           "file holding the per-stage secret that lets the router act for a user (unset: "
           "requests with X-Service-Secret are refused)",
           ""});
    c.add({"AGENT_TOOLS_CACHE_S",
           "seconds a caller's tool listing is reused before the tools service is asked again "
           "(0: every turn asks)",
           "5", false, false, core::integer_in(0, 3600)});
    c.add({"AGENT_WINDOW_CACHE_KIB",
           "memory for the recent messages of conversations, so that a turn reads only the rows "
           "new to it (0: every turn reads its whole window); the default holds ~70 windows of "
           "the default token budget",
           "2048", false, false, core::integer_in(0, 1 << 22)});
    c.add({"AGENT_CONTEXT_TOKENS", "token budget of the prompt (memory window)", "6000", false,
           false, core::integer_in(500, 1'000'000)});
    c.add({"AGENT_MAX_TOOL_ROUNDS", "rounds of tool calls per turn", "4", false, false,
           core::integer_in(0, 32)});
    c.add({"AGENT_TURN_TIMEOUT_S", "time budget of one turn", "120", false, false,
           core::integer_in(1, 3600)});
    c.add({"AGENT_MAX_MESSAGE_BYTES", "longest user message (413 above)", "32768", false, false,
           core::integer_in(256, 1 << 22)});
    c.add({"AGENT_RATE_PER_MIN", "turns per user per minute (429 above)", "30", false, false,
           core::integer_in(1, 100'000)});
    c.add({"AGENT_DAILY_TOKENS", "tokens per user per UTC day (429 above)", "200000", false, false,
           core::integer_in(1, 1'000'000'000'000)});
  };
  spec.wire = [](core::ServiceEnv& env) -> std::shared_ptr<void> {
    auto s = std::make_shared<AgentService>();
    s->database = db::open_service_database(env);
    s->store = std::make_unique<agent::ConversationStore>(
        *s->database,
        static_cast<std::size_t>(env.config.get_int("AGENT_WINDOW_CACHE_KIB")) * 1024);
    s->store->migrate();
    // The store's work runs on a pool the turns and the API share, of BLOCKING_THREADS threads;
    // the listener's own blocking pool then only runs the health checks: one thread.
    s->blocking = std::make_unique<boost::asio::thread_pool>(env.server.blocking_threads);
    env.server.blocking_threads = 1;
    s->model = make_model(env);
    s->rag = std::make_unique<agent::RagClient>(env.http, env.config.get("RAG_URL"));
    agent::ToolsCacheOptions tools_cache;
    tools_cache.ttl = std::chrono::seconds(env.config.get_int("AGENT_TOOLS_CACHE_S"));
    s->tools = std::make_unique<agent::ToolsClient>(env.http, env.config.get("TOOLS_URL"),
                                                    env.clock, tools_cache);

    agent::TurnOptions to;
    to.context_tokens = static_cast<int>(env.config.get_int("AGENT_CONTEXT_TOKENS"));
    to.max_tool_rounds = static_cast<int>(env.config.get_int("AGENT_MAX_TOOL_ROUNDS"));
    to.turn_timeout = std::chrono::seconds(env.config.get_int("AGENT_TURN_TIMEOUT_S"));
    s->turns = std::make_unique<agent::TurnRunner>(*s->store, *s->model, *s->rag, *s->tools,
                                                   *s->blocking, env.clock, env.log, to);

    agent::ChatApiOptions ao;
    ao.max_message_bytes = static_cast<std::size_t>(env.config.get_int("AGENT_MAX_MESSAGE_BYTES"));
    ao.rate_per_minute = static_cast<int>(env.config.get_int("AGENT_RATE_PER_MIN"));
    ao.daily_tokens = env.config.get_int("AGENT_DAILY_TOKENS");
    if (env.config.is_set("AGENT_SERVICE_SECRET_FILE")) {
      auto secret = env.config.secret_file("AGENT_SERVICE_SECRET_FILE", 16);
      if (!secret) {
        throw core::ConfigError(
            "AGENT_SERVICE_SECRET_FILE could not be read or holds fewer than 16 bytes");
      }
      ao.service_secret = *secret;
    }
    s->api = std::make_unique<agent::ChatApi>(*s->store, *s->turns, *s->model, *s->rag,
                                              *s->blocking, env.clock, env.log, ao);
    s->api->add_routes(env.router);
    malloc_trim(0);  // what the start-up (migrations, TLS trust store) freed goes back
    return s;
  };
  return core::run_service(spec, argc, argv);
}
