// URL templates of http tools: `https://api.example.com/v1/items/{id}?fields={fields}`.
//
// Contract
// * A template is an absolute http/https URL without userinfo or fragment. Placeholders
//   `{name}` (name: 1-64 of [A-Za-z0-9_.~-]) may appear only in the path and the query, never
//   in scheme, host or port, so argument values can never redirect a request to another host.
//   Well-formedness is checked with Boost.URL after substituting every placeholder.
// * expand_request() substitutes arguments with percent-encoding of everything outside the
//   RFC 3986 unreserved set: a value containing '/', '?', '#', '%' or '&' cannot change the
//   path structure or add query parameters. A path value that is empty, "." or ".." is refused.
//   A query pair whose placeholder argument is absent or null is dropped; a missing path
//   argument is an error. Arguments not used by a placeholder go to the query string for GET and
//   DELETE, or into a JSON object body for POST, PUT and PATCH. The template's own query
//   parameters are fixed: an extra argument of the same name (`?q={p}` + argument `q`, or
//   `?v=2` + argument `v`) is dropped, never added as a second value.
// * Pure functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/url/url.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/tools/errors.hpp"

namespace enkisys::tools {

struct UrlTemplateInfo {
  std::vector<std::string> path_params;   // in order of appearance
  std::vector<std::string> query_params;  // placeholders in the query
  std::string origin;  // "scheme://host:port", lower case, default port filled in
};

// Error code invalid_request, field "" (callers prefix their own pointer).
core::Expected<UrlTemplateInfo> parse_url_template(std::string_view url_template);

struct ExpandedRequest {
  std::string method;
  boost::urls::url url;             // absolute; host and port exactly as in the template
  std::optional<std::string> body;  // serialized JSON object for POST/PUT/PATCH
};

// REQUIRES: method is one of GET POST PUT PATCH DELETE.
// Errors: invalid_arguments (missing/invalid argument values), invalid_request (bad template).
core::Expected<ExpandedRequest> expand_request(std::string_view method,
                                               std::string_view url_template,
                                               const boost::json::object& arguments);

}  // namespace enkisys::tools
