// The embeddable web chat (the "web" channel): one `<script src=".../channels/web/widget.js"
// data-site="<public key>">` tag puts a chat on a page; anonymous visitors get a session token
// and talk to the agent through the same inbox, relay and store as the other channels.
//
// Routes:
//   GET     /channels/web/widget.js                       the widget (no inline script needed)
//   OPTIONS /channels/web/{site}/sessions|messages        CORS preflight
//   POST    /channels/web/{site}/sessions                 → 201 {"token","visitor_id"}
//   POST    /channels/web/{site}/messages {"text","id"?}  Bearer token → 202 {"id","status"}
//   GET     /channels/web/{site}/messages?after=MS        Bearer token → {"messages","after"}
//   POST    /channels/web/{site}/poll {"token","after"}   the same for the widget
//
// The widget sends only CORS "simple requests" (POST with a text/plain JSON body carrying the
// token, no Authorization header): the stage gateway answers every preflight with its own stage
// CORS policy, which does not list the sites' origins, so a preflighted call would never reach
// the router. API clients may use application/json and Authorization: Bearer instead.
//
// Contract: a site is a public key with its allowed origins (RouterConfig::web_sites); requests
// must come from one of them (Origin header; 403 origin_not_allowed otherwise) and CORS headers
// name only that origin. Tokens are 256-bit random, stored as SHA-256 only; a token reads and
// writes only its own visitor's chat (another visitor's messages are never listed). Rate limits
// per visitor and per site (429 JSON with Retry-After). Thread safe; the referenced objects
// outlive it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <mutex>
#include <string>

#include "enkisys/core/clock.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/router/config.hpp"
#include "enkisys/router/store.hpp"

namespace enkisys::router {

struct WebOptions {
  int visitor_per_min = 20;  // messages of one visitor
  int site_per_min = 600;    // messages and new sessions of one site
  std::size_t max_text_bytes = 4000;
};

// The widget's JavaScript (widget.js).
std::string_view widget_js();

class WebApi {
 public:
  WebApi(RouterStore& store, const RouterConfig& config, core::Clock& clock,
         WebOptions options = {});
  void add_routes(core::Router& r);

 private:
  using Request = core::Request;
  using Response = core::Response;
  using Ctx = core::RequestContext;
  boost::asio::awaitable<Response> widget(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> preflight(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> create_session(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> post_message(Request& req, Ctx& ctx);
  boost::asio::awaitable<Response> list_messages(Request& req, Ctx& ctx);

  // The request's Origin when the site exists and allows it; throws the refusal otherwise.
  std::string allowed_origin(const Request& req, std::string_view site) const;
  // Counts one event for `key` in the current minute; a 429 error past `limit`.
  core::Status admit(const std::string& key, int limit);
  std::int64_t now_ms() const;

  RouterStore& store_;
  const RouterConfig& config_;
  core::Clock& clock_;
  WebOptions options_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::int64_t, int>> windows_;  // key → (minute, count); mu_
};

}  // namespace enkisys::router
