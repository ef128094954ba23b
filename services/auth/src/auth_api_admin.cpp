// AuthApi: the admin routes (users, audit, signing keys, API keys).
#include <boost/json/array.hpp>

#include "enkisys/auth/api_support.hpp"
#include "enkisys/auth/auth_api.hpp"
#include "enkisys/core/request.hpp"

namespace enkisys::auth {

namespace json = boost::json;
namespace http = core::http;
using boost::asio::awaitable;
using core::ApiError;
using core::Request;
using core::RequestContext;
using core::Response;
using core::value_or_throw;

namespace {
json::object api_key_json(const ApiKey& k) {
  json::array scopes;
  for (const auto& s : k.scopes) scopes.emplace_back(s);
  json::object o{{"id", k.id},
                 {"prefix", "ek_" + k.prefix},
                 {"name", k.name},
                 {"scopes", std::move(scopes)},
                 {"created_by", k.created_by},
                 {"created_at", api::rfc3339(k.created_at)}};
  o["revoked_at"] = k.revoked_at ? json::value(api::rfc3339(*k.revoked_at)) : json::value(nullptr);
  o["last_used_at"] =
      k.last_used_at ? json::value(api::rfc3339(*k.last_used_at)) : json::value(nullptr);
  return o;
}

// Scopes are short tokens such as "tools:invoke" or "channel:telegram".
std::vector<std::string> parse_scopes(const json::object& body) {
  std::vector<std::string> out;
  const json::value* v = body.if_contains("scopes");
  if (v == nullptr) return out;
  if (!v->is_array() || v->as_array().size() > 32) {
    throw ApiError(core::make_error(core::ErrorKind::kInvalidArgument, "invalid_request",
                                    "scopes must be an array of at most 32 strings", "/scopes"));
  }
  for (const auto& s : v->as_array()) {
    const bool ok = s.is_string() && !s.as_string().empty() && s.as_string().size() <= 64 &&
                    std::all_of(s.as_string().begin(), s.as_string().end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '.' ||
                             c == '_' || c == '-' || c == '*' || c == '/';
                    });
    if (!ok) {
      throw ApiError(core::make_error(core::ErrorKind::kInvalidArgument, "invalid_request",
                                      "each scope must be 1-64 characters of [A-Za-z0-9:._/*-]",
                                      "/scopes"));
    }
    out.emplace_back(s.as_string());
  }
  return out;
}
}  // namespace

