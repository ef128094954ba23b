#include "enkisys/tools/tools_api.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>

#include "enkisys/security/secrets.hpp"
#include "enkisys/tools/openapi_import.hpp"

namespace enkisys::tools {

namespace json = boost::json;
namespace http = boost::beast::http;
using boost::asio::awaitable;
using core::ApiError;
using core::Request;
using core::RequestContext;
using core::Response;

namespace {

// Maps a domain error to the API error: schema problems and bad arguments are 422, a malformed
// definition is 400, egress refusals 403, remote failures 502/504, a tool's own failure 422.
[[noreturn]] void raise(const Error& e) {
  http::status st = http::status::bad_request;
  const std::string& c = e.code;
  if (c == errc::invalid_schema || c == errc::invalid_arguments || c == errc::tool_error) {
    st = http::status::unprocessable_entity;
  } else if (c == errc::egress_refused) {
    st = http::status::forbidden;
  } else if (c == "upstream_timeout") {
    st = http::status::gateway_timeout;
  } else if (c == "upstream_error") {
    st = http::status::bad_gateway;
  }
  json::object details;
  if (!e.field.empty()) details["path"] = e.field;
  throw ApiError(st, c, e.message, details.empty() ? json::value(nullptr) : json::value(details));
}

// Header values that carry credentials are write-only: answers show "***" in their place, and a
// PUT that sends "***" back keeps the stored value.
constexpr std::string_view kRedacted = "***";

bool sensitive_header(std::string_view name) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word :
       {"authorization", "cookie", "token", "secret", "password", "api-key", "apikey"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return false;
}

// Replaces "***" header values of `def` by the stored ones. Throws 400 if there is none.
void keep_redacted_headers(ToolDefinition& def, const std::shared_ptr<const StoredTool>& current) {
  if (!def.http) return;
  for (auto& [k, v] : def.http->headers) {
    if (v != kRedacted) continue;
    const HttpSpec* old =
        current && current->definition.http ? &*current->definition.http : nullptr;
    auto it = old ? old->headers.find(k) : std::map<std::string, std::string>::const_iterator{};
    if (!old || it == old->headers.end()) {
      throw ApiError(http::status::bad_request, "invalid_request",
                     "header '" + k + "' is \"***\" but there is no stored value to keep");
    }
    v = it->second;
  }
}

json::object stored_json(const StoredTool& t) {
  json::object o = to_json(t.definition);
  if (auto* h = o.if_contains("http"); h && h->is_object()) {
    if (auto* headers = h->as_object().if_contains("headers"); headers && headers->is_object()) {
      for (auto& kv : headers->as_object()) {
        if (sensitive_header(kv.key())) kv.value() = kRedacted;
      }
    }
  }
  o["builtin"] = t.builtin;
  o["created_at"] = t.created_at;
  o["updated_at"] = t.updated_at;
  return o;
}

[[noreturn]] void not_found(std::string_view name) {
  throw ApiError(http::status::not_found, "not_found", "no tool named '" + std::string(name) + "'");
}

[[noreturn]] void read_only(std::string_view name) {
  throw ApiError(http::status::conflict, "read_only",
                 "'" + std::string(name) + "' is a built-in tool and cannot be changed");
}

ToolDefinition parse_or_raise(const json::value& v) {
  auto d = parse_tool_definition(v);
  if (!d) raise(d.error());
  return std::move(d).value();
}

std::string caller_of(const Request& req) {
  const auto user = req["X-User-Id"];
  return user.empty() ? "anonymous" : std::string(user.substr(0, 128));
}

int int_param(const std::map<std::string, std::string>& q, const std::string& key, int fallback) {
  auto it = q.find(key);
  if (it == q.end()) return fallback;
  int v = 0;
  const auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc{} || p != it->second.data() + it->second.size()) {
    throw ApiError(http::status::bad_request, "invalid_query", key + " must be an integer");
  }
  return v;
}
}  // namespace

template <typename Fn>
boost::asio::awaitable<std::invoke_result_t<Fn>> ToolsApi::read(RequestContext& ctx, Fn fn) {
  // SQLite reads in WAL mode never wait for writers and take microseconds: a hop to the
  // blocking pool and back (two thread wake-ups) would cost more than the read itself.
  if (store_.reads_are_local()) co_return fn();
  co_return co_await ctx.blocking(std::move(fn));
}

