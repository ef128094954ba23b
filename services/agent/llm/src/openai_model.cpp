#include "enkisys/agent/openai_model.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <charconv>
#include <memory>

#include "chat_stream.hpp"

namespace enkisys::agent {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorKind;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// The request body is written straight into its string, message by message: the history is
// hundreds of shared messages, and a document of them (an arena twice the text, freed after)
// would be built only to be serialized.
class BodyWriter {
 public:
  explicit BodyWriter(std::size_t estimate) { out_.reserve(estimate); }

  BodyWriter& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  BodyWriter& str(std::string_view s) {  // a JSON string, escaped
    sr_.reset(s);
    drain();
    return *this;
  }
  BodyWriter& value(const json::value& v) {
    sr_.reset(&v);
    drain();
    return *this;
  }
  // The string, without what the estimate overshot: a model call keeps its body until it is
  // answered (64 turns in flight hold 64 bodies).
  std::string take() {
    if (out_.capacity() - out_.size() > out_.size() / 16) out_.shrink_to_fit();
    return std::move(out_);
  }

 private:
  void drain() {
    while (!sr_.done()) out_.append(sr_.read(buf_));
  }
  std::string out_;
  json::serializer sr_;
  char buf_[512] = {};
};

void write_message(BodyWriter& w, const MessageView& m) {
  w.raw(R"({"role":)").str(m.role);
  if (m.role == "assistant" && !m.tool_calls.empty()) {
    w.raw(R"(,"content":)");
    if (m.content.empty()) {
      w.raw("null");
    } else {
      w.str(m.content);
    }
    w.raw(R"(,"tool_calls":[)");
    bool first = true;
    for (const auto& c : m.tool_calls) {
      w.raw(first ? R"({"id":)" : R"(,{"id":)").str(c.id);
      w.raw(R"(,"type":"function","function":{"name":)").str(c.name);
      w.raw(R"(,"arguments":)").str(c.arguments).raw("}}");
      first = false;
    }
    w.raw("]}");
    return;
  }
  w.raw(R"(,"content":)").str(m.content);
  if (m.role == "tool") w.raw(R"(,"tool_call_id":)").str(m.tool_call_id);
  w.raw("}");
}

std::string request_body(const ChatRequest& r, const std::string& model, bool stream) {
  const std::vector<MessageView> views = message_views(r);
  std::size_t estimate = 256 + model.size();
  for (const auto& m : views) estimate += m.content.size() + m.content.size() / 16 + 48;
  for (const auto& t : r.tools) estimate += t.name.size() + t.description.size() + 256;
  BodyWriter w(estimate);
  w.raw(R"({"model":)").str(model).raw(R"(,"messages":[)");
  for (std::size_t i = 0; i < views.size(); ++i) {
    if (i > 0) w.raw(",");
    write_message(w, views[i]);
  }
  w.raw("]");
  if (!r.tools.empty()) {
    static const json::value kAnyObject = json::object{{"type", "object"}};
    w.raw(R"(,"tools":[)");
    bool first = true;
    for (const auto& t : r.tools) {
      w.raw(first ? R"({"type":"function","function":{"name":)"
                  : R"(,{"type":"function","function":{"name":)")
          .str(t.name);
      w.raw(R"(,"description":)").str(t.description).raw(R"(,"parameters":)");
      w.value(t.parameters == nullptr || t.parameters->is_null() ? kAnyObject : *t.parameters);
      w.raw("}}");
      first = false;
    }
    w.raw("]");
  }
  w.raw(R"(,"temperature":)").value(json::value(r.temperature));
  if (r.max_tokens) w.raw(R"(,"max_tokens":)").value(json::value(*r.max_tokens));
  if (stream) w.raw(R"(,"stream":true,"stream_options":{"include_usage":true})");
  w.raw("}");
  return w.take();
}

// The state one attempt shares with its body sink.
struct Attempt {
  explicit Attempt(DeltaSink sink) : acc(std::move(sink)) {}
  detail::ChatAccumulator acc;
  bool first_byte = false;
  std::string raw;  // the body, for error answers (capped)
};

core::Error cancelled() {
  return core::make_error(ErrorKind::kUnavailable, "cancelled", "the model call was cancelled");
}

core::Error timed_out(std::string what) {
  return core::make_error(ErrorKind::kDeadlineExceeded, "model_timeout", std::move(what));
}

bool is_cancelled(const asio::cancellation_state& s) {
  return s.cancelled() != asio::cancellation_type::none;
}

// Retry-After in seconds (HTTP dates are not used by model servers).
std::optional<milliseconds> retry_after(std::string_view v) {
  long long s = 0;
  if (v.empty() || std::from_chars(v.data(), v.data() + v.size(), s).ec != std::errc{} || s < 0) {
    return std::nullopt;
  }
  return milliseconds(std::min<long long>(s, 86'400) * 1000);
}

}  // namespace

OpenAiChatModel::OpenAiChatModel(core::HttpSender& http, OpenAiOptions options)
    : http_(http), options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
  options_.max_attempts = std::max(options_.max_attempts, 1);
}

asio::awaitable<core::Expected<ChatResult>> OpenAiChatModel::complete(const ChatRequest& request,
                                                                      DeltaSink on_delta) {
  const std::string model = request.model.empty() ? options_.model : request.model;
  const bool stream = static_cast<bool>(on_delta);
  core::ClientRequest req;
  req.method = core::http::verb::post;
  req.url = options_.base_url + "/chat/completions";
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
  if (!options_.api_key.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  }
  // The body is built for each attempt and handed over (not kept here): `request` outlives the
  // call, and an open stream then holds one copy of the prompt, in the client, until sent.

  const auto deadline = Clock::now() + options_.timeout;
  auto backoff = options_.initial_backoff;
  core::Error last = core::make_error(ErrorKind::kUnavailable, "model_unreachable",
                                      "the model endpoint could not be reached");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    const auto state = co_await asio::this_coro::cancellation_state;
    if (is_cancelled(state)) co_return cancelled();
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) co_return timed_out("the model call exceeded its time limit");

