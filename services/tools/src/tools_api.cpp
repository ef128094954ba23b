#include "enkisys/tools/tools_api.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <limits>

#include "enkisys/core/request.hpp"
#include "enkisys/core/utf8.hpp"
#include "enkisys/security/secrets.hpp"
#include "enkisys/tools/credentials.hpp"
#include "enkisys/tools/openapi_import.hpp"
#include "enkisys/tools/text.hpp"

namespace enkisys::tools {

namespace json = boost::json;
namespace http = boost::beast::http;
using boost::asio::awaitable;
using core::ErrorKind;
using core::Request;
using core::RequestContext;
using core::Response;
using core::value_or_throw;

namespace {

constexpr std::int64_t kNoCursor = std::numeric_limits<std::int64_t>::max();

core::Error invalid(std::string code, std::string message, std::string field = {}) {
  return core::make_error(ErrorKind::kInvalidArgument, std::move(code), std::move(message),
                          std::move(field));
}

// A tool definition as a client submits it: the definition and, optionally, its scope.
struct Submission {
  ToolDefinition definition;
  std::optional<Scope> scope;
};

core::Expected<Submission> parse_submission(json::object body) {
  Submission s;
  if (auto* scope = body.if_contains("scope")) {
    if (!scope->is_string()) return invalid("invalid_request", "scope must be a string", "/scope");
    auto parsed = parse_scope(scope->get_string(), "/scope");
    if (!parsed) return parsed.error();
    s.scope = *parsed;
    body.erase("scope");
  }
  auto def = parse_tool_definition(body);
  if (!def) return def.error();
  s.definition = std::move(def).value();
  return s;
}

json::object stored_json(const StoredTool& t) {
  json::object o = to_masked_json(t.definition);
  o["builtin"] = t.builtin;
  o["scope"] = t.scope();
  o["owner"] = t.owner.empty() ? json::value(nullptr) : json::value(t.owner);
  o["created_at"] = t.created_at;
  o["updated_at"] = t.updated_at;
  return o;
}

// An error for an answer: its message made valid UTF-8 whatever input it quotes.
core::Error printable(core::Error e) {
  e.message = core::to_valid_utf8(e.message);
  return e;
}

std::optional<std::int64_t> cursor(const std::map<std::string, std::string>& q) {
  if (!q.count("before")) return std::nullopt;
  return core::query_int(q, "before", kNoCursor, 1, kNoCursor);
}

}  // namespace

template <typename Fn>
awaitable<std::invoke_result_t<Fn>> ToolsApi::read(RequestContext& ctx, Fn fn) {
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
  const auto bind = [this](auto method) { return core::member_handler(this, method); };
  r.add(http::verb::get, "/api/tools", bind(&ToolsApi::list));
  r.add(http::verb::post, "/api/tools", bind(&ToolsApi::create));
  r.add(http::verb::post, "/api/tools/import", bind(&ToolsApi::import));
  r.add(http::verb::get, "/api/tools/{name}", bind(&ToolsApi::get));
  r.add(http::verb::put, "/api/tools/{name}", bind(&ToolsApi::replace));
  r.add(http::verb::delete_, "/api/tools/{name}", bind(&ToolsApi::remove));
  r.add(http::verb::post, "/api/tools/{name}/invoke", bind(&ToolsApi::invoke));
  r.add(http::verb::get, "/api/tools/{name}/invocations", bind(&ToolsApi::invocations));
  r.add(http::verb::get, "/api/tools/{name}/history", bind(&ToolsApi::history));
}

ToolPtr ToolsApi::visible(const std::string& name, const Actor& actor) {
  ToolPtr t = store_.get(name);
  if (!t || !can_see(*t, actor)) throw core::ApiError(not_found(name));
  return t;
}

awaitable<Response> ToolsApi::list(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const auto q = core::parse_query(ctx.query());
  auto format = q.find("format");
  const bool openai = format != q.end() && format->second == "openai";
  if (format != q.end() && !openai) {
    throw core::ApiError(invalid("invalid_query", "format must be 'openai' or absent"));
  }
  auto owner = q.find("owner");
  if (owner != q.end() && !actor.admin && owner->second != actor.id) {
    throw core::ApiError(core::make_error(ErrorKind::kPermissionDenied, "forbidden",
                                          "only admins list the tools of other users"));
  }
  auto tools = co_await read(ctx, [this] { return store_.list(); });
  json::array out;
  for (const auto& t : tools) {
    if (!can_see(*t, actor)) continue;
    if (owner != q.end() && t->owner != owner->second) continue;
    out.push_back(openai ? to_openai(t->definition) : stored_json(*t));
  }
  if (openai) co_return core::json_response(http::status::ok, out);
  co_return core::json_response(http::status::ok,
                                json::object{{"count", out.size()}, {"tools", std::move(out)}});
}

awaitable<Response> ToolsApi::create(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  Submission s = value_or_throw(parse_submission(core::parse_json_object(req)));
  // value_or_throw on the pool: the error travels back to this coroutine as ApiError.
  const ToolPtr t = co_await ctx.blocking([this, &s, &actor] {
    return value_or_throw(store_.create(s.definition, actor, s.scope.value_or(Scope::kUser)));
  });
  Response res = core::json_response(http::status::created, stored_json(*t));
  res.set(http::field::location, "/api/tools/" + t->definition.name);
  co_return res;
}

awaitable<Response> ToolsApi::import(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const json::value whole = core::parse_json_object(req);
  const json::object& body = whole.as_object();
  OpenApiImportOptions opts;
  Scope scope = Scope::kUser;
  const json::value* doc = &whole;
  // Either the OpenAPI document itself, or {"document", "base_url", "name_prefix", "scope"}.
  if (body.contains("document")) {
    for (const auto& kv : body) {
      const std::string_view k = kv.key();
      const bool text = k == "base_url" || k == "name_prefix" || k == "scope";
      if (k != "document" && !text) {
        throw core::ApiError(invalid("invalid_request", "unknown field '" + std::string(k) + "'",
                                     "/" + std::string(k)));
      }
      if (text && !kv.value().is_string()) {
        throw core::ApiError(
            invalid("invalid_request", std::string(k) + " must be a string", "/" + std::string(k)));
      }
    }
    doc = &body.at("document");
    if (auto* b = body.if_contains("base_url")) opts.base_url = b->get_string();
    if (auto* p = body.if_contains("name_prefix")) opts.name_prefix = p->get_string();
    if (auto* s = body.if_contains("scope")) {
      scope = value_or_throw(parse_scope(s->get_string(), "/scope"));
    }
  }
  const ImportResult imported = value_or_throw(import_openapi(*doc, opts));
  if (imported.tools.empty()) {
    throw core::ApiError(core::make_error(ErrorKind::kUnprocessable, "nothing_to_import",
                                          "the document has no operation that can become a tool"));
  }
  co_await ctx.blocking([this, &imported, &actor, scope] {
    const core::Status done = store_.create_all(imported.tools, actor, scope);
    value_or_throw(done);
  });
  json::array created, skipped;
  for (const auto& t : imported.tools) created.push_back(json::value(t.name));
  for (const auto& s : imported.skipped) skipped.push_back(json::value(s));
  co_return core::json_response(http::status::created,
                                json::object{{"created", created}, {"skipped", skipped}});
}

awaitable<Response> ToolsApi::get(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const ToolPtr t =
      co_await read(ctx, [&] { return visible(std::string(ctx.param("name")), actor); });
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
}

awaitable<Response> ToolsApi::replace(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const std::string name(ctx.param("name"));
  json::object body = core::parse_json_object(req);
  if (auto* n = body.if_contains("name"); n && !(n->is_string() && n->as_string() == name)) {
    throw core::ApiError(invalid("invalid_request",
                                 "the body's name must match the URL (renaming is not supported)",
                                 "/name"));
  }
  body["name"] = name;
  Submission s = value_or_throw(parse_submission(std::move(body)));
  const ToolPtr t = co_await ctx.blocking(
      [this, &s, &actor] { return value_or_throw(store_.update(s.definition, actor, s.scope)); });
  co_return core::json_response(http::status::ok, stored_json(*t));
}

awaitable<Response> ToolsApi::remove(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const std::string name(ctx.param("name"));
  co_await ctx.blocking([this, &name, &actor] {
    const core::Status done = store_.remove(name, actor);
    value_or_throw(done);
  });
  co_return Response{http::status::no_content, 11};
}

awaitable<Response> ToolsApi::invoke(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const std::string name(ctx.param("name"));
  json::object body = core::parse_json_object(req);
  for (const auto& kv : body) {
    if (kv.key() != "arguments") {
      throw core::ApiError(
          invalid("invalid_request",
                  "unknown field '" + std::string(kv.key()) + "' (expected only \"arguments\")",
                  "/" + std::string(kv.key())));
    }
  }
  json::value args =
      body.contains("arguments") ? body.at("arguments") : json::value(json::object{});
  if (!args.is_object()) {
    throw core::ApiError(
        make_error(errc::invalid_arguments, "arguments must be a JSON object", "/arguments"));
  }
  const ToolPtr tool = co_await read(ctx, [&] { return visible(name, actor); });
  if (auto bad = check_arguments(tool->definition, args)) {
    bad->field = "/arguments" + bad->field;
    throw core::ApiError(printable(*bad));
  }
  const auto start = std::chrono::steady_clock::now();
  RunOutcome out = co_await runner_.run(tool->definition, args.as_object());
  Invocation inv;
  inv.tool = name;
  inv.caller = actor.id;
  inv.status = out.ok ? "ok" : "error";
  inv.error_code = out.ok ? "" : out.error.code;
  inv.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  inv.arguments_sha256 = security::sha256_hex(json::serialize(args));
  const std::string status = inv.status;
  co_await audit_.record(std::move(inv));
  invocations_.with({name, status}).inc();
  if (!out.ok) throw core::ApiError(printable(out.error));
  co_return core::json_response(http::status::ok, json::object{{"result", out.result}});
}

awaitable<Response> ToolsApi::invocations(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const std::string name(ctx.param("name"));
  const auto q = core::parse_query(ctx.query());
  const int limit = static_cast<int>(core::query_int(q, "limit", 50, 1, 200));
  const auto before = cursor(q);
  const ToolPtr t = co_await read(ctx, [&] { return visible(name, actor); });
  // Owners and admins read every call; other users of a shared tool only their own.
  std::optional<std::string> caller;
  if (!actor.admin && !can_manage(*t, actor)) caller = actor.id;
  auto page = co_await read(ctx, [&] { return store_.invocations(name, caller, before, limit); });
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
  out["next_before"] = page.next_before ? json::value(*page.next_before) : json::value(nullptr);
  co_return core::json_response(http::status::ok, out);
}

awaitable<Response> ToolsApi::history(Request& req, RequestContext& ctx) {
  const Actor actor = value_or_throw(actor_of(req));
  const std::string name(ctx.param("name"));
  const auto q = core::parse_query(ctx.query());
  const int limit = static_cast<int>(core::query_int(q, "limit", 50, 1, 200));
  const auto before = cursor(q);
  // Admins read the history of any name, deleted tools included; an owner that of their tool's
  // current life (a reused name does not show its previous owner's changes).
  if (!actor.admin) {
    const ToolPtr t = co_await read(ctx, [&] { return visible(name, actor); });
    if (!can_manage(*t, actor)) {
      throw core::ApiError(
          core::make_error(ErrorKind::kPermissionDenied, "forbidden",
                           "only the owner and admins read the history of '" + name + "'"));
    }
  }
  const bool since_last_create = !actor.admin;
  auto page =
      co_await read(ctx, [&] { return store_.history(name, since_last_create, before, limit); });
  json::array items;
  for (const auto& c : page.items) {
    json::array fields;
    for (const auto& f : c.fields) fields.emplace_back(f);
    items.push_back(json::object{{"id", c.id},
                                 {"actor", c.actor},
                                 {"action", c.action},
                                 {"fields", std::move(fields)},
                                 {"created_at", c.created_at}});
  }
  if (items.empty() && actor.admin) {
    // An admin asking about a name that never existed gets the same answer as anyone else.
    co_await read(ctx, [&] { return visible(name, actor); });
  }
  json::object out;
  out["items"] = std::move(items);
  out["next_before"] = page.next_before ? json::value(*page.next_before) : json::value(nullptr);
  co_return core::json_response(http::status::ok, out);
}

}  // namespace enkisys::tools