std::shared_ptr<const std::string> ToolsApi::body_of(const StoredTool& t) {
  {
    std::lock_guard lock(bodies_mu_);
    auto it = bodies_.find(t.definition.name);
    if (it != bodies_.end() && it->second.first == t.etag) return it->second.second;
  }
  auto body = std::make_shared<const std::string>(json::serialize(stored_json(t)));
  std::lock_guard lock(bodies_mu_);
  if (bodies_.size() >= 4096) bodies_.clear();  // crude bound; entries are rebuilt on demand
  bodies_[t.definition.name] = {t.etag, body};
  return body;
}

ToolsApi::ToolsApi(ToolStore& store, AuditLog& audit, ToolRunner& runner,
                   core::MetricsRegistry& metrics)
    : store_(store),
      audit_(audit),
      runner_(runner),
      invocations_(metrics.counter("tools_invocations_total",
                                   "Tool invocations by tool and outcome.", {"tool", "status"})) {}

void ToolsApi::add_routes(core::Router& r) {
  r.add(http::verb::get, "/api/tools",
        [this](Request&, RequestContext& ctx) -> awaitable<Response> {
          const auto q = core::parse_query(ctx.query());
          auto it = q.find("format");
          const bool openai = it != q.end() && it->second == "openai";
          if (it != q.end() && !openai) {
            throw ApiError(http::status::bad_request, "invalid_query",
                           "format must be 'openai' or absent");
          }
          auto tools = co_await read(ctx, [this] { return store_.list(); });
          json::array out;
          for (const auto& t : tools)
            out.push_back(openai ? to_openai(t.definition) : stored_json(t));
          if (openai) co_return core::json_response(http::status::ok, out);
          co_return core::json_response(
              http::status::ok, json::object{{"count", out.size()}, {"tools", std::move(out)}});
        });

  r.add(http::verb::post, "/api/tools",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          ToolDefinition def = parse_or_raise(core::parse_json_object(req));
          const auto outcome = co_await ctx.blocking([this, &def] { return store_.create(def); });
          if (outcome == WriteOutcome::kExists) {
            throw ApiError(http::status::conflict, "already_exists",
                           "a tool named '" + def.name + "' already exists");
          }
          auto stored = co_await ctx.blocking([this, &def] { return store_.get(def.name); });
          Response res = core::json_response(http::status::created, stored_json(*stored));
          res.set(http::field::location, "/api/tools/" + def.name);
          co_return res;
        });

  r.add(http::verb::post, "/api/tools/import",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          const json::value whole = core::parse_json_object(req);
          const json::object& body = whole.as_object();
          OpenApiImportOptions opts;
          const json::value* doc = &whole;
          // Either the OpenAPI document itself, or {"document": {...}, "base_url", "name_prefix"}.
          if (body.contains("document")) {
            for (const auto& kv : body) {
              if (kv.key() != "document" && kv.key() != "base_url" && kv.key() != "name_prefix") {
                throw ApiError(http::status::bad_request, "invalid_request",
                               "unknown field '" + std::string(kv.key()) + "'");
              }
            }
            doc = &body.at("document");
            if (auto* b = body.if_contains("base_url")) {
              if (!b->is_string())
                throw ApiError(http::status::bad_request, "invalid_request",
                               "base_url must be a string");
              opts.base_url = b->as_string();
            }
            if (auto* p = body.if_contains("name_prefix")) {
              if (!p->is_string())
                throw ApiError(http::status::bad_request, "invalid_request",
                               "name_prefix must be a string");
              opts.name_prefix = p->as_string();
            }
          }
          auto imported = import_openapi(*doc, opts);
          if (!imported) raise(imported.error());
          if (imported->tools.empty()) {
            throw ApiError(http::status::unprocessable_entity, "nothing_to_import",
                           "the document has no operation that can become a tool");
          }
          std::string clash;
          const auto outcome = co_await ctx.blocking(
              [this, &imported, &clash] { return store_.create_all(imported->tools, &clash); });
          if (outcome == WriteOutcome::kExists) {
            throw ApiError(http::status::conflict, "already_exists",
                           "a tool named '" + clash + "' already exists; nothing was imported");
          }
          json::array created, skipped;
          for (const auto& t : imported->tools) created.push_back(json::value(t.name));
          for (const auto& s : imported->skipped) skipped.push_back(json::value(s));
          co_return core::json_response(http::status::created,
                                        json::object{{"created", created}, {"skipped", skipped}});
        });

  r.add(http::verb::get, "/api/tools/{name}",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          std::string name(ctx.param("name"));
          auto t = co_await read(ctx, [this, &name] { return store_.get(name); });
          if (!t) not_found(name);
          const std::string etag = "\"" + t->etag + "\"";
          if (req[http::field::if_none_match] == etag) {
            Response res{http::status::not_modified, 11};
            res.set(http::field::etag, etag);
            co_return res;
          }
          Response res{http::status::ok, 11};
          res.set(http::field::content_type, "application/json");
          res.set(http::field::etag, etag);
          res.body() = *body_of(*t);
          res.prepare_payload();
          co_return res;
        });

  r.add(http::verb::put, "/api/tools/{name}",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          std::string name(ctx.param("name"));
          json::object body = core::parse_json_object(req);
          if (auto* n = body.if_contains("name");
              n && !(n->is_string() && n->as_string() == name)) {
            throw ApiError(http::status::bad_request, "invalid_request",
                           "the body's name must match the URL (renaming is not supported)");
          }
          body["name"] = name;
          ToolDefinition def = parse_or_raise(body);
          if (def.http) {
            auto current = co_await ctx.blocking([this, &name] { return store_.get(name); });
            keep_redacted_headers(def, current);
          }
          const auto outcome = co_await ctx.blocking([this, &def] { return store_.update(def); });
          if (outcome == WriteOutcome::kNotFound) not_found(name);
          if (outcome == WriteOutcome::kReadOnly) read_only(name);
          auto stored = co_await ctx.blocking([this, &name] { return store_.get(name); });
          co_return core::json_response(http::status::ok, stored_json(*stored));
        });

  r.add(http::verb::delete_, "/api/tools/{name}",
        [this](Request&, RequestContext& ctx) -> awaitable<Response> {
          std::string name(ctx.param("name"));
          const auto outcome = co_await ctx.blocking([this, &name] { return store_.remove(name); });
          if (outcome == WriteOutcome::kNotFound) not_found(name);
          if (outcome == WriteOutcome::kReadOnly) read_only(name);
          Response res{http::status::no_content, 11};
          co_return res;
        });

  r.add(http::verb::post, "/api/tools/{name}/invoke",
        [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
          std::string name(ctx.param("name"));
          json::object body = core::parse_json_object(req);
          for (const auto& kv : body) {
            if (kv.key() != "arguments") {
              throw ApiError(
                  http::status::bad_request, "invalid_request",
                  "unknown field '" + std::string(kv.key()) + "' (expected only \"arguments\")");
            }
          }
          json::value args =
              body.contains("arguments") ? body.at("arguments") : json::value(json::object{});
          if (!args.is_object()) {
            throw ApiError(http::status::unprocessable_entity, errc::invalid_arguments,
                           "arguments must be a JSON object", json::object{{"path", "/arguments"}});
          }
          auto tool = co_await read(ctx, [this, &name] { return store_.get(name); });
          if (!tool) not_found(name);
          if (auto bad = check_arguments(tool->definition, args)) {
            Error e = *bad;
            e.field = "/arguments" + e.field;
            raise(e);
          }
          const auto start = std::chrono::steady_clock::now();
          RunOutcome out = co_await runner_.run(tool->definition, args.as_object());
          Invocation inv;
          inv.tool = name;
          inv.caller = caller_of(req);
          inv.status = out.ok ? "ok" : "error";
          inv.error_code = out.ok ? "" : out.error.code;
          inv.duration_ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count();
          inv.arguments_sha256 = security::sha256_hex(json::serialize(args));
          const std::string status = inv.status;
          co_await audit_.record(std::move(inv));
          invocations_.with({name, status}).inc();
          if (!out.ok) raise(out.error);
          co_return core::json_response(http::status::ok, json::object{{"result", out.result}});
        });

  r.add(http::verb::get, "/api/tools/{name}/invocations",
        [this](Request&, RequestContext& ctx) -> awaitable<Response> {
          std::string name(ctx.param("name"));
          const auto q = core::parse_query(ctx.query());
          const int limit = int_param(q, "limit", 50);
          std::optional<std::int64_t> before;
          if (q.count("before")) before = int_param(q, "before", 0);
          auto exists = co_await read(ctx, [this, &name] { return store_.get(name) != nullptr; });
          if (!exists) not_found(name);
          auto page = co_await read(ctx, [&] { return store_.invocations(name, before, limit); });
          json::array items;
          for (const auto& i : page.items) {
            items.push_back(json::object{{"id", i.id},
                                         {"tool", i.tool},
                                         {"caller", i.caller},
                                         {"status", i.status},
                                         {"error_code", i.error_code},
                                         {"duration_ms", i.duration_ms},
                                         {"arguments_sha256", i.arguments_sha256},
                                         {"created_at", i.created_at}});
          }
          json::object out;
          out["items"] = std::move(items);
          out["next_before"] =
              page.next_before ? json::value(*page.next_before) : json::value(nullptr);
          co_return core::json_response(http::status::ok, out);
        });
}

}  // namespace enkisys::tools
