// Routing and edge checks for one request; proxying itself is in proxy.cpp.
#include "request.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "enkisys/gateway/path.hpp"

namespace enkisys::gateway::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace {
// Longest a request waits for its stage's key refetch before it is refused (401 unknown_key).
constexpr std::chrono::seconds kKeyRefreshWait{3};

std::string_view header(const PooledFields& f, std::string_view name) {
  const auto it = f.find(name);
  return it == f.end() ? std::string_view{} : std::string_view(it->value());
}
std::string_view header(const PooledFields& f, http::field name) {
  const auto it = f.find(name);
  return it == f.end() ? std::string_view{} : std::string_view(it->value());
}

// Value of cookie `name` in a Cookie header, or empty.
std::string_view cookie_value(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    while (!cookies.empty() && (cookies.front() == ' ' || cookies.front() == ';'))
      cookies.remove_prefix(1);
    const auto semi = cookies.find(';');
    const std::string_view item = cookies.substr(0, semi);
    if (item.size() > name.size() && item.compare(0, name.size(), name) == 0 &&
        item[name.size()] == '=') {
      return item.substr(name.size() + 1);
    }
    if (semi == std::string_view::npos) break;
    cookies.remove_prefix(semi + 1);
  }
  return {};
}

// True when the request's Accept names text/html (a browser navigation).
bool accepts_html(const Request& r) {
  const auto [first, last] = r.equal_range(http::field::accept);
  for (auto it = first; it != last; ++it) {
    if (it->value().find("text/html") != std::string_view::npos) return true;
  }
  return false;
}

// True when `held` names any of `wanted` (a route's roles: one or two entries).
bool holds_any(const std::vector<std::string>& held, const std::vector<std::string>& wanted) {
  for (const auto& w : wanted) {
    if (std::find(held.begin(), held.end(), w) != held.end()) return true;
  }
  return false;
}
}  // namespace

void RequestContext::add_cors(http::fields& f) const {
  if (origin.empty() || !stage) return;
  const auto& c = stage->cors;
  if (c.any_origin && !c.policy->credentials) {
    f.set(http::field::access_control_allow_origin, "*");
  } else {
    f.set(http::field::access_control_allow_origin, origin);
    f.set(http::field::vary, "Origin");
  }
  if (c.policy->credentials) f.set(http::field::access_control_allow_credentials, "true");
  if (!c.expose_headers.empty())
    f.set(http::field::access_control_expose_headers, c.expose_headers);
}

void RequestContext::append_cors_lines(std::string& out) const {
  if (origin.empty() || !stage) return;
  const auto& c = stage->cors;
  if (c.any_origin && !c.policy->credentials) {
    out += "Access-Control-Allow-Origin: *\r\n";
  } else {
    out += "Access-Control-Allow-Origin: ";
    out += origin;
    out += "\r\nVary: Origin\r\n";
  }
  if (c.policy->credentials) out += "Access-Control-Allow-Credentials: true\r\n";
  if (!c.expose_headers.empty()) {
    out += "Access-Control-Expose-Headers: ";
    out += c.expose_headers;
    out += "\r\n";
  }
}

void RequestContext::finish() {
  Telemetry* t = shared.deps.telemetry;
  if (!t) return;
  RouteMetrics* m = nullptr;
  if (route && static_cast<std::size_t>(route->id) < gen->route_metrics.size()) {
    m = gen->route_metrics[static_cast<std::size_t>(route->id)];
  }
  if (!m) m = t->fallback(stage ? std::string_view(stage->name) : "-");
  RequestRecord r;
  r.method = req ? std::string_view(req->method_string()) : std::string_view("-");
  r.stage = stage ? std::string_view(stage->name) : "-";
  r.route = route ? std::string_view(route->name) : "-";
  r.upstream = target ? std::string_view(target->upstream->authority()) : "-";
  r.request_id = request_id;
  r.client_ip = client_ip;
  r.error = error;
  r.status = status;
  r.latency_s = std::chrono::duration<double>(Clock::now() - start).count();
  r.bytes_out = bytes_out;
  t->record(r, m);
}

Task<bool> RequestContext::write_small(http::response<http::string_body>& res) {
  status = res.result_int();
  if (ctl.tls && !shared.options.hsts.empty())
    res.set(http::field::strict_transport_security, shared.options.hsts);
  ctl.expire_in(gen->config.limits.body_timeout, false);
  auto [ec, n] = co_await http::async_write(client, res, kTok);
  bytes_out += n;
  finish();
  co_return !ec;
}

Task<> RequestContext::reply_error(core::ErrorKind kind, std::string_view code,
                                   std::string_view message, bool keep) {
  return reply_status(static_cast<http::status>(core::http_status_of(kind)), code, message, keep);
}