void AuthApi::add_admin_routes(core::Router& r) {
  api::add_route(
      r, http::verb::get, "/api/auth/users",
      [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
        co_await principal(req, ctx, true);  // admins only
        const auto q = core::parse_query(ctx.query());
        const int limit = static_cast<int>(core::query_int(q, "limit", 50, 1, 200));
        const int offset = static_cast<int>(core::query_int(q, "offset", 0, 0, 1'000'000'000));
        auto page = co_await ctx.blocking(
            [this, limit, offset] { return service_.list_users(limit, offset); });
        json::array users;
        for (const auto& u : page.items) users.push_back(api::user_json(u));
        json::object out{{"users", std::move(users)}, {"total", page.total}};
        const std::int64_t next = offset + static_cast<std::int64_t>(page.items.size());
        out["next_offset"] = next < page.total ? json::value(next) : json::value(nullptr);
        co_return core::json_response(http::status::ok, out);
      });

  for (const bool disable : {true, false}) {
    api::add_route(r, http::verb::post,
                   disable ? "/api/auth/users/{id}/disable" : "/api/auth/users/{id}/enable",
                   [this, disable](Request& req, RequestContext& ctx) -> awaitable<Response> {
                     const Principal p = co_await principal(req, ctx, true);
                     const std::string id(ctx.param("id").substr(0, 128));
                     const Caller who = caller(req, ctx);
                     const User user = co_await ctx.blocking([this, &p, &id, disable, &who] {
                       return value_or_throw(service_.set_disabled(p, id, disable, who));
                     });
                     co_return core::json_response(http::status::ok, api::user_json(user));
                   });
  }

  api::add_route(r, http::verb::get, "/api/auth/audit",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   co_await principal(req, ctx, true);  // admins only
                   const auto q = core::parse_query(ctx.query());
                   const int limit = static_cast<int>(core::query_int(q, "limit", 50, 1, 200));
                   std::optional<std::int64_t> before;
                   if (q.contains("before")) before = core::query_int(q, "before", 0, 1, INT64_MAX);
                   const std::string event = q.contains("event") ? q.at("event").substr(0, 64) : "";
                   auto page = co_await ctx.blocking([this, before, limit, &event] {
                     return service_.audit(before, limit, event);
                   });
                   json::array events;
                   for (const auto& e : page.items) {
                     events.push_back(json::object{{"id", e.id},
                                                   {"at", api::rfc3339(e.at)},
                                                   {"event", e.event},
                                                   {"user_id", e.user_id},
                                                   {"email", e.email},
                                                   {"ip", e.ip},
                                                   {"request_id", e.request_id},
                                                   {"detail", e.detail}});
                   }
                   json::object out{{"events", std::move(events)}};
                   out["next_before"] =
                       page.next_before ? json::value(*page.next_before) : json::value(nullptr);
                   co_return core::json_response(http::status::ok, out);
                 });

  api::add_route(
      r, http::verb::get, "/api/auth/keys",
      [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
        co_await principal(req, ctx, true);  // admins only
        auto keys = co_await ctx.blocking([this] { return service_.published_keys(); });
        json::array out;
        for (const auto& k : keys) {
          out.push_back(json::object{{"kid", k.kid},
                                     {"alg", security::alg_name(k.alg)},
                                     {"created_at", api::rfc3339(k.created_at)},
                                     {"active", k.active}});
        }
        co_return core::json_response(http::status::ok, json::object{{"keys", std::move(out)}});
      });

  api::add_route(r, http::verb::post, "/api/auth/keys/rotate",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   const Principal p = co_await principal(req, ctx, true);
                   const Caller who = caller(req, ctx);
                   const std::string kid = co_await ctx.blocking(
                       [this, &p, &who] { return value_or_throw(service_.rotate_keys(p, who)); });
                   co_return core::json_response(http::status::created, json::object{{"kid", kid}});
                 });

  api::add_route(
      r, http::verb::post, "/api/auth/api-keys",
      [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
        const Principal p = co_await principal(req, ctx, true);
        const json::object body = core::parse_json_object(req);
        api::only_fields(body, {"name", "scopes"});
        const std::string name = *api::string_field(body, "name", 128);
        if (name.empty()) {
          throw ApiError(core::make_error(core::ErrorKind::kInvalidArgument, "invalid_request",
                                          "name must not be empty", "/name"));
        }
        const auto scopes = parse_scopes(body);
        const Caller who = caller(req, ctx);
        const NewApiKey created = co_await ctx.blocking([this, &p, &name, &scopes, &who] {
          return value_or_throw(service_.create_api_key(p, name, scopes, who));
        });
        json::object out = api_key_json(created.key);
        out["key"] = created.secret;  // shown once; only its digest is stored
        co_return api::no_store(http::status::created, out);
      });

  api::add_route(
      r, http::verb::get, "/api/auth/api-keys",
      [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
        co_await principal(req, ctx, true);  // admins only
        auto keys = co_await ctx.blocking([this] { return service_.list_api_keys(); });
        json::array out;
        for (const auto& k : keys) out.push_back(api_key_json(k));
        co_return core::json_response(http::status::ok, json::object{{"api_keys", std::move(out)}});
      });

  api::add_route(r, http::verb::delete_, "/api/auth/api-keys/{id}",
                 [this](Request& req, RequestContext& ctx) -> awaitable<Response> {
                   const Principal p = co_await principal(req, ctx, true);
                   const std::string id(ctx.param("id").substr(0, 128));
                   const Caller who = caller(req, ctx);
                   co_await ctx.blocking([this, &p, &id, &who] {
                     const core::Status done = service_.revoke_api_key(p, id, who);
                     value_or_throw(done);
                   });
                   co_return Response{http::status::no_content, 11};
                 });
}

}  // namespace enkisys::auth
