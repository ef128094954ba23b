#include "enkisys/tools/credentials.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>

#include "enkisys/tools/url_template.hpp"

namespace enkisys::tools {

namespace json = boost::json;

bool is_public_header(std::string_view name) {
  return std::any_of(kPublicHeaders.begin(), kPublicHeaders.end(),
                     [&](std::string_view p) { return boost::beast::iequals(p, name); });
}

json::object to_masked_json(const ToolDefinition& definition) {
  json::object o = to_json(definition);
  if (auto* h = o.if_contains("http"); h && h->is_object()) {
    if (auto* headers = h->as_object().if_contains("headers"); headers && headers->is_object()) {
      for (auto& kv : headers->as_object()) {
        if (!is_public_header(kv.key())) kv.value() = kRedacted;
      }
    }
  }
  return o;
}

namespace {
std::string origin_of(const ToolDefinition& d) {
  if (!d.http) return {};
  auto info = parse_url_template(d.http->url);
  return info ? info->origin : std::string();
}
}  // namespace

core::Status keep_stored_secrets(ToolDefinition& next, const ToolDefinition* current) {
  if (!next.http) return core::ok_status();
  const HttpSpec* old = current && current->http ? &*current->http : nullptr;
  for (auto& [name, value] : next.http->headers) {
    if (value != kRedacted) continue;
    const std::string field = "/http/headers/" + name;
    auto it = old ? old->headers.find(name) : std::map<std::string, std::string>::const_iterator{};
    if (!old || it == old->headers.end()) {
      return make_error(errc::secret_required,
                        "header '" + name +
                            "' is \"***\" but no value is stored under that "
                            "name: send the value itself",
                        field);
    }
    if (origin_of(next) != origin_of(*current)) {
      return make_error(errc::secret_required,
                        "header '" + name +
                            "' is \"***\" but the url now points to another "
                            "origin (scheme, host or port): send the value again",
                        field);
    }
    value = it->second;
  }
  return core::ok_status();
}

std::vector<std::string> changed_fields(const ToolDefinition* before, const ToolDefinition& after) {
  static const ToolDefinition kEmpty;
  const ToolDefinition& b = before ? *before : kEmpty;
  std::vector<std::string> out;
  if (!before || b.kind != after.kind) out.emplace_back("kind");
  if (b.description != after.description) out.emplace_back("description");
  if (!before || b.parameters != after.parameters) out.emplace_back("parameters");
  static const HttpSpec kNoHttp;
  const HttpSpec& bh = b.http ? *b.http : kNoHttp;
  if (!after.http && !b.http) return out;
  const HttpSpec& ah = after.http ? *after.http : kNoHttp;
  if (!b.http || !after.http || bh.method != ah.method) out.emplace_back("http.method");
  if (bh.url != ah.url) out.emplace_back("http.url");
  if (bh.timeout_ms != ah.timeout_ms) out.emplace_back("http.timeout_ms");
  if (bh.max_response_bytes != ah.max_response_bytes) out.emplace_back("http.max_response_bytes");
  for (const auto& [name, value] : ah.headers) {
    auto it = bh.headers.find(name);
    if (it == bh.headers.end() || it->second != value) out.push_back("http.headers." + name);
  }
  for (const auto& [name, value] : bh.headers) {
    if (!ah.headers.count(name)) out.push_back("http.headers." + name);
  }
  return out;
}

}  // namespace enkisys::tools
