#include "enkisys/frontend/static_site.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "enkisys/core/server.hpp"
#include "enkisys/core/stage.hpp"

namespace enkisys::frontend {

namespace fs = std::filesystem;
namespace http = core::http;

namespace {

constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// q-value of one Accept-Encoding element ("gzip;q=0.5"); 1 when absent, -1 when malformed.
double q_of(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      p.remove_prefix(2);
      double q = 0;
      std::istringstream in{std::string(p)};
      if (!(in >> q) || q < 0 || q > 1) return -1;
      return q;
    }
  }
  return 1;
}

std::string_view extension_of(std::string_view name) {
  const auto slash = name.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? name : name.substr(slash + 1);
  const auto dot = last.rfind('.');
  return dot == std::string_view::npos || dot == 0 ? std::string_view{} : last.substr(dot + 1);
}

core::Response not_found(std::string_view request_id, unsigned version) {
  auto res = core::error_response(
      core::make_error(core::ErrorKind::kNotFound, "not_found", "no such file", ""), request_id,
      version);
  add_security_headers(res);
  return res;
}

}  // namespace

Encoding negotiate_encoding(std::string_view accept_encoding, bool have_br, bool have_gzip) {
  double q_br = -1, q_gzip = -1, q_identity = -1, q_star = -1;
  std::string_view rest = accept_encoding;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1.0 : q_of(item.substr(semi + 1));
    if (q < 0) continue;  // malformed element: ignored
    if (iequals(coding, "br"))
      q_br = q;
    else if (iequals(coding, "gzip") || iequals(coding, "x-gzip"))
      q_gzip = q;
    else if (iequals(coding, "identity"))
      q_identity = q;
    else if (coding == "*")
      q_star = q;
  }
  if (q_br < 0) q_br = q_star < 0 ? 0 : q_star;
  if (q_gzip < 0) q_gzip = q_star < 0 ? 0 : q_star;
  // identity not named: acceptable, but only as the fallback (any acceptable coding wins).
  if (q_identity < 0) q_identity = q_star == 0 ? 0 : 0.001;
  Encoding best = Encoding::kIdentity;
  double best_q = q_identity;
  if (have_gzip && q_gzip > 0 && q_gzip >= best_q) best = Encoding::kGzip, best_q = q_gzip;
  if (have_br && q_br > 0 && q_br >= best_q) best = Encoding::kBrotli;
  return best;
}

std::string_view content_type_for(std::string_view ext) {
  static const std::map<std::string_view, std::string_view, std::less<>> kTypes = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff2", "font/woff2"},
      {"txt", "text/plain; charset=utf-8"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
  };
  const auto it = kTypes.find(ext);
  return it == kTypes.end() ? std::string_view{"application/octet-stream"} : it->second;
}

bool is_hashed_asset(std::string_view path) {
  if (!path.starts_with("assets/")) return false;
  const auto slash = path.rfind('/');
  std::string_view name = path.substr(slash + 1);
  const auto dot = name.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view stem = name.substr(0, dot);
  const auto dash = stem.rfind('-');
  if (dash == std::string_view::npos) return false;
  const std::string_view hash = stem.substr(dash + 1);
  if (hash.size() < 8 || hash.size() > 64) return false;
  // A hex hash (the web build's: Rollup's hashCharacters "hex") may hold no digit at all;
  // any other alphabet needs one, so that a word ("app-settings.js") is not taken for a hash.
  bool digit = false, hex = true;
  for (const char c : hash) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digit = true;
    } else if (std::isalpha(static_cast<unsigned char>(c)) == 0 && c != '_') {
      return false;
    }
    hex = hex && std::isxdigit(static_cast<unsigned char>(c)) != 0 &&
          std::isupper(static_cast<unsigned char>(c)) == 0;
  }
  return digit || hex;
}

std::string_view cache_control_for(std::string_view path) {
  return is_hashed_asset(path) ? "public, max-age=31536000, immutable" : "no-cache";
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  std::string_view rest = if_none_match;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view tag = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

std::string rewrite_base_href(std::string_view html, std::string_view prefix) {
  static constexpr std::string_view kTag = "<base href=\"/\">";
  std::string out(html);
  const auto at = out.find(kTag);
  if (at == std::string::npos) return out;
  out.replace(at, kTag.size(), "<base href=\"" + std::string(prefix) + "/\">");
  return out;
}

std::string strong_etag(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned int i = 0; i < 16 && i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  out += '"';
  return out;
}

void add_security_headers(core::Response& res) {
  res.set("Content-Security-Policy", kCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  res.set("Cross-Origin-Opener-Policy", "same-origin");
}

core::Expected<std::unique_ptr<StaticSite>> StaticSite::load(const std::string& root) {
  auto bad = [&](const std::string& why) {
    return core::make_error(core::ErrorKind::kInvalidArgument, "invalid_web_root",
                            "FRONTEND_ROOT " + root + ": " + why, "FRONTEND_ROOT");
  };
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return bad("not a directory");
  auto site = std::make_unique<StaticSite>();
  std::map<std::string, std::string> raw;
  std::size_t total = 0;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename().string().starts_with('.')) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    std::ifstream in(p, std::ios::binary);
    std::ostringstream data;
    data << in.rdbuf();
    if (!in && !in.eof()) return bad("cannot read " + p.string());
    std::string bytes = std::move(data).str();
    total += bytes.size();
    if (total > kMaxTotalBytes) return bad("larger than 64 MiB");
    raw.emplace(fs::relative(p, root).generic_string(), std::move(bytes));
  }
  if (ec) return bad(ec.message());
  for (auto& [name, bytes] : raw) {
    if (name.ends_with(".br") || name.ends_with(".gz")) {
      if (raw.count(name.substr(0, name.size() - 3)) != 0) continue;  // a variant, below
    }
    File f;
    f.content_type = std::string(content_type_for(extension_of(name)));
    f.cache_control = std::string(cache_control_for(name));
    f.identity.etag = strong_etag(bytes);
    if (auto gz = raw.find(name + ".gz"); gz != raw.end()) {
      f.gzip = Variant{gz->second, strong_etag(gz->second)};
    }
    if (auto br = raw.find(name + ".br"); br != raw.end()) {
      f.br = Variant{br->second, strong_etag(br->second)};
    }
    f.identity.body = std::move(bytes);
    site->files_.emplace(name, std::move(f));
  }
  if (!site->has_index()) return bad("no index.html");
  return site;
}

