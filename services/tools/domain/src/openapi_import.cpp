#include "enkisys/tools/openapi_import.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <set>

namespace enkisys::tools {
namespace {

namespace json = boost::json;

constexpr std::string_view kSchemasPrefix = "#/components/schemas/";
constexpr int kMaxSchemaDepth = 64;
constexpr std::size_t kMaxDefs = 1000;

std::string sanitize_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    const char x = ok ? c : '_';
    if (x == '_' && (out.empty() || out.back() == '_')) continue;
    out += x;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

std::string cut_code_points(std::string_view s, std::size_t max) {
  std::size_t n = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && n++ == max) break;
  }
  return std::string(s.substr(0, i));
}

bool valid_placeholder(std::string_view n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '~' || c == '-';
  });
}

std::string unescape_token(std::string_view t) {
  std::string out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '~' && i + 1 < t.size() && (t[i + 1] == '0' || t[i + 1] == '1')) {
      out += t[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += t[i];
    }
  }
  return out;
}

std::string escape_token(std::string_view t) {
  std::string out;
  for (char c : t)
    out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return out;
}

class Importer {
 public:
  explicit Importer(const json::value& doc) : doc_(doc) {}

  // Follows $ref chains of Parameter / Request Body objects.
  core::Expected<const json::value*> deref(const json::value& v) {
    const json::value* cur = &v;
    for (int i = 0; i < 8; ++i) {
      const auto* o = cur->if_object();
      const auto* ref = o ? o->if_contains("$ref") : nullptr;
      if (!ref) return cur;
      if (!ref->is_string() || !ref->get_string().starts_with("#/")) {
        return make_error(errc::invalid_request, "only local $ref are supported");
      }
      std::error_code ec;
      cur = doc_.find_pointer(std::string_view(ref->get_string()).substr(1), ec);
      if (!cur)
        return make_error(errc::invalid_request,
                          "unresolvable $ref '" + std::string(ref->get_string()) + "'");
    }
    return make_error(errc::invalid_request, "$ref chain too long");
  }

  // Rewrites an OpenAPI schema into a standalone JSON Schema (components -> $defs).
  core::Expected<json::value> convert(const json::value& v, int depth) {
    if (depth > kMaxSchemaDepth)
      return make_error(errc::invalid_request, "schema nesting too deep (recursive $ref?)");
    if (const auto* a = v.if_array()) {
      json::array out;
      for (const auto& e : *a) {
        auto c = convert(e, depth + 1);
        if (!c) return c.error();
        out.push_back(std::move(*c));
      }
      return json::value(std::move(out));
    }
    const auto* o = v.if_object();
    if (!o) return v;
    if (const auto* ref = o->if_contains("$ref")) {
      if (!ref->is_string()) return make_error(errc::invalid_request, "$ref must be a string");
      const std::string_view r = ref->get_string();
      if (r.starts_with(kSchemasPrefix) &&
          r.find('/', kSchemasPrefix.size()) == std::string_view::npos) {
        const std::string name = unescape_token(r.substr(kSchemasPrefix.size()));
        if (needed_.insert(name).second) queue_.push_back(name);
        return json::value(json::object{{"$ref", "#/$defs/" + escape_token(name)}});
      }
      if (!r.starts_with("#/"))
        return make_error(errc::invalid_request,
                          "remote $ref '" + std::string(r) + "' is not supported");
      std::error_code ec;
      const json::value* target = doc_.find_pointer(r.substr(1), ec);
      if (!target)
        return make_error(errc::invalid_request, "unresolvable $ref '" + std::string(r) + "'");
      return convert(*target, depth + 1);
    }
    json::object out;
    for (const auto& kv : *o) {
      const std::string_view k = kv.key();
      if (k == "nullable" || k == "example" || k == "xml" || k == "externalDocs" ||
          k == "discriminator")
        continue;
      if (k == "enum" || k == "const" || k == "default" || k == "examples") {
        out[k] = kv.value();
        continue;
      }
      if ((k == "exclusiveMinimum" || k == "exclusiveMaximum") && kv.value().is_bool()) continue;
      auto c = convert(kv.value(), depth + 1);
      if (!c) return c.error();
      out[k] = std::move(*c);
    }
    // OpenAPI 3.0 dialect -> JSON Schema.
    for (auto [flag, bound] :
         {std::pair{"exclusiveMinimum", "minimum"}, std::pair{"exclusiveMaximum", "maximum"}}) {
      const auto* f = o->if_contains(flag);
      if (f && f->is_bool() && f->get_bool() && out.contains(bound)) {
        out[flag] = out[bound];
        out.erase(bound);
      }
    }
    const auto* nullable = o->if_contains("nullable");
    if (nullable && nullable->is_bool() && nullable->get_bool()) {
      if (auto* t = out.if_contains("type"); t && t->is_string()) *t = json::array{*t, "null"};
    }
    return json::value(std::move(out));
  }