Task<> RequestContext::reply_status(http::status st, std::string_view code,
                                    std::string_view message, bool keep) {
  if (request_id.empty()) {
    w.ids.next(rid_buf);
    request_id = std::string_view(rid_buf, 32);
  }
  keep_alive = keep_alive && keep;
  error = code;
  auto res = error_response(st, code, message, request_id, req ? req->version() : 11, keep_alive);
  add_cors(res);
  if (st == http::status::unauthorized)
    res.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
  if (st == http::status::too_many_requests || st == http::status::service_unavailable) {
    if (!s.retry.empty()) res.set(http::field::retry_after, s.retry);
  }
  s.retry.clear();
  co_await write_small(res);
}

Task<> RequestContext::reply_html(http::status st, std::string_view location,
                                  std::string_view login) {
  error = st == http::status::see_other ? "login_redirect" : "forbidden";
  http::response<http::string_body> res{st, req ? req->version() : 11};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Request-Id", request_id);
  if (!location.empty()) res.set(http::field::location, location);
  // Only fixed text and configured paths (validated by the loader) enter the page.
  if (st == http::status::forbidden) {
    res.body() =
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>403 Forbidden"
        "</title></head><body><h1>403 Forbidden</h1><p>This page needs a role your account does "
        "not hold.</p><p><a href=\"";
    res.body().append(login).append("\">Sign in as another user</a></p></body></html>\n");
  }
  add_cors(res);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  co_await write_small(res);
}

Task<> RequestContext::await_key_refresh(Authenticator& auth, std::uint64_t seen_attempts,
                                         Clock::time_point until) {
  auto timer = std::make_shared<IoTimer>(w.ioc.get_executor(), until);
  const auto id =
      auth.on_refresh([timer] { asio::post(timer->get_executor(), [timer] { timer->cancel(); }); });
  // The cancel is posted to this thread, so it cannot run before the wait below starts.
  if (auth.refresh_attempts() == seen_attempts) co_await timer->async_wait(kTok);
  auth.forget(id);
}

namespace {
// A chunked body whose framing uses a bare LF: Beast waits for a CRLF that never comes. When the
// parser needs more bytes, what is left unparsed is framing (a chunk-size line, the CRLF after a
// chunk, trailers), where every LF must follow a CR.
bool bare_lf(boost::asio::const_buffer pending) {
  const auto* p = static_cast<const char*>(pending.data());
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) return true;
  }
  return false;
}
constexpr std::size_t kBodyReadSize = 16 * 1024;
}  // namespace

Task<> RequestContext::reply_busy() {
  s.retry = "1";
  co_await reply_error(core::ErrorKind::kUnavailable, "body_budget_exhausted",
                       "too many request bodies in flight, retry later", false);
}

