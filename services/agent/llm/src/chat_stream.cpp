#include "chat_stream.hpp"

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace enkisys::agent::detail {

namespace json = boost::json;
using core::ErrorKind;

namespace {

std::string_view str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::object* obj(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

// Some servers (older Ollama) send arguments as an object instead of JSON text.
std::string arguments_text(const json::value* v) {
  if (!v || v->is_null()) return {};
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

int int_or(const json::object& o, std::string_view key, int fallback) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? static_cast<int>(v->as_int64()) : fallback;
}

std::atomic<long long> g_next_call_id{1};

}  // namespace

std::string server_message(std::string_view body) {
  std::string msg;
  json::error_code ec;
  const json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto* e = v.as_object().if_contains("error");
    if (e && e->is_string()) msg = e->get_string();
    if (e && e->is_object()) msg = str(e->as_object(), "message");
    if (msg.empty()) msg = str(v.as_object(), "message");
  }
  if (msg.empty() && ec) msg = std::string(body);
  for (char& c : msg) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (msg.size() > 200) msg = msg.substr(0, 200) + "...";
  return msg;
}

void ChatAccumulator::fail(std::string message) {
  if (!error_) error_ = core::make_error(ErrorKind::kUpstream, "model_error", std::move(message));
}

void ChatAccumulator::feed(std::string_view bytes) {
  pending_.append(bytes);
  std::size_t start = 0;
  for (auto nl = pending_.find('\n', start); nl != std::string::npos;
       nl = pending_.find('\n', start)) {
    std::string_view l(pending_.data() + start, nl - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    line(l);
    start = nl + 1;
  }
  pending_.erase(0, start);
}

void ChatAccumulator::line(std::string_view l) {
  if (l.empty()) {
    dispatch();
    return;
  }
  if (l.front() == ':') return;          // comment (keep-alive)
  if (l.rfind("data:", 0) != 0) return;  // event:, id:, retry: carry nothing needed here
  l.remove_prefix(5);
  if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
  // A server that omits the blank line between events: the previous data line was whole.
  if (has_data_ && (data_ == "[DONE]" || (!data_.empty() && data_.back() == '}'))) {
    json::error_code ec;
    json::parse(data_, ec);
    if (!ec || data_ == "[DONE]") dispatch();
  }
  if (has_data_) data_ += '\n';
  data_.append(l);
  has_data_ = true;
}

void ChatAccumulator::end() {
  if (!pending_.empty()) {
    std::string last = std::exchange(pending_, {});
    if (!last.empty() && last.back() == '\r') last.pop_back();
    line(last);
  }
  dispatch();
}

void ChatAccumulator::dispatch() {
  if (!has_data_) return;
  const std::string data = std::exchange(data_, {});
  has_data_ = false;
  if (done_ || error_) return;
  if (data == "[DONE]") {
    done_ = true;
    return;
  }
  json::error_code ec;
  const json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    fail("the model sent a malformed stream event");
    return;
  }
  chunk(v.as_object());
}

void ChatAccumulator::text(std::string_view t) {
  if (t.empty()) return;
  content_.append(t);
  delivered_ = true;
  if (on_delta_) on_delta_(t);
}

void ChatAccumulator::chunk(const json::object& o) {
  if (const auto* e = o.if_contains("error"); e && !e->is_null()) {
    fail("the model reported an error: " + server_message(json::serialize(o)));
    return;
  }
  if (auto m = str(o, "model"); !m.empty()) model_ = m;
  if (const auto* u = obj(o, "usage")) {
    usage_ = Usage{int_or(*u, "prompt_tokens", 0), int_or(*u, "completion_tokens", 0)};
  }
  const auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->as_array().empty()) return;
  const auto* choice = choices->as_array()[0].if_object();
  if (!choice) return;
  const auto* d = obj(*choice, "delta");
  if (!d) d = obj(*choice, "message");  // whole responses
  if (d) {
    text(str(*d, "content"));
    if (const auto* tcs = d->if_contains("tool_calls"); tcs && tcs->is_array()) {
      int position = 0;
      for (const auto& tv : tcs->as_array()) {
        const auto* tc = tv.if_object();
        if (!tc) continue;
        const int index = int_or(*tc, "index", position++);
        if (index < 0 || index > 127) continue;
        if (calls_.size() <= static_cast<std::size_t>(index)) calls_.resize(index + 1);
        auto& call = calls_[index];
        if (auto id = str(*tc, "id"); !id.empty()) call.id = id;
        if (const auto* f = obj(*tc, "function")) {
          call.name += str(*f, "name");
          call.arguments += arguments_text(f->if_contains("arguments"));
        }
      }
    }
    if (const auto* f = obj(*d, "function_call")) {  // the legacy single call
      if (calls_.empty()) calls_.resize(1);
      calls_[0].name += str(*f, "name");
      calls_[0].arguments += arguments_text(f->if_contains("arguments"));
    }
  }
  if (auto f = str(*choice, "finish_reason"); !f.empty()) finish_ = f;
}

void ChatAccumulator::whole(std::string_view body) {
  json::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    fail("the model's answer is not JSON");
    return;
  }
  chunk(v.as_object());
  if (!error_ && finish_.empty()) done_ = true;
}

ChatResult ChatAccumulator::result(const ChatRequest& request, const std::string& model) {
  ChatResult r;
  r.content = content_;
  r.model = model_.empty() ? model : model_;
  for (auto& c : calls_) {
    if (c.name.empty() && c.arguments.empty()) continue;  // an index never filled
    if (c.id.empty()) c.id = "call_" + std::to_string(g_next_call_id++);
    r.tool_calls.push_back({c.id, c.name, c.arguments});
  }
  std::string f = finish_;
  if (f == "function_call" || (!r.tool_calls.empty() && (f.empty() || f == "stop" || f == "eos"))) {
    f = "tool_calls";
  }
  if (f.empty() || f == "eos" || f == "eos_token") f = "stop";
  r.finish_reason = f;
  if (usage_ && (usage_->prompt_tokens > 0 || usage_->completion_tokens > 0)) {
    r.usage = *usage_;
  } else {
    int prompt = 0;
    for (const auto& m : message_views(request)) {
      prompt += 4 + estimate_tokens(m.content);
      for (const auto& tc : m.tool_calls) prompt += estimate_tokens(tc.arguments) + 4;
    }
    for (const auto& t : request.tools) prompt += estimate_tokens(t.description) + 16;
    int completion = estimate_tokens(r.content);
    for (const auto& tc : r.tool_calls) completion += estimate_tokens(tc.arguments) + 4;
    r.usage = Usage{prompt, completion};
  }
  return r;
}

}  // namespace enkisys::agent::detail