    core::ClientRequest attempt_req = req;
    attempt_req.body = request_body(request, model, stream);
    auto a = std::make_shared<Attempt>(on_delta);
    core::ClientOptions co;
    co.connect_timeout = std::min(options_.connect_timeout, left);
    co.timeout = left;
    co.first_byte_timeout = std::min(options_.first_token_timeout, left);
    co.max_response_bytes = 16 * 1024 * 1024;
    if (stream) {
      co.on_body = [a](std::string_view piece) {
        a->first_byte = true;
        // The raw text serves error answers and a server that ignores `stream`: neither once a
        // delta was delivered, so an open stream stops keeping it then.
        if (!a->acc.delivered() && a->raw.size() < 64 * 1024) {
          a->raw.append(piece.substr(0, 64 * 1024));
        }
        a->acc.feed(piece);
        if (a->acc.delivered() && !a->raw.empty()) std::string().swap(a->raw);
        return !a->acc.error();
      };
    }
    // The client's first-byte deadline covers a streamed answer's first body byte too: a
    // server that sends its head and then no token times out like one that sends nothing.
    core::ClientResult sent = co_await http_.send(std::move(attempt_req), co);
    if (is_cancelled(co_await asio::this_coro::cancellation_state)) co_return cancelled();
    std::optional<milliseconds> wait;
    if (!sent) {
      const auto& e = sent.error();
      using C = core::ClientError::Code;
      if (e.code == C::kCancelled) co_return cancelled();
      if (e.code == C::kTimeout) {
        co_return timed_out(a->first_byte
                                ? "the model call exceeded its time limit"
                                : "the model endpoint did not answer in time: " + e.message);
      }
      if (e.code == C::kBadUrl || e.code == C::kTooLarge || a->acc.delivered()) {
        if (a->acc.delivered()) {
          co_return core::make_error(ErrorKind::kUpstream, "model_error",
                                     "the model's stream ended early");
        }
        co_return core::make_error(ErrorKind::kUpstream, "model_error",
                                   "the model endpoint cannot be used: " + e.message);
      }
      last = core::make_error(ErrorKind::kUnavailable, "model_unreachable",
                              "the model endpoint could not be reached: " + e.message);
    } else if (sent->status == 200) {
      if (stream) {
        a->acc.end();
      } else {
        a->acc.whole(sent->body);
      }
      // A server that ignores `stream` answers with one JSON object.
      if (stream && !a->acc.complete() && !a->acc.delivered() && !a->raw.empty() &&
          a->raw.front() == '{') {
        a->acc.whole(a->raw);
      }
      if (a->acc.error()) co_return *a->acc.error();
      if (a->acc.complete()) co_return a->acc.result(request, model);
      if (a->acc.delivered()) {
        co_return core::make_error(ErrorKind::kUpstream, "model_error",
                                   "the model's stream ended early");
      }
      last =
          core::make_error(ErrorKind::kUpstream, "model_error", "the model's stream ended early");
    } else {
      const unsigned status = sent->status;
      const std::string body = stream ? a->raw : sent->body;
      std::string msg = detail::server_message(body);
      if (!options_.api_key.empty()) {
        for (auto at = msg.find(options_.api_key); at != std::string::npos;
             at = msg.find(options_.api_key)) {
          msg.replace(at, options_.api_key.size(), "***");
        }
      }
      const std::string what = "the model endpoint answered " + std::to_string(status) +
                               (msg.empty() ? std::string() : ": " + msg);
      if (status == 429) {
        last = core::make_error(ErrorKind::kResourceExhausted, "model_rate_limited", what);
        wait = retry_after(sent->header("Retry-After"));
        last.retry_after_s =
            std::max<std::int64_t>(1, wait ? wait->count() / 1000 : backoff.count() / 1000);
      } else if (status >= 500) {
        last = core::make_error(ErrorKind::kUpstream, "model_error", what);
        wait = retry_after(sent->header("Retry-After"));
      } else {
        co_return core::make_error(ErrorKind::kUpstream, "model_error", what);
      }
    }
    if (attempt == options_.max_attempts) break;
    if (wait && *wait > options_.max_backoff) break;  // the server asks for a longer pause
    const milliseconds pause = std::min(wait.value_or(backoff), options_.max_backoff);
    if (Clock::now() + pause >= deadline) break;  // no time left for another attempt
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(pause);
    co_await timer.async_wait(kTuple);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  co_return last;
}

}  // namespace enkisys::agent