const StaticSite::File* StaticSite::find(const std::string& relative) const {
  const auto it = files_.find(relative);
  return it == files_.end() ? nullptr : &it->second;
}

const StaticSite::Variant& StaticSite::prefixed_index(const File& index,
                                                      const std::string& prefix) const {
  static constexpr std::size_t kMaxPrefixes = 64;  // stage names are few; bounds the cache
  std::lock_guard lock(mu_);
  if (auto it = by_prefix_.find(prefix); it != by_prefix_.end()) return *it->second;
  if (by_prefix_.size() >= kMaxPrefixes) by_prefix_.erase(by_prefix_.begin());
  auto v = std::make_unique<Variant>();
  v->body = rewrite_base_href(index.identity.body, prefix);
  v->etag = strong_etag(v->body);
  return *by_prefix_.emplace(prefix, std::move(v)).first->second;
}

core::Response StaticSite::answer(const std::vector<std::string>& segments,
                                  const core::Request& req, std::string_view request_id) const {
  std::string relative;
  for (const auto& s : segments) {
    if (s.empty() || s == "." || s == ".." ||
        s.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
      auto res = core::error_response(
          core::make_error(core::ErrorKind::kInvalidArgument, "invalid_path",
                           "the path holds '..', '.', an encoded slash or NUL", ""),
          request_id, req.version());
      add_security_headers(res);
      return res;
    }
    if (!relative.empty()) relative += '/';
    relative += s;
  }
  if (relative.empty()) relative = "index.html";
  const File* file = find(relative);
  if (file == nullptr) {
    if (!extension_of(relative).empty()) return not_found(request_id, req.version());
    relative = "index.html";
    file = find(relative);
    if (file == nullptr) return not_found(request_id, req.version());
  }

  // Stage prefix: index.html gets its base rewritten (identity only: it is small).
  const Variant* variant = nullptr;
  std::string_view encoding;
  const std::string_view prefix = req["X-Forwarded-Prefix"];
  if (relative == "index.html") {
    if (prefix.size() > 1 && prefix.front() == '/' && core::valid_stage_name(prefix.substr(1))) {
      variant = &prefixed_index(*file, std::string(prefix));
    }
  }
  if (variant == nullptr) {
    const std::string_view ae = req[http::field::accept_encoding];
    switch (negotiate_encoding(ae, file->br.has_value(), file->gzip.has_value())) {
      case Encoding::kBrotli:
        variant = &*file->br;
        encoding = "br";
        break;
      case Encoding::kGzip:
        variant = &*file->gzip;
        encoding = "gzip";
        break;
      case Encoding::kIdentity:
        variant = &file->identity;
        break;
    }
  }

  core::Response res;
  res.version(req.version());
  res.set(http::field::etag, variant->etag);
  res.set(http::field::cache_control, file->cache_control);
  res.set(http::field::vary, "Accept-Encoding");
  add_security_headers(res);
  const std::string_view inm = req[http::field::if_none_match];
  if (!inm.empty() && etag_matches(inm, variant->etag)) {
    res.result(http::status::not_modified);
    return res;
  }
  res.result(http::status::ok);
  res.set(http::field::content_type, file->content_type);
  if (!encoding.empty()) res.set(http::field::content_encoding, encoding);
  res.body() = variant->body;
  return res;
}

void add_site_routes(core::Router& router, const StaticSite& site) {
  const StaticSite* s = &site;
  core::Handler h = [s](core::Request& req,
                        core::RequestContext& ctx) -> boost::asio::awaitable<core::Response> {
    std::vector<std::string> segments;
    segments.reserve(ctx.params().values.size());
    for (const auto& kv : ctx.params().values) segments.push_back(kv.second);
    co_return s->answer(segments, req, ctx.request_id());
  };
  router.add(http::verb::get, "/", h);
  std::string pattern;
  for (int depth = 1; depth <= kMaxDepth; ++depth) {
    pattern += "/{p" + std::to_string(depth) + "}";
    router.add(http::verb::get, pattern, h);
  }
}

}  // namespace enkisys::frontend
