// The frontend's static web root, held in memory, and its HTTP answers.
//
// Pure helpers (no I/O, thread-safe, never throw): negotiate_encoding, content_type_for,
// is_hashed_asset, cache_control_for, etag_matches, rewrite_base_href.
//
// StaticSite: load() reads every regular file under a root once (symlinks and dot-files are
// skipped; `X.br` / `X.gz` next to `X` become its precompressed variants). After load the site
// is immutable except for a small, mutex-guarded cache of index.html rewritten per stage prefix;
// answer() is thread-safe. Errors: load() returns kInvalidArgument (missing root, no index.html,
// over the size cap) — the service turns it into ConfigError (exit 2).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/core/http.hpp"
#include "enkisys/core/router.hpp"

namespace enkisys::frontend {

enum class Encoding { kIdentity, kGzip, kBrotli };

// The best coding of `accept_encoding` among the available ones: the highest q-value wins, ties
// go br > gzip > identity; `*` stands for codings not named; q=0 refuses. An empty header means
// identity. When every available coding is refused, identity (the safe answer).
Encoding negotiate_encoding(std::string_view accept_encoding, bool have_br, bool have_gzip);

// "text/html; charset=utf-8" etc. by extension (lower-case, without the dot);
// application/octet-stream for anything else.
std::string_view content_type_for(std::string_view extension);

// True for a file under assets/ whose stem ends in -<hash>: 8 to 64 characters of [A-Za-z0-9_]
// with at least one digit (app-3f9a2c1b.js, index-Bx9k2LmQ.css).
bool is_hashed_asset(std::string_view relative_path);

// "public, max-age=31536000, immutable" for hashed assets, "no-cache" for everything else.
std::string_view cache_control_for(std::string_view relative_path);

// True if the If-None-Match value names `etag` (weak comparison, `*` matches).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// Replaces the first `<base href="/">` with `<base href="{prefix}/">`. REQUIRES: prefix is "/"
// followed by a valid stage name. Unchanged when the tag is absent.
std::string rewrite_base_href(std::string_view html, std::string_view prefix);

// The strong ETag of `bytes`: a quoted 32-hex-digit prefix of their SHA-256.
std::string strong_etag(std::string_view bytes);

class StaticSite {
 public:
  static constexpr std::size_t kMaxTotalBytes = 64ULL << 20;

  static core::Expected<std::unique_ptr<StaticSite>> load(const std::string& root);

  // The answer to a GET/HEAD of `path_segments` (decoded, as routed) with the request's
  // headers: 200/304 with the file, index.html for an extension-less miss (SPA), 400 for "..",
  // ".", NUL, '/' or '\' inside a segment, 404 for a missing file with an extension. Every
  // answer carries the security headers.
  core::Response answer(const std::vector<std::string>& path_segments, const core::Request& req,
                        std::string_view request_id) const;

  std::size_t file_count() const { return files_.size(); }
  bool has_index() const { return files_.count("index.html") != 0; }

 private:
  struct Variant {
    std::string body;
    std::string etag;
  };
  struct File {
    std::string content_type;
    std::string cache_control;
    Variant identity;
    std::optional<Variant> gzip;
    std::optional<Variant> br;
  };
  const File* find(const std::string& relative) const;
  const Variant& prefixed_index(const File& index, const std::string& prefix) const;

  std::map<std::string, File, std::less<>> files_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::unique_ptr<Variant>, std::less<>>
      by_prefix_;  // GUARDED_BY mu_
};

// Routes GET (and so HEAD) of "/" and of paths up to kMaxDepth segments to site.answer(); other
// methods get the router's 405. Deeper paths, empty segments (a trailing slash) and bad percent
// escapes get the router's 404. `site` must outlive the router.
inline constexpr int kMaxDepth = 16;
void add_site_routes(core::Router& router, const StaticSite& site);

// Adds the security headers of every answer (CSP, nosniff, no-referrer, DENY, COOP).
void add_security_headers(core::Response& res);

}  // namespace enkisys::frontend