  // Builds $defs for every components schema referenced so far (transitively).
  core::Expected<json::object> defs() {
    json::object out;
    const auto* comps = doc_.as_object().if_contains("components");
    const auto* schemas =
        comps && comps->is_object() ? comps->get_object().if_contains("schemas") : nullptr;
    while (!queue_.empty()) {
      const std::string name = queue_.front();
      queue_.pop_front();
      if (out.size() >= kMaxDefs)
        return make_error(errc::invalid_request, "too many referenced schemas");
      const json::value* target =
          schemas && schemas->is_object() ? schemas->get_object().if_contains(name) : nullptr;
      if (!target)
        return make_error(errc::invalid_request,
                          "unresolvable $ref '#/components/schemas/" + name + "'");
      auto c = convert(*target, 1);
      if (!c) return c.error();
      out[name] = std::move(*c);
    }
    return out;
  }

  void reset() {
    needed_.clear();
    queue_.clear();
  }

 private:
  const json::value& doc_;
  std::set<std::string> needed_;
  std::deque<std::string> queue_;
};

core::Expected<std::string> base_url(const json::object& doc, const OpenApiImportOptions& opts) {
  std::string url = opts.base_url;
  if (url.empty()) {
    const auto* servers = doc.if_contains("servers");
    const auto* first = servers && servers->is_array() && !servers->get_array().empty()
                            ? servers->get_array()[0].if_object()
                            : nullptr;
    const auto* u = first ? first->if_contains("url") : nullptr;
    if (!u || !u->is_string()) {
      return make_error(errc::invalid_request, "servers[0].url is missing; pass a base URL",
                        "/servers");
    }
    url = std::string(u->get_string());
    const auto* vars = first->if_contains("variables");
    for (std::size_t open; (open = url.find('{')) != std::string::npos;) {
      const auto close = url.find('}', open);
      if (close == std::string::npos) break;
      const std::string name = url.substr(open + 1, close - open - 1);
      const auto* var = vars && vars->is_object() ? vars->get_object().if_contains(name) : nullptr;
      const auto* def =
          var && var->is_object() ? var->get_object().if_contains("default") : nullptr;
      if (!def || !def->is_string()) {
        return make_error(errc::invalid_request, "server variable '" + name + "' has no default",
                          "/servers/0/url");
      }
      url.replace(open, close - open + 1, std::string(def->get_string()));
    }
  }
  std::string lower = url;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
    return make_error(errc::invalid_request,
                      "base URL '" + url + "' is not an absolute http(s) URL", "/servers/0/url");
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

struct Operation {
  std::string method;  // lower case
  std::string path;
  const json::object* op;
  const json::object* path_item;
};

// Builds the tool JSON for one operation; a string error means "skip with this reason".
core::Expected<json::object> build(Importer& imp, const Operation& o, const std::string& base,
                                   const std::string& name) {
  json::object props;
  json::array required;
  std::vector<std::string> query;
  std::vector<std::pair<std::string, std::string>> seen;  // (in, name)
  for (const auto* holder : {o.op, o.path_item}) {        // operation-level parameters win
    const auto* params = holder->if_contains("parameters");
    if (!params) continue;
    if (!params->is_array())
      return make_error(errc::invalid_request, "parameters must be an array");
    for (const auto& raw : params->get_array()) {
      auto p = imp.deref(raw);
      if (!p) return p.error();
      const auto* po = (*p)->if_object();
      const auto* pn = po ? po->if_contains("name") : nullptr;
      const auto* pin = po ? po->if_contains("in") : nullptr;
      if (!pn || !pn->is_string() || !pin || !pin->is_string()) {
        return make_error(errc::invalid_request, "parameter without name/in");
      }
      const std::string pname(pn->get_string()), where(pin->get_string());
      if (where != "path" && where != "query") continue;  // header/cookie inputs are not exposed
      if (std::find(seen.begin(), seen.end(), std::pair{where, pname}) != seen.end()) continue;
      seen.emplace_back(where, pname);
      if (!valid_placeholder(pname))
        return make_error(errc::invalid_request, "unsupported parameter name '" + pname + "'");
      if (props.contains(pname))
        return make_error(errc::invalid_request, "parameter '" + pname + "' appears twice");
      json::value schema = json::object{{"type", "string"}};
      if (const auto* s = po->if_contains("schema")) {
        auto c = imp.convert(*s, 1);
        if (!c) return c.error();
        schema = std::move(*c);
      }
      if (const auto* d = po->if_contains("description");
          d && d->is_string() && schema.is_object() &&
          !schema.get_object().contains("description")) {
        schema.get_object()["description"] = *d;
      }
      props[pname] = std::move(schema);
      const auto* req = po->if_contains("required");
      if (where == "path" || (req && req->is_bool() && req->get_bool()))
        required.emplace_back(pname);
      if (where == "query") query.push_back(pname);
    }
  }
  // Path placeholders not declared as parameters become required strings.
  for (std::size_t open = o.path.find('{'); open != std::string::npos;
       open = o.path.find('{', open + 1)) {
    const auto close = o.path.find('}', open);
    if (close == std::string::npos) break;
    const std::string pname = o.path.substr(open + 1, close - open - 1);
    if (!valid_placeholder(pname))
      return make_error(errc::invalid_request, "unsupported path parameter '" + pname + "'");
    if (!props.contains(pname)) {
      props[pname] = json::object{{"type", "string"}};
      required.emplace_back(pname);
    }
  }
  if (const auto* rb = o.op->if_contains("requestBody")) {
    auto body = imp.deref(*rb);
    if (!body) return body.error();
    const auto* bo = (*body)->if_object();
    const auto* content = bo ? bo->if_contains("content") : nullptr;
    const json::value* schema = nullptr;
    if (content && content->is_object()) {
      for (const auto& kv : content->get_object()) {
        const std::string_view mt = kv.key();
        if ((mt == "application/json" || mt.ends_with("+json")) && kv.value().is_object()) {
          schema = kv.value().get_object().if_contains("schema");
          break;
        }
      }
    }
    if (!schema) return make_error(errc::invalid_request, "request body is not JSON");
    auto raw = imp.deref(*schema);
    if (!raw) return raw.error();
    const auto* so = (*raw)->if_object();
    const auto* type = so ? so->if_contains("type") : nullptr;
    const auto* bprops = so ? so->if_contains("properties") : nullptr;
    if (!so || (type && (!type->is_string() || type->get_string() != "object")) || !bprops ||
        !bprops->is_object()) {
      return make_error(errc::invalid_request, "request body is not a JSON object schema");
    }
    const auto* breq = bo->if_contains("required");
    const bool body_required = breq && breq->is_bool() && breq->get_bool();
    for (const auto& kv : bprops->get_object()) {
      if (props.contains(kv.key())) {
        return make_error(errc::invalid_request,
                          "body property '" + std::string(kv.key()) + "' clashes with a parameter");
      }
      auto c = imp.convert(kv.value(), 2);
      if (!c) return c.error();
      props[kv.key()] = std::move(*c);
    }
    if (const auto* r = so->if_contains("required"); r && r->is_array() && body_required) {
      for (const auto& e : r->get_array()) required.push_back(e);
    }
  }
  json::object parameters{{"type", "object"}, {"properties", std::move(props)}};
  if (!required.empty()) parameters["required"] = std::move(required);
  auto defs = imp.defs();
  if (!defs) return defs.error();
  if (!defs->empty()) parameters["$defs"] = std::move(*defs);

  std::string url = base + o.path;
  for (std::size_t i = 0; i < query.size(); ++i)
    url += (i == 0 ? "?" : "&") + query[i] + "={" + query[i] + "}";
  std::string description;
  for (const char* key : {"summary", "description"}) {
    const auto* d = o.op->if_contains(key);
    if (d && d->is_string() && !d->get_string().empty()) {
      description = cut_code_points(d->get_string(), kMaxDescriptionLength);
      break;
    }
  }
  std::string method = o.method;
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return json::object{{"name", name},
                      {"description", description},
                      {"kind", "http"},
                      {"parameters", std::move(parameters)},
                      {"http", json::object{{"method", method}, {"url", url}}}};
}

std::string unique_name(std::string base, std::set<std::string>& used) {
  if (base.empty()) base = "operation";
  base = base.substr(0, kMaxNameLength);
  std::string name = base;
  for (int i = 2; used.count(name); ++i) {
    const std::string suffix = "_" + std::to_string(i);
    name = base.substr(0, kMaxNameLength - suffix.size()) + suffix;
  }
  used.insert(name);
  return name;
}

}  // namespace

