#include "enkisys/tools/url_template.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cctype>

namespace enkisys::tools {
namespace {

namespace json = boost::json;

struct Split {
  std::string_view prefix;  // scheme://authority
  std::string_view path;
  std::string_view query;  // without '?'
  bool has_query = false;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

core::Expected<Split> split(std::string_view t) {
  const auto sep = t.find("://");
  if (sep == std::string_view::npos) {
    return make_error(errc::invalid_request, "url must be an absolute http or https URL");
  }
  const std::string scheme = lower(t.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return make_error(errc::invalid_request, "url scheme must be http or https");
  }
  if (t.find('#') != std::string_view::npos) {
    return make_error(errc::invalid_request, "url must not have a fragment");
  }
  const auto auth_end = std::min(t.find_first_of("/?", sep + 3), t.size());
  Split s;
  s.prefix = t.substr(0, auth_end);
  if (s.prefix.find_first_of("{}") != std::string_view::npos) {
    return make_error(errc::invalid_request,
                      "url placeholders are only allowed in the path and query");
  }
  const auto q = t.find('?', auth_end);
  s.path = t.substr(auth_end, (q == std::string_view::npos ? t.size() : q) - auth_end);
  if (q != std::string_view::npos) {
    s.has_query = true;
    s.query = t.substr(q + 1);
  }
  return s;
}

bool valid_param_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '~' || c == '-';
  });
}

// Calls on_literal / on_param for each piece of `part`; false on malformed braces.
template <class Lit, class Par>
bool scan(std::string_view part, Lit on_literal, Par on_param) {
  std::size_t i = 0;
  while (i < part.size()) {
    const auto open = part.find_first_of("{}", i);
    if (open == std::string_view::npos) {
      on_literal(part.substr(i));
      break;
    }
    if (part[open] == '}') return false;
    const auto close = part.find_first_of("{}", open + 1);
    if (close == std::string_view::npos || part[close] == '{') return false;
    on_literal(part.substr(i, open - i));
    const auto name = part.substr(open + 1, close - open - 1);
    if (!valid_param_name(name)) return false;
    on_param(name);
    i = close + 1;
  }
  return true;
}

std::string encode(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

// Scalar argument -> text; nullopt for null/absent; error for arrays/objects.
core::Expected<std::optional<std::string>> scalar_text(const json::object& args,
                                                       std::string_view name) {
  const json::value* v = args.if_contains(name);
  if (!v || v->is_null()) return std::optional<std::string>{};
  if (v->is_string()) return std::optional<std::string>{std::string(v->get_string())};
  if (v->is_object() || v->is_array()) {
    return make_error(errc::invalid_arguments,
                      "argument '" + std::string(name) + "' must be a string, number or boolean",
                      "/" + std::string(name));
  }
  return std::optional<std::string>{json::serialize(*v)};
}

void append_query(std::string& q, std::string_view key, std::string_view value) {
  if (!q.empty()) q += '&';
  q += encode(key);
  q += '=';
  q += encode(value);
}

}  // namespace

core::Expected<UrlTemplateInfo> parse_url_template(std::string_view t) {
  if (t.size() > 2048) return make_error(errc::invalid_request, "url longer than 2048 bytes");
  auto s = split(t);
  if (!s) return s.error();
  UrlTemplateInfo info;
  std::string probe(s->prefix);
  auto lit = [&](std::string_view l) { probe += l; };
  if (!scan(s->path, lit, [&](std::string_view n) {
        info.path_params.emplace_back(n);
        probe += "x";
      })) {
    return make_error(errc::invalid_request, "url has a malformed {placeholder}");
  }
  if (s->has_query) {
    probe += '?';
    if (!scan(s->query, lit, [&](std::string_view n) {
          info.query_params.emplace_back(n);
          probe += "x";
        })) {
      return make_error(errc::invalid_request, "url has a malformed {placeholder}");
    }
  }
  auto u = boost::urls::parse_absolute_uri(probe);
  if (!u)
    return make_error(errc::invalid_request, "url is not a valid URL: " + u.error().message());
  if (u->encoded_host().empty()) return make_error(errc::invalid_request, "url must have a host");
  if (u->has_userinfo()) {
    return make_error(errc::invalid_request, "url must not contain credentials (userinfo)");
  }
  if (u->has_port() && (u->port_number() == 0)) {
    return make_error(errc::invalid_request, "url port must be 1-65535");
  }
  const std::string scheme = lower(u->scheme());
  const std::uint16_t port = u->has_port() ? u->port_number() : (scheme == "https" ? 443 : 80);
  info.origin = scheme + "://" + lower(u->encoded_host()) + ":" + std::to_string(port);
  return info;
}

