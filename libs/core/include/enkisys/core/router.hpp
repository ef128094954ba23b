// Method + path router with `{param}` segments. 404 for an unknown path, 405 with `Allow` when
// the path exists under other methods. Matching is by whole segments; a literal segment wins
// over a parameter at the same depth. Paths are matched on the decoded target path without the
// query string; parameters are percent-decoded.
//
// Contract: routes are added at wiring time (not thread-safe); match() is const and thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enkisys/core/http.hpp"

namespace enkisys::core {

class RequestContext;
using Handler = std::function<boost::asio::awaitable<Response>(Request&, RequestContext&)>;

// A Handler calling a member function of `self` (which must outlive the router's use):
// r.add(verb, "/api/x", core::member_handler(this, &XApi::get)).
template <class T>
Handler member_handler(T* self,
                       boost::asio::awaitable<Response> (T::*method)(Request&, RequestContext&)) {
  return [self, method](Request& req, RequestContext& ctx) { return (self->*method)(req, ctx); };
}

struct PathParams {
  std::vector<std::pair<std::string, std::string>> values;
  // Returns the parameter or an empty view if absent.
  std::string_view get(std::string_view name) const;
};

// Per-route options (all default to the ordinary buffered request).
struct RouteOptions {
  // When true the body is not read before dispatch: the handler pulls it with
  // RequestContext::body() (see stream.hpp), under `max_body_bytes` instead of the server's
  // ServerOptions::max_body_bytes. Content-Length above the cap → 413 before dispatch.
  bool stream_body = false;
  // Cap of a streamed body; 0: the server's max_body_bytes. Ignored without stream_body.
  std::uint64_t max_body_bytes = 0;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
  const Handler* handler = nullptr;
  const RouteOptions* options = nullptr;  // set with handler (kFound)
  std::string pattern;                    // e.g. "/api/tools/{name}" — used as the metrics label
  PathParams params;
  std::string allow;  // for 405: "GET, POST"
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // REQUIRES: pattern starts with '/'; each `{name}` is a whole segment.
  void add(http::verb method, std::string_view pattern, Handler handler, RouteOptions options = {});

  RouteMatch match(http::verb method, std::string_view path) const;

  // Largest max_body_bytes of the stream_body routes (0 when there is none). The server reads
  // request headers under max(this, its own max_body_bytes).
  std::uint64_t max_stream_body_bytes() const { return max_stream_body_; }

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::uint64_t max_stream_body_ = 0;
};

}  // namespace enkisys::core