core::Expected<ImportResult> import_openapi(const json::value& document,
                                            const OpenApiImportOptions& options) {
  const auto* doc = document.if_object();
  if (!doc) return make_error(errc::invalid_request, "OpenAPI document must be a JSON object");
  if (doc->contains("swagger")) {
    return make_error(errc::invalid_request,
                      "Swagger 2.0 documents are not supported; convert to OpenAPI 3", "/swagger");
  }
  const auto* version = doc->if_contains("openapi");
  if (!version || !version->is_string() || !version->get_string().starts_with("3.")) {
    return make_error(errc::invalid_request,
                      "not an OpenAPI 3.x document (\"openapi\": \"3.x.y\" expected)", "/openapi");
  }
  const auto* paths = doc->if_contains("paths");
  if (!paths || !paths->is_object())
    return make_error(errc::invalid_request, "`paths` must be an object", "/paths");
  auto base = base_url(*doc, options);
  if (!base) return base.error();

  ImportResult result;
  std::set<std::string> used;
  std::size_t count = 0;
  Importer imp(document);
  for (const auto& pkv : paths->get_object()) {
    const std::string path(pkv.key());
    const auto* item = pkv.value().if_object();
    if (!item) continue;
    for (const char* method : {"get", "post", "put", "patch", "delete"}) {
      const auto* op = item->if_contains(method);
      if (!op || !op->is_object()) continue;
      if (++count > options.max_operations) {
        return make_error(errc::invalid_request,
                          "more than " + std::to_string(options.max_operations) + " operations",
                          "/paths");
      }
      std::string label = method;
      std::transform(label.begin(), label.end(), label.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      label += " " + path;
      if (!path.starts_with("/")) {
        result.skipped.push_back(label + ": path must start with '/'");
        continue;
      }
      const auto* op_id = op->get_object().if_contains("operationId");
      std::string base_name = op_id && op_id->is_string() ? sanitize_name(op_id->get_string()) : "";
      if (base_name.empty()) base_name = sanitize_name(std::string(method) + "_" + path);
      imp.reset();
      auto tool = build(imp, Operation{method, path, &op->get_object(), item}, *base,
                        unique_name(sanitize_name(options.name_prefix + base_name), used));
      if (!tool) {
        result.skipped.push_back(label + ": " + tool.error().message);
        continue;
      }
      auto def = parse_tool_definition(*tool);
      if (!def) {
        result.skipped.push_back(label + ": " + def.error().message + " at " + def.error().field);
        continue;
      }
      result.tools.push_back(std::move(*def));
    }
  }
  return result;
}

}  // namespace enkisys::tools