namespace {
// The decoded key of a query pair "k=v" (the raw text when it is not valid percent-encoding).
std::string query_key(std::string_view pair) {
  const std::string_view raw = pair.substr(0, pair.find('='));
  auto pct = boost::urls::make_pct_string_view(raw);
  return pct ? pct->decode() : std::string(raw);
}
}  // namespace

core::Expected<ExpandedRequest> expand_request(std::string_view method,
                                               std::string_view url_template,
                                               const json::object& arguments) {
  auto info = parse_url_template(url_template);
  if (!info) return info.error();
  const auto s = *split(url_template);
  std::vector<std::string> used;
  std::string out(s.prefix);
  std::optional<Error> err;

  scan(
      s.path, [&](std::string_view l) { out += l; },
      [&](std::string_view name) {
        used.emplace_back(name);
        if (err) return;
        auto text = scalar_text(arguments, name);
        if (!text) {
          err = text.error();
        } else if (!*text) {
          err = make_error(errc::invalid_arguments,
                           "missing path parameter '" + std::string(name) + "'",
                           "/" + std::string(name));
        } else if (text->value().empty() || **text == "." || **text == "..") {
          err = make_error(
              errc::invalid_arguments,
              "path parameter '" + std::string(name) + "' must not be empty, '.' or '..'",
              "/" + std::string(name));
        } else {
          out += encode(**text);
        }
      });
  if (err) return *err;

  // Query: keep literal pairs, fill templated pairs, drop pairs whose argument is absent.
  std::string query;
  std::vector<std::string> fixed;  // keys the template's query names: extra arguments never
                                   // add a second value for them (fixed parameters win)
  std::size_t start = 0;
  while (s.has_query && start <= s.query.size()) {
    const auto amp = std::min(s.query.find('&', start), s.query.size());
    const auto pair = s.query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    fixed.push_back(query_key(pair));
    std::string filled;
    bool drop = false;
    scan(
        pair, [&](std::string_view l) { filled += l; },
        [&](std::string_view name) {
          used.emplace_back(name);
          if (err || drop) return;
          auto text = scalar_text(arguments, name);
          if (!text)
            err = text.error();
          else if (!*text)
            drop = true;
          else
            filled += encode(**text);
        });
    if (err) return *err;
    if (drop) continue;
    if (!query.empty()) query += '&';
    query += filled;
  }

  ExpandedRequest req;
  req.method = std::string(method);
  const bool has_body = method == "POST" || method == "PUT" || method == "PATCH";
  json::object body;
  for (const auto& kv : arguments) {
    if (std::find(used.begin(), used.end(), kv.key()) != used.end()) continue;
    if (!has_body && std::find(fixed.begin(), fixed.end(), kv.key()) != fixed.end()) continue;
    if (has_body) {
      body.emplace(kv.key(), kv.value());
      continue;
    }
    const auto& v = kv.value();
    if (v.is_null()) continue;
    if (v.is_string()) {
      append_query(query, kv.key(), v.get_string());
    } else if (v.is_array()) {
      for (const auto& e : v.get_array()) {
        append_query(query, kv.key(),
                     e.is_string() ? std::string(e.get_string()) : json::serialize(e));
      }
    } else {
      append_query(query, kv.key(), json::serialize(v));
    }
  }
  if (has_body) req.body = json::serialize(body);
  if (!query.empty()) out += "?" + query;

  auto parsed = boost::urls::parse_absolute_uri(out);
  if (!parsed) return make_error(errc::invalid_arguments, "arguments produce an invalid URL");
  req.url = *parsed;
  return req;
}

}  // namespace enkisys::tools
