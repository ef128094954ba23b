#include "enkisys/tools/tool_definition.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "enkisys/tools/url_template.hpp"

namespace enkisys::tools {
namespace {

namespace json = boost::json;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Error bad(std::string message, std::string field) {
  return make_error(errc::invalid_request, std::move(message), std::move(field));
}

std::optional<Error> only_known(const json::object& o,
                                std::initializer_list<std::string_view> known,
                                const std::string& prefix) {
  for (const auto& kv : o) {
    if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
      return bad("unknown field '" + std::string(kv.key()) + "'",
                 prefix + "/" + std::string(kv.key()));
    }
  }
  return std::nullopt;
}

// Non-negative integer within [lo, hi] (integral doubles accepted).
std::optional<std::uint64_t> bounded(const json::value& v, std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t n = 0;
  if (v.is_int64() && v.get_int64() >= 0)
    n = static_cast<std::uint64_t>(v.get_int64());
  else if (v.is_uint64())
    n = v.get_uint64();
  else if (v.is_double() && v.get_double() >= 0 && v.get_double() <= 1e12 &&
           v.get_double() == static_cast<double>(static_cast<std::uint64_t>(v.get_double())))
    n = static_cast<std::uint64_t>(v.get_double());
  else
    return std::nullopt;
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && s.size() <= 256 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || kExtra.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

constexpr std::array<std::string_view, 11> kRefusedHeaders = {"connection",
                                                              "keep-alive",
                                                              "proxy-authenticate",
                                                              "proxy-authorization",
                                                              "proxy-connection",
                                                              "te",
                                                              "trailer",
                                                              "transfer-encoding",
                                                              "upgrade",
                                                              "host",
                                                              "content-length"};

core::Expected<HttpSpec> parse_http(const json::value& v, const json::object& parameters) {
  if (!v.is_object()) return bad("must be an object", "/http");
  const auto& o = v.get_object();
  if (auto e = only_known(o, {"method", "url", "headers", "timeout_ms", "max_response_bytes"},
                          "/http")) {
    return *e;
  }
  HttpSpec spec;
  const auto* method = o.if_contains("method");
  if (!method || !method->is_string())
    return bad("method is required and must be a string", "/http/method");
  spec.method = std::string(method->get_string());
  if (spec.method != "GET" && spec.method != "POST" && spec.method != "PUT" &&
      spec.method != "PATCH" && spec.method != "DELETE") {
    return bad("method must be one of GET, POST, PUT, PATCH, DELETE", "/http/method");
  }
  const auto* url = o.if_contains("url");
  if (!url || !url->is_string()) return bad("url is required and must be a string", "/http/url");
  spec.url = std::string(url->get_string());
  auto info = parse_url_template(spec.url);
  if (!info) return bad(info.error().message, "/http/url");
  const auto* props = parameters.if_contains("properties");
  for (const auto* names : {&info->path_params, &info->query_params}) {
    for (const auto& n : *names) {
      if (!props || !props->is_object() || !props->get_object().contains(n)) {
        return bad("url placeholder {" + n + "} is not a property of parameters", "/http/url");
      }
    }
  }
  if (const auto* h = o.if_contains("headers")) {
    if (!h->is_object()) return bad("must be an object of strings", "/http/headers");
    if (h->get_object().size() > 32) return bad("at most 32 headers", "/http/headers");
    std::vector<std::string> seen;
    for (const auto& kv : h->get_object()) {
      const std::string field = "/http/headers/" + std::string(kv.key());
      if (!is_token(kv.key())) return bad("invalid header name", field);
      const std::string name = lower(kv.key());
      if (std::find(kRefusedHeaders.begin(), kRefusedHeaders.end(), name) !=
          kRefusedHeaders.end()) {
        return bad("header '" + std::string(kv.key()) + "' is managed by the HTTP client", field);
      }
      if (std::find(seen.begin(), seen.end(), name) != seen.end())
        return bad("duplicate header", field);
      seen.push_back(name);
      if (!kv.value().is_string()) return bad("header values must be strings", field);
      const std::string_view value = kv.value().get_string();
      if (value.size() > 8192 ||
          value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        return bad("header value must not contain CR, LF or NUL (max 8192 bytes)", field);
      }
      spec.headers.emplace(std::string(kv.key()), std::string(value));
    }
  }
  if (const auto* t = o.if_contains("timeout_ms")) {
    auto n = bounded(*t, 1, kMaxTimeoutMs);
    if (!n) return bad("timeout_ms must be an integer 1..60000", "/http/timeout_ms");
    spec.timeout_ms = static_cast<std::uint32_t>(*n);
  }
  if (const auto* m = o.if_contains("max_response_bytes")) {
    auto n = bounded(*m, 1, kMaxResponseBytesLimit);
    if (!n)
      return bad("max_response_bytes must be an integer 1..10485760", "/http/max_response_bytes");
    spec.max_response_bytes = *n;
  }
  return spec;
}

}  // namespace

std::string_view to_string(ToolKind kind) {
  return kind == ToolKind::http ? "http" : "builtin";
}

bool is_valid_tool_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
}

