// Method + path router with `{param}` segments. 404 for an unknown path, 405 with `Allow` when
// the path exists under other methods. Matching is by whole segments; a literal segment wins
// over a parameter at the same depth. Paths are matched on the decoded target path without the
// query string; parameters are percent-decoded.
//
// Contract: routes are added at wiring time (not thread-safe); match() is const and thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
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

struct PathParams {
  std::vector<std::pair<std::string, std::string>> values;
  // Returns the parameter or an empty view if absent.
  std::string_view get(std::string_view name) const;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
  const Handler* handler = nullptr;
  std::string pattern;  // e.g. "/api/tools/{name}" — used as the metrics label
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
  void add(http::verb method, std::string_view pattern, Handler handler);

  RouteMatch match(http::verb method, std::string_view path) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace enkisys::core
