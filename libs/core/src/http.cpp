#include "enkisys/core/http.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>

#include "enkisys/core/utf8.hpp"

namespace enkisys::core {

namespace json = boost::json;

Response json_response(http::status status, const json::value& body, unsigned version,
                       bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

Response error_response(http::status status, std::string_view code, std::string_view message,
                        std::string_view request_id, unsigned version, bool keep_alive,
                        const json::value& details) {
  // Messages may quote client input: the answer stays valid UTF-8 whatever the input was.
  json::object err{{"code", code}, {"message", to_valid_utf8(message)}, {"request_id", request_id}};
  if (details.is_object()) {
    for (const auto& kv : details.as_object()) err[kv.key()] = kv.value();
  }
  Response res =
      json_response(status, json::object{{"error", std::move(err)}}, version, keep_alive);
  if (!request_id.empty()) res.set("X-Request-Id", request_id);
  return res;
}

ApiError::ApiError(const Error& e)
    : std::runtime_error(e.message),
      status_(static_cast<http::status>(http_status_of(e.kind))),
      code_(e.code_or_default()),
      details_(e.field.empty() ? json::value(nullptr)
                               : json::value(json::object{{"path", e.field}})),
      retry_after_s_(e.retry_after_s) {}

Response error_response(const ApiError& e, std::string_view request_id, unsigned version,
                        bool keep_alive) {
  Response res =
      error_response(e.status(), e.code(), e.what(), request_id, version, keep_alive, e.details());
  if (e.retry_after_s() > 0) res.set(http::field::retry_after, std::to_string(e.retry_after_s()));
  return res;
}

Response error_response(const Error& e, std::string_view request_id, unsigned version,
                        bool keep_alive) {
  return error_response(ApiError(e), request_id, version, keep_alive);
}

json::object parse_json_object(const Request& req) {
  const auto ct = req[http::field::content_type];
  if (!ct.empty()) {
    const auto semi = ct.find(';');
    std::string media(ct.substr(0, semi));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    for (auto& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (media != "application/json" && !(media.size() > 5 && media.ends_with("+json"))) {
      throw ApiError(http::status::unsupported_media_type, "unsupported_media_type",
                     "request body must be application/json");
    }
  }
  if (req.body().empty()) {
    throw ApiError(http::status::bad_request, "invalid_json", "request body is empty");
  }
  json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code ec;
  json::value v = json::parse(req.body(), ec, {}, opts);
  if (ec) {
    throw ApiError(http::status::bad_request, "invalid_json",
                   "request body is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) {
    throw ApiError(http::status::bad_request, "invalid_request",
                   "request body must be a JSON object");
  }
  return std::move(v.as_object());
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_component(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
        throw ApiError(http::status::bad_request, "invalid_query",
                       "malformed percent-escape in query");
      }
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}
}  // namespace

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    out[decode_component(pair.substr(0, eq))] =
        eq == std::string_view::npos ? std::string{} : decode_component(pair.substr(eq + 1));
  }
  return out;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  std::uint64_t a = rng(), b = rng();
  for (std::size_t i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (i * 4)) & 0xF];
    id[16 + i] = kHex[(b >> (i * 4)) & 0xF];
  }
  return id;
}

}  // namespace enkisys::core