Task<bool> RequestContext::read_body(RequestParser& parser, beast::flat_buffer& buf) {
  const Limits& L = gen->config.limits;
  const auto budget = static_cast<std::int64_t>(L.body_buffer_bytes);
  const auto len = parser.content_length();
  // Refuse early on a declared oversize, and hold the declared length (Beast reserves it at
  // once) against the in-flight body budget.
  if (len && *len > route->max_body_bytes) {
    co_await reply_error(core::ErrorKind::kPayloadTooLarge, "payload_too_large",
                         "request body too large", false);
    co_return false;
  }
  if (len && !body_hold.grow_to(static_cast<std::int64_t>(*len), budget)) {
    co_await reply_busy();
    co_return false;
  }
  if (has_token(header(*req, http::field::expect), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    ctl.expire_in(L.body_timeout, false);
    auto [cec, cn] = co_await asio::async_write(client, asio::buffer(kContinue), kTok);
    if (cec) co_return false;
  }
  parser.body_limit(route->max_body_bytes);
  parser.eager(true);
  ctl.expire_in(L.body_timeout, false);
  // Bounded: every round parses buffered bytes or reads at least one more byte.
  while (!parser.is_done()) {
    beast::error_code ec;
    if (buf.size() > 0) {
      const auto used = parser.put(buf.data(), ec);
      buf.consume(used);
      if (!ec && used == 0 && !parser.is_done()) ec = http::error::need_more;
    } else {
      ec = http::error::need_more;
    }
    if (ec == http::error::need_more) {
      if (parser.chunked()) {
        if (bare_lf(buf.data())) {
          co_await reply_error(core::ErrorKind::kInvalidArgument, "bad_request",
                               "malformed chunked body", false);
          co_return false;
        }
        const auto want = req->body().size() + buf.size() + kBodyReadSize;
        if (!body_hold.grow_to(static_cast<std::int64_t>(want), budget)) {
          co_await reply_busy();
          co_return false;
        }
      }
      auto [rec, rn] = co_await client.async_read_some(buf.prepare(kBodyReadSize), kTok);
      if (rec) co_return false;  // timeout (the sweeper closed it), reset or EOF mid-body
      buf.commit(rn);
      continue;
    }
    if (ec == http::error::body_limit) {
      co_await reply_error(core::ErrorKind::kPayloadTooLarge, "payload_too_large",
                           "request body too large", false);
      co_return false;
    }
    if (ec) {
      co_await reply_error(core::ErrorKind::kInvalidArgument, "bad_request",
                           "malformed request body", false);
      co_return false;
    }
  }
  co_return true;
}

Task<bool> RequestContext::handle(RequestParser& parser, beast::flat_buffer& buf,
                                  std::optional<ResponseParser>& rp) {
  auto& r = *req;
  // Request id: the client's if valid (copied: headers may be rewritten below), else a new one.
  if (const auto id = header(r, "X-Request-Id"); valid_request_id(id) && id.size() <= 32) {
    std::copy(id.begin(), id.end(), rid_buf);
    request_id = std::string_view(rid_buf, id.size());
  } else {
    w.ids.next(rid_buf);
    request_id = std::string_view(rid_buf, 32);
  }
  // Behind a trusted proxy the client is named by X-Forwarded-For (rate limits, logs, upstream).
  if (!gen->trusted.empty() && gen->trusted.trusts(peer_addr)) {
    via_trusted_proxy = true;
    s.forwarded_for.clear();
    const auto [first, last] = r.equal_range("X-Forwarded-For");
    for (auto it = first; it != last; ++it) {
      if (!s.forwarded_for.empty()) s.forwarded_for += ", ";
      s.forwarded_for += it->value();
    }
    s.client = gen->trusted.client_address(peer_addr, s.forwarded_for);
    client_ip = s.client;
  }
  const bool body_pending = !parser.is_done();
  // No smuggling or ambiguity: Beast already refuses Content-Length together with chunked and
  // conflicting lengths; the rest (Host, Authorization, transfer codings, target bytes, TRACE/
  // CONNECT) is checked here, before anything else looks at the request.
  if (const auto bad = check_request_head(r)) {
    co_await reply_error(bad->kind, bad->code, bad->message, false);
    co_return false;
  }
  std::string_view path, query;
  if (const char* perr = normalize_target(r.target(), &s.path, &path, &query)) {
    co_await reply_error(core::ErrorKind::kInvalidArgument, "invalid_path", perr, !body_pending);
    co_return keep_alive;
  }
  if (path == "/health") {
    http::response<http::string_body> res{http::status::ok, r.version()};
    res.set(http::field::content_type, "application/json");
    res.set("X-Request-Id", request_id);
    res.body() = shared.health_body;
    res.keep_alive(keep_alive = keep_alive && !body_pending);
    res.prepare_payload();
    co_return co_await write_small(res) && keep_alive;
  }
  std::string_view rest;
  stage = gen->find_stage(path, &rest);
  if (!stage) {
    co_await reply_error(core::ErrorKind::kNotFound, "not_found", "unknown stage", !body_pending);
    co_return keep_alive;
  }
  if (stage->cors.policy) {
    const auto o = header(r, http::field::origin);
    if (!o.empty() && stage->cors.origin_allowed(o)) {
      s.origin.assign(o);  // copied: hop-by-hop stripping may erase fields
      origin = s.origin;
    }
    const bool preflight = r.method() == http::verb::options && !o.empty() &&
                           r.find(http::field::access_control_request_method) != r.end();
    if (preflight) {
      if (origin.empty()) {
        co_await reply_error(core::ErrorKind::kPermissionDenied, "cors_forbidden",
                             "origin not allowed", !body_pending);
        co_return keep_alive;
      }
      http::response<http::string_body> res{http::status::no_content, r.version()};
      add_cors(res);
      res.set(http::field::access_control_allow_methods, stage->cors.allow_methods);
      res.set(http::field::access_control_allow_headers, stage->cors.allow_headers);
      res.set(http::field::access_control_max_age, stage->cors.max_age);
      res.set(http::field::vary,
              "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      res.set("X-Request-Id", request_id);
      res.keep_alive(keep_alive = keep_alive && !body_pending);
      co_return co_await write_small(res) && keep_alive;
    }
  }
  if (rest == "/health" && (r.method() == http::verb::get || r.method() == http::verb::head)) {
    keep_alive = keep_alive && !body_pending;
    co_await stage_health();
    co_return keep_alive;
  }
  if (stage->config.paused) {
    co_await reply_error(core::ErrorKind::kUnavailable, "stage_paused",
                         "this stage is under maintenance", !body_pending);
    co_return keep_alive;
  }
  route = stage->match(rest);
  if (!route) {
    co_await reply_error(core::ErrorKind::kNotFound, "not_found", "no route for this path",
                         !body_pending);
    co_return keep_alive;
  }
  // Rate limits: stage policies, then the route's.
  if (!stage->rate_limits.empty() || !route->rate_limits.empty()) {
    const auto now = start;
    const auto api_key = header(r, "X-Api-Key");
    auto check = [&](int idx, int scope) {
      const auto& pol = gen->policies[static_cast<std::size_t>(idx)].second;
      const std::string_view who = pol.key == RateLimitPolicy::Key::kApiKey && !api_key.empty()
                                       ? api_key
                                       : std::string_view(client_ip);
      return shared.deps.limiter.acquire(RateLimiter::make_key(idx, scope, who), pol, now);
    };
    int wait = 0;
    for (int idx : stage->rate_limits) wait = std::max(wait, check(idx, stage->id));
    for (int idx : route->rate_limits) wait = std::max(wait, check(idx, (1 << 20) + route->id));
    if (wait > 0) {
      s.retry = std::to_string(wait);
      co_await reply_error(core::ErrorKind::kResourceExhausted, "rate_limited", "too many requests",
                           !body_pending);
      co_return keep_alive;
    }
  }
  // Identity headers are only ever set by the gateway (client copies are never forwarded).
  if (route->jwt) {
    const char* why = "no_verifier";
    if (Authenticator* auth = stage->auth.get()) {
      std::string_view authorization = header(r, http::field::authorization);
      // A browser sends no Authorization: the route's cookie then carries the token, verified
      // exactly as a bearer token (an Authorization header always wins).
      if (authorization.empty() && !route->jwt_cookie.empty()) {
        const auto token = cookie_value(header(r, http::field::cookie), route->jwt_cookie);
        if (!token.empty()) {
          s.cookie_bearer.assign("Bearer ").append(token);
          authorization = s.cookie_bearer;
        }
      }
      const auto attempts = auth->refresh_attempts();
      claims = auth->authenticate(authorization, s.token, &why);
      // Unknown kid while the stage's keys are being refetched (rotation, a new color, a
      // gateway that started before the stage): wait for the fetch (bounded), then decide.
      // (The deadline is taken only then: the clock stays off the path of known keys.)
      Clock::time_point wait_until{};
      for (auto seen = attempts; !claims && why == Authenticator::kAwaitingKeys;) {
        if (wait_until == Clock::time_point{}) {
          wait_until = Clock::now() + kKeyRefreshWait;
        } else if (Clock::now() >= wait_until) {
          why = "unknown_key";
          break;
        }
        co_await await_key_refresh(*auth, seen, wait_until);
        seen = auth->refresh_attempts();
        claims = auth->authenticate(authorization, s.token, &why);
      }
    }
    if (!claims && !route->login_redirect.empty() && accepts_html(r)) {
      keep_alive = keep_alive && !body_pending;
      co_await reply_html(http::status::see_other,
                          login_location(stage->prefix, route->login_redirect, path), "");
      co_return keep_alive;
    }
    if (!claims) {
      // A revoked session has its own code (clients drop the session instead of refreshing).
      const bool revoked = std::string_view(why) == "token_revoked";
      co_await reply_error(core::ErrorKind::kUnauthenticated,
                           revoked ? "token_revoked" : "unauthorized", why, !body_pending);
      co_return keep_alive;
    }
    if (!route->roles.empty() && !holds_any(claims->roles, route->roles)) {
      if (!route->login_redirect.empty() && accepts_html(r)) {
        keep_alive = keep_alive && !body_pending;
        co_await reply_html(http::status::forbidden, {}, stage->prefix + route->login_redirect);
        co_return keep_alive;
      }
      co_await reply_error(core::ErrorKind::kPermissionDenied, "forbidden",
                           "the token lacks a role this route requires", !body_pending);
      co_return keep_alive;
    }
  }
  if (body_pending && !co_await read_body(parser, buf)) co_return false;
  // Canary: sticky by cookie; new clients are drawn with the configured probability.
  target = &route->primary;
  if (stage->config.canary_percent > 0 && route->canary.upstream) {
    const auto v = cookie_value(header(r, http::field::cookie), stage->canary_cookie);
    bool canary;
    if (v == "1" || v == "0") {
      canary = v == "1";
    } else {
      std::uniform_real_distribution<double> d(0.0, 100.0);
      canary = d(w.rng) < stage->config.canary_percent;
      set_canary_cookie = canary ? 1 : 0;
    }
    if (canary) target = &route->canary;
  }
  // Forwarded target: [base path] + path after the stage (minus the route prefix if stripped).
  std::string_view fwd = rest;
  if (route->strip_prefix) {
    fwd = rest.substr(route->prefix.size());
    if (fwd.empty()) fwd = "/";
  }
  s.target.assign(target->base_path);
  s.target.append(fwd);
  if (r.target().find('?') != std::string_view::npos) {
    s.target.push_back('?');
    s.target.append(query);
  }
  co_return co_await proxy(buf, rp);
}

}  // namespace enkisys::gateway::detail
