// enkisys-fake-openai: an OpenAI-compatible POST /v1/chat/completions that answers at once with a
// fixed short answer, for benchmarks of the conversation service (bench/agent). Not a service:
// no auth, no limits; binds 127.0.0.1 on an OS-chosen port and prints `port <n>` on stdout.
//
// Environment:
//   FAKE_TOOL_EVERY  N > 0: every Nth request whose last message is the user's asks for
//                    calculator {"expression":"6*7"}; the request after the tool result (last
//                    message role "tool") gets the text answer. 0 (default): never.
//   FAKE_PIECES      text pieces of a streamed answer (default 1).
//   FAKE_PACING_MS   pause before each streamed piece (default 0: at once).
//   THREADS          I/O threads (default 1).
// Streams (`stream: true`) as real servers do: a role chunk, the pieces, a finish chunk, a usage
// chunk, [DONE]. Runs until SIGTERM/SIGINT.
#include <signal.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "enkisys/core/stream.hpp"
#include "enkisys/core/testing.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = enkisys::core::http;
using enkisys::core::Request;
using enkisys::core::RequestContext;
using enkisys::core::Response;

struct Settings {
  long tool_every = 0;
  long pieces = 1;
  std::chrono::milliseconds pacing{0};
  std::atomic<long> user_turns{0};
};

long env_int(const char* name, long fallback, long lo, long hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < lo || n > hi) {
    std::fprintf(stderr, "enkisys-fake-openai: %s must be an integer in [%ld, %ld]\n", name, lo,
                 hi);
    std::exit(2);
  }
  return n;
}

const std::string kAnswer = "The answer is in the documents [1].";
const std::string kUsage = R"({"prompt_tokens":40,"completion_tokens":8,"total_tokens":48})";

std::string chunk(const std::string& delta, const char* finish) {
  return R"({"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1800000000,)"
         R"("model":"fake-model","choices":[{"index":0,"delta":)" +
         delta + R"(,"finish_reason":)" + finish + "}]}";
}

std::string tool_call_message() {
  return R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_bench","type":)"
         R"("function","function":{"name":"calculator","arguments":"{\"expression\":\"6*7\"}"}}]})";
}

// True when the request's last message comes from the user (a new round, not a tool result).
bool wants_tool(Settings& s, const std::string& body, bool& stream) {
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  stream = false;
  if (ec || !v.is_object()) return false;
  const auto& o = v.as_object();
  if (const auto* st = o.if_contains("stream"); st && st->is_bool()) stream = st->as_bool();
  if (s.tool_every <= 0) return false;
  const auto* msgs = o.if_contains("messages");
  if (msgs == nullptr || !msgs->is_array() || msgs->as_array().empty()) return false;
  const auto* last = msgs->as_array().back().if_object();
  const auto* role = last ? last->if_contains("role") : nullptr;
  if (role == nullptr || !role->is_string() || role->as_string() != "user") return false;
  return ++s.user_turns % s.tool_every == 0;
}

// The SSE data payloads of a streamed answer: role, the pieces (or the tool call), finish,
// usage, [DONE].
std::vector<std::string> stream_events(const Settings& s, bool tool) {
  std::vector<std::string> out;
  out.push_back(chunk(R"({"role":"assistant","content":""})", "null"));
  if (tool) {
    out.push_back(
        chunk(R"({"tool_calls":[{"index":0,"id":"call_bench","type":"function","function":)"
              R"({"name":"calculator","arguments":"{\"expression\":\"6*7\"}"}}]})",
              "null"));
  } else {
    for (long i = 0; i < s.pieces; ++i) {
      const std::string text = i + 1 == s.pieces ? kAnswer : "word ";
      out.push_back(chunk(json::serialize(json::object{{"content", text}}), "null"));
    }
  }
  out.push_back(chunk("{}", tool ? "\"tool_calls\"" : "\"stop\""));
  out.push_back(R"({"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"fake-model",)"
                R"("choices":[],"usage":)" +
                kUsage + "}");
  out.emplace_back("[DONE]");
  return out;
}

asio::awaitable<Response> answer(Request& req, RequestContext& ctx, Settings* s) {
  bool stream = false;
  const bool tool = wants_tool(*s, req.body(), stream);
  if (!stream) {
    const std::string message =
        tool ? tool_call_message()
             : json::serialize(json::object{{"role", "assistant"}, {"content", kAnswer}});
    Response res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = R"({"id":"chatcmpl-bench","object":"chat.completion","model":"fake-model",)"
                 R"("choices":[{"index":0,"message":)" +
                 message + R"(,"finish_reason":)" + (tool ? "\"tool_calls\"" : "\"stop\"") +
                 R"(}],"usage":)" + kUsage + "}";
    res.prepare_payload();
    co_return res;
  }
  // Built before the first co_await (GCC 12: no literals inside co_await expressions).
  const std::vector<std::string> events = stream_events(*s, tool);
  enkisys::core::StreamOptions o;
  o.heartbeat = std::chrono::milliseconds(0);
  auto sse = co_await ctx.stream_sse(o);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const bool text_piece = !tool && i >= 1 && i <= static_cast<std::size_t>(s->pieces);
    if (text_piece && s->pacing.count() > 0 && !co_await sse.wait(s->pacing)) {
      co_return sse.done();
    }
    co_await sse.event(std::string_view(), std::string_view(events[i]));
  }
  co_return sse.done();
}

}  // namespace

int main() {
  static Settings settings;
  settings.tool_every = env_int("FAKE_TOOL_EVERY", 0, 0, 1'000'000);
  settings.pieces = env_int("FAKE_PIECES", 1, 1, 100'000);
  settings.pacing = std::chrono::milliseconds(env_int("FAKE_PACING_MS", 0, 0, 600'000));
  enkisys::core::ServerOptions opts;
  opts.threads = static_cast<unsigned>(env_int("THREADS", 1, 1, 64));
  opts.idle_timeout = std::chrono::minutes(10);
  opts.write_timeout = std::chrono::minutes(10);

  // Blocked before the server's threads start, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  enkisys::core::testing::TestServer server(
      [](enkisys::core::Router& r) {
        r.add(http::verb::post, "/v1/chat/completions",
              [](Request& req, RequestContext& ctx) { return answer(req, ctx, &settings); });
      },
      opts);
  std::printf("port %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  return 0;
}