core::Expected<ToolDefinition> parse_tool_definition(const json::value& input) {
  if (!input.is_object()) return bad("tool definition must be a JSON object", "");
  const auto& o = input.get_object();
  if (auto e = only_known(o, {"name", "description", "parameters", "kind", "http"}, "")) return *e;
  ToolDefinition d;
  const auto* name = o.if_contains("name");
  if (!name || !name->is_string()) return bad("name is required and must be a string", "/name");
  if (!is_valid_tool_name(name->get_string())) {
    return bad("name must match ^[a-zA-Z0-9_-]{1,64}$", "/name");
  }
  d.name = std::string(name->get_string());
  if (const auto* desc = o.if_contains("description")) {
    if (!desc->is_string()) return bad("description must be a string", "/description");
    if (code_points(desc->get_string()) > kMaxDescriptionLength) {
      return bad("description longer than 1024 characters", "/description");
    }
    d.description = std::string(desc->get_string());
  }
  const auto* kind = o.if_contains("kind");
  if (!kind || !kind->is_string() ||
      (kind->get_string() != "builtin" && kind->get_string() != "http")) {
    return bad("kind is required and must be \"builtin\" or \"http\"", "/kind");
  }
  d.kind = kind->get_string() == "http" ? ToolKind::http : ToolKind::builtin;
  if (const auto* p = o.if_contains("parameters")) {
    if (!p->is_object())
      return make_error(errc::invalid_schema, "parameters must be an object schema", "/parameters");
    d.parameters = p->get_object();
  } else {
    d.parameters = json::object{{"type", "object"}, {"properties", json::object{}}};
  }
  const auto* type = d.parameters.if_contains("type");
  if (!type || !type->is_string() || type->get_string() != "object") {
    return make_error(errc::invalid_schema,
                      "parameters must be an object schema (\"type\":\"object\")",
                      "/parameters/type");
  }
  auto compiled = schema::Schema::compile(d.parameters);
  if (!compiled.ok()) {
    return make_error(errc::invalid_schema,
                      "parameters is not a valid JSON Schema: " + compiled.error().message,
                      "/parameters" + compiled.error().pointer);
  }
  d.parameters_schema = *compiled;
  const auto* http = o.if_contains("http");
  if (d.kind == ToolKind::http) {
    if (!http) return bad("http is required when kind is \"http\"", "/http");
    auto spec = parse_http(*http, d.parameters);
    if (!spec) return spec.error();
    d.http = std::move(*spec);
  } else if (http) {
    return bad("http is only allowed when kind is \"http\"", "/http");
  }
  return d;
}

json::object to_json(const ToolDefinition& d) {
  json::object o;
  o["name"] = d.name;
  o["description"] = d.description;
  o["parameters"] = d.parameters;
  o["kind"] = to_string(d.kind);
  if (d.http) {
    json::object headers;
    for (const auto& [k, v] : d.http->headers) headers[k] = v;
    o["http"] = json::object{{"method", d.http->method},
                             {"url", d.http->url},
                             {"headers", std::move(headers)},
                             {"timeout_ms", d.http->timeout_ms},
                             {"max_response_bytes", d.http->max_response_bytes}};
  }
  return o;
}

json::object to_openai(const ToolDefinition& d) {
  return json::object{{"type", "function"},
                      {"function", json::object{{"name", d.name},
                                                {"description", d.description},
                                                {"parameters", d.parameters}}}};
}

std::optional<Error> check_arguments(const ToolDefinition& d, const json::value& arguments) {
  if (!arguments.is_object())
    return make_error(errc::invalid_arguments, "arguments must be a JSON object");
  schema::ValidateOptions opts;
  opts.max_errors = 5;
  const auto errors = d.parameters_schema.validate(arguments, opts);
  if (errors.empty()) return std::nullopt;
  std::string message;
  for (const auto& e : errors) {
    if (!message.empty()) message += "; ";
    message += e.to_string();
  }
  return make_error(errc::invalid_arguments, message, errors.front().instance_path);
}

}  // namespace enkisys::tools
