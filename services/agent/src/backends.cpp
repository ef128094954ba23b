#include "enkisys/agent/backends.hpp"

#include <boost/json.hpp>

namespace enkisys::agent {

namespace json = boost::json;
namespace http = boost::beast::http;
using boost::asio::awaitable;
using core::ErrorKind;

namespace {

std::string trimmed(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

core::ClientRequest request_for(const Caller& caller, http::verb method, std::string url,
                                std::string body = {}) {
  core::ClientRequest r;
  r.method = method;
  r.url = std::move(url);
  r.headers = {{"X-User-Id", caller.user_id}, {"Accept", "application/json"}};
  if (!caller.roles.empty()) r.headers.emplace_back("X-User-Roles", caller.roles);
  if (!caller.request_id.empty()) r.headers.emplace_back("X-Request-Id", caller.request_id);
  if (!body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
  }
  return r;
}

core::Error upstream(std::string code, std::string message) {
  return core::make_error(ErrorKind::kUpstream, std::move(code), std::move(message));
}

// The JSON body of a 2xx answer, or the error it stands for.
core::Expected<json::value> json_of(const core::ClientResult& r, const std::string& code,
                                    const std::string& service) {
  if (!r) return upstream(code, service + " unreachable: " + r.error().message);
  boost::system::error_code ec;
  json::value body = json::parse(r->body, ec);
  if (r->status >= 200 && r->status < 300) {
    if (ec) return upstream(code, service + " answered malformed JSON");
    return body;
  }
  std::string message = service + " answered " + std::to_string(r->status);
  std::string err_code = code;
  if (!ec && body.is_object()) {
    if (const auto* e = body.as_object().if_contains("error"); e && e->is_object()) {
      const auto& eo = e->as_object();
      if (const auto* m = eo.if_contains("message"); m && m->is_string()) {
        message = std::string(m->as_string());
      }
      if (const auto* c = eo.if_contains("code"); c && c->is_string()) {
        err_code = std::string(c->as_string());
      }
    }
  }
  ErrorKind kind = ErrorKind::kUpstream;
  if (r->status == 400 || r->status == 422) kind = ErrorKind::kInvalidArgument;
  if (r->status == 404) kind = ErrorKind::kNotFound;
  if (r->status == 403) kind = ErrorKind::kPermissionDenied;
  if (r->status == 504) kind = ErrorKind::kDeadlineExceeded;
  return core::make_error(kind, err_code, message);
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

RagClient::RagClient(core::HttpSender& http, std::string base_url)
    : http_(http), base_(trimmed(std::move(base_url))) {}

awaitable<core::Expected<std::vector<Passage>>> RagClient::search(
    const Caller& caller, std::string query, std::vector<std::string> collections, int k) {
  json::array cols;
  for (const auto& c : collections) cols.emplace_back(c);
  const json::object body{{"query", std::move(query)}, {"collections", std::move(cols)}, {"k", k}};
  core::ClientOptions o;
  o.timeout = std::chrono::seconds(20);
  auto r = co_await http_.send(
      request_for(caller, http::verb::post, base_ + "/api/rag/search", json::serialize(body)), o);
  auto v = json_of(r, "rag_error", "rag");
  if (!v) co_return v.error();
  const auto* results = v->is_object() ? v->as_object().if_contains("results") : nullptr;
  if (results == nullptr || !results->is_array()) {
    co_return upstream("rag_error", "rag answered without results");
  }
  std::vector<Passage> out;
  out.reserve(results->as_array().size());  // kept by the turn until it ends
  for (const auto& x : results->as_array()) {
    const auto* o2 = x.if_object();
    if (o2 == nullptr) continue;
    Passage p;
    p.index = static_cast<int>(out.size()) + 1;
    p.chunk_id = str(*o2, "chunk_id");
    p.document_id = str(*o2, "document_id");
    p.collection_id = str(*o2, "collection_id");
    p.title = str(*o2, "title");
    p.text = str(*o2, "text");
    if (const auto* h = o2->if_contains("heading_path"); h && h->is_array()) {
      for (const auto& s : h->as_array()) {
        if (s.is_string()) p.heading_path.emplace_back(s.as_string());
      }
    }
    if (const auto* loc = o2->if_contains("location"); loc && loc->is_object()) {
      const auto& l = loc->as_object();
      if (const auto* pg = l.if_contains("page"); pg && pg->is_int64()) {
        p.page = static_cast<int>(pg->as_int64());
      }
      if (const auto* s = l.if_contains("start"); s && s->is_int64()) p.start = s->as_int64();
      if (const auto* e = l.if_contains("end"); e && e->is_int64()) p.end = e->as_int64();
    }
    out.push_back(std::move(p));
  }
  co_return out;
}

awaitable<core::Expected<std::vector<std::string>>> RagClient::collections(const Caller& caller) {
  auto r =
      co_await http_.send(request_for(caller, http::verb::get, base_ + "/api/rag/collections"));
  auto v = json_of(r, "rag_error", "rag");
  if (!v) co_return v.error();
  std::vector<std::string> out;
  const auto* list = v->is_object() ? v->as_object().if_contains("collections") : nullptr;
  if (list != nullptr && list->is_array()) {
    for (const auto& c : list->as_array()) {
      if (c.is_object()) out.push_back(str(c.as_object(), "id"));
    }
  }
  co_return out;
}

ToolsClient::ToolsClient(core::HttpSender& http, std::string base_url, const core::Clock& clock,
                         ToolsCacheOptions cache)
    : http_(http), base_(trimmed(std::move(base_url))), clock_(clock), cache_options_(cache) {}

std::string ToolsClient::cache_key(const Caller& caller) {
  std::string key = caller.user_id;
  key += '\n';  // no header value holds a line feed
  key += caller.roles;
  return key;
}

std::shared_ptr<const std::vector<ToolSpec>> ToolsClient::cached(const std::string& key) {
  if (cache_options_.ttl.count() <= 0) return nullptr;
  const auto now = clock_.steady_now();
  std::lock_guard lock(mu_);
  const auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  if (it->second.expires <= now) {
    cache_.erase(it);
    return nullptr;
  }
  return it->second.tools;
}

void ToolsClient::keep(const std::string& key, std::shared_ptr<const std::vector<ToolSpec>> tools) {
  if (cache_options_.ttl.count() <= 0 || cache_options_.max_entries == 0) return;
  const auto now = clock_.steady_now();
  std::lock_guard lock(mu_);
  if (cache_.size() >= cache_options_.max_entries && !cache_.contains(key)) {
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.expires <= now; });
    if (cache_.size() >= cache_options_.max_entries) cache_.clear();
  }
  cache_[key] = Cached{std::move(tools), now + cache_options_.ttl};
}

void ToolsClient::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  cache_.erase(key);
}

awaitable<core::Expected<std::vector<ToolSpec>>> ToolsClient::list(const Caller& caller) {
  const std::string key = cache_key(caller);
  if (auto hit = cached(key)) co_return *hit;
  auto r =
      co_await http_.send(request_for(caller, http::verb::get, base_ + "/api/tools?format=openai"));
  auto v = json_of(r, "tools_error", "tools");
  if (!v) co_return v.error();
  const json::value* arr = &*v;
  if (v->is_object()) arr = v->as_object().if_contains("tools");
  if (arr == nullptr || !arr->is_array()) {
    co_return upstream("tools_error", "tools answered without a tools array");
  }
  std::vector<ToolSpec> out;
  for (const auto& t : arr->as_array()) {
    const auto* o = t.if_object();
    const auto* fn = o ? o->if_contains("function") : nullptr;
    if (fn == nullptr || !fn->is_object()) continue;
    ToolSpec s;
    s.name = str(fn->as_object(), "name");
    s.description = str(fn->as_object(), "description");
    if (const auto* p = fn->as_object().if_contains("parameters")) {
      s.parameters = std::make_shared<const json::value>(*p);
    }
    if (!s.name.empty()) out.push_back(std::move(s));
  }
  keep(key, std::make_shared<const std::vector<ToolSpec>>(out));
  co_return out;
}

awaitable<core::Expected<json::value>> ToolsClient::invoke(const Caller& caller, std::string name,
                                                           json::object arguments,
                                                           std::chrono::milliseconds timeout) {
  core::ClientOptions o;
  o.timeout = timeout;
  const std::string body = json::serialize(json::object{{"arguments", std::move(arguments)}});
  auto r = co_await http_.send(
      request_for(caller, http::verb::post, base_ + "/api/tools/" + name + "/invoke", body), o);
  if (!r && r.error().code == core::ClientError::Code::kTimeout) {
    co_return core::make_error(ErrorKind::kDeadlineExceeded, "tool_timeout",
                               "the tool did not answer in time");
  }
  auto v = json_of(r, "tools_error", "tools");
  if (!v) {
    if (r && (r->status == 403 || r->status == 404)) forget(cache_key(caller));
    co_return v.error();
  }
  if (!v->is_object() || !v->as_object().contains("result")) {
    co_return upstream("tools_error", "tools answered without a result");
  }
  co_return v->as_object().at("result");
}

}  // namespace enkisys::agent
