// The frontend's answers, in process: encodings, ETags, cache headers, SPA fallback, refusals,
// security headers, the base-href rewrite per stage prefix, content types, loading.
#include <gtest/gtest.h>

#include "site_fixture.hpp"

namespace enkisys::frontend::test {
namespace {

using core::testing::body_of;
using core::testing::status_of;

void expect_security_headers(const std::string& raw) {
  EXPECT_EQ(header_of(raw, "Content-Security-Policy"),
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'; form-action 'self'")
      << raw;
  EXPECT_EQ(header_of(raw, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_of(raw, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header_of(raw, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header_of(raw, "Cross-Origin-Opener-Policy"), "same-origin");
}

TEST(NegotiateEncoding, PrefersBrotliThenGzipAndHonoursQValues) {
  EXPECT_EQ(negotiate_encoding("gzip, deflate, br", true, true), Encoding::kBrotli);
  EXPECT_EQ(negotiate_encoding("gzip, br", false, true), Encoding::kGzip);
  EXPECT_EQ(negotiate_encoding("br;q=0.5, gzip;q=0.8", true, true), Encoding::kGzip);
  EXPECT_EQ(negotiate_encoding("br;q=0, gzip", true, true), Encoding::kGzip);
  EXPECT_EQ(negotiate_encoding("*;q=0.3, br;q=0", true, true), Encoding::kGzip);
  EXPECT_EQ(negotiate_encoding("identity;q=1, gzip;q=0.5", true, true), Encoding::kIdentity);
  EXPECT_EQ(negotiate_encoding("", true, true), Encoding::kIdentity);
  EXPECT_EQ(negotiate_encoding("deflate", true, true), Encoding::kIdentity);
  EXPECT_EQ(negotiate_encoding("*", true, true), Encoding::kBrotli);
  EXPECT_EQ(negotiate_encoding("br;q=0.1", true, true), Encoding::kBrotli);
  EXPECT_EQ(negotiate_encoding("GZIP;Q=0.9", true, true), Encoding::kGzip);
  EXPECT_EQ(negotiate_encoding("gzip;q=abc", true, true), Encoding::kIdentity);
  EXPECT_EQ(negotiate_encoding("gzip;q=0, br;q=0, identity;q=0", true, true),
            Encoding::kIdentity);  // nothing acceptable: identity
}

TEST(HashedAsset, NeedsAssetsFolderAndAHashInTheName) {
  EXPECT_TRUE(is_hashed_asset("assets/app-3f9a2c1b.js"));
  EXPECT_TRUE(is_hashed_asset("assets/index-Bx9k2LmQ.css"));
  EXPECT_TRUE(is_hashed_asset("assets/fonts/inter-a1b2c3d4.woff2"));
  EXPECT_TRUE(is_hashed_asset("assets/index-deadbeef.js"));  // hex, no digit (the web build's)
  EXPECT_FALSE(is_hashed_asset("assets/app-settings.js"));   // a word of 8 letters, not hex
  EXPECT_FALSE(is_hashed_asset("assets/plain.js"));
  EXPECT_FALSE(is_hashed_asset("assets/my-component.js"));  // no digit: a word, not a hash
  EXPECT_FALSE(is_hashed_asset("app-3f9a2c1b.js"));         // not under assets/
  EXPECT_FALSE(is_hashed_asset("assets/app-3f9a.js"));      // too short
}

TEST_F(SiteTest, ServesTheBestPrecompressedVariantWithVary) {
  auto br = get("/assets/app-3f9a2c1b.js", "Accept-Encoding: gzip, br\r\n");
  EXPECT_EQ(status_of(br), 200);
  EXPECT_EQ(body_of(br), "BR-JS");
  EXPECT_EQ(header_of(br, "Content-Encoding"), "br");
  EXPECT_EQ(header_of(br, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header_of(br, "Content-Type"), "text/javascript; charset=utf-8");

  auto gz = get("/assets/app-3f9a2c1b.js", "Accept-Encoding: gzip, br;q=0\r\n");
  EXPECT_EQ(body_of(gz), "GZ-JS");
  EXPECT_EQ(header_of(gz, "Content-Encoding"), "gzip");

  auto plain = get("/assets/app-3f9a2c1b.js");
  EXPECT_EQ(body_of(plain), "console.log('plain');");
  EXPECT_EQ(header_of(plain, "Content-Encoding"), "");
  EXPECT_EQ(header_of(plain, "Vary"), "Accept-Encoding");

  auto refused = get("/assets/app-3f9a2c1b.js", "Accept-Encoding: gzip;q=0, br;q=0\r\n");
  EXPECT_EQ(body_of(refused), "console.log('plain');");

  auto css = get("/assets/app-3f9a2c1b.css", "Accept-Encoding: br, gzip\r\n");  // no .br there
  EXPECT_EQ(body_of(css), "GZ-CSS");
  EXPECT_EQ(header_of(css, "Content-Encoding"), "gzip");
}

TEST_F(SiteTest, StrongEtagPerVariantAndIfNoneMatchGives304) {
  auto plain = get("/assets/app-3f9a2c1b.js");
  auto br = get("/assets/app-3f9a2c1b.js", "Accept-Encoding: br\r\n");
  const std::string etag = header_of(plain, "ETag");
  ASSERT_EQ(etag.size(), 34u) << plain;
  EXPECT_EQ(etag.front(), '"');
  EXPECT_NE(etag, header_of(br, "ETag"));

  auto again = get("/assets/app-3f9a2c1b.js", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(status_of(again), 304);
  EXPECT_EQ(body_of(again), "");
  EXPECT_EQ(header_of(again, "ETag"), etag);
  EXPECT_EQ(header_of(again, "Cache-Control"), "public, max-age=31536000, immutable");
  expect_security_headers(again);

  auto list = get("/assets/app-3f9a2c1b.js", "If-None-Match: \"x\", W/" + etag + "\r\n");
  EXPECT_EQ(status_of(list), 304);
  // The identity ETag does not validate the brotli variant.
  auto other =
      get("/assets/app-3f9a2c1b.js", "Accept-Encoding: br\r\nIf-None-Match: " + etag + "\r\n");
  EXPECT_EQ(status_of(other), 200);
  EXPECT_EQ(body_of(other), "BR-JS");
}

TEST_F(SiteTest, HashedAssetsAreImmutableEverythingElseNoCache) {
  EXPECT_EQ(header_of(get("/assets/app-3f9a2c1b.css"), "Cache-Control"),
            "public, max-age=31536000, immutable");
  EXPECT_EQ(header_of(get("/assets/plain.js"), "Cache-Control"), "no-cache");
  EXPECT_EQ(header_of(get("/"), "Cache-Control"), "no-cache");
  EXPECT_EQ(header_of(get("/index.html"), "Cache-Control"), "no-cache");
  EXPECT_EQ(header_of(get("/robots.txt"), "Cache-Control"), "no-cache");
}

TEST_F(SiteTest, SpaFallbackForPathsWithoutExtension404WithOne) {
  for (const char* path : {"/", "/dashboard", "/settings/profile/edit", "/assets/nothing"}) {
    auto r = get(path);
    EXPECT_EQ(status_of(r), 200) << path;
    EXPECT_EQ(body_of(r), kIndex) << path;
    EXPECT_EQ(header_of(r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(header_of(r, "Cache-Control"), "no-cache");
  }
  // Dot-files are never loaded: "/.secret" has no extension, so it is the SPA page.
  EXPECT_EQ(body_of(get("/.secret")), kIndex);
  for (const char* path : {"/missing.js", "/assets/app-00000000.js", "/favicon.ico"}) {
    auto r = get(path);
    EXPECT_EQ(status_of(r), 404) << path;
    EXPECT_NE(body_of(r).find("\"not_found\""), std::string::npos) << r;
    expect_security_headers(r);
  }
}

TEST_F(SiteTest, RefusesTraversalEncodedSlashesAndNul) {
  for (const char* path : {"/../etc/passwd", "/assets/../index.html", "/%2e%2e/etc/passwd",
                           "/assets%2fapp-3f9a2c1b.js", "/assets%2F..%2F..%2Fetc%2Fpasswd",
                           "/a%5c..%5cb", "/index.html%00.js", "/./index.html"}) {
    auto r = get(path);
    EXPECT_EQ(status_of(r), 400) << path << "\n" << r;
    EXPECT_NE(body_of(r).find("\"invalid_path\""), std::string::npos) << r;
    expect_security_headers(r);
  }
}

TEST_F(SiteTest, HeadHasTheHeadersOfGetWithoutBody) {
  auto get_r = get("/assets/app-3f9a2c1b.js", "Accept-Encoding: gzip\r\n");
  auto head = get("/assets/app-3f9a2c1b.js", "Accept-Encoding: gzip\r\n", "HEAD");
  EXPECT_EQ(status_of(head), 200);
  EXPECT_EQ(body_of(head), "");
  EXPECT_EQ(header_of(head, "Content-Length"), std::to_string(body_of(get_r).size()));
  EXPECT_EQ(header_of(head, "ETag"), header_of(get_r, "ETag"));
  EXPECT_EQ(header_of(head, "Content-Encoding"), "gzip");
  expect_security_headers(head);
}

TEST_F(SiteTest, OnlyGetAndHead) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    auto r = get("/index.html", {}, method);
    EXPECT_EQ(status_of(r), 405) << method;
    EXPECT_NE(header_of(r, "Allow").find("GET"), std::string::npos) << r;
  }
  EXPECT_EQ(status_of(get("/", {}, "POST")), 405);
}

TEST_F(SiteTest, SecurityHeadersOnEveryAnswer) {
  auto ok = get("/");
  expect_security_headers(ok);
  expect_security_headers(get("/", "If-None-Match: " + header_of(ok, "ETag") + "\r\n"));
  expect_security_headers(get("/nope.png"));
}

TEST_F(SiteTest, BaseHrefRewrittenPerValidStagePrefix) {
  auto plain = get("/");
  auto dev1 = get("/", "X-Forwarded-Prefix: /dev1\r\n");
  auto prod = get("/dashboard", "X-Forwarded-Prefix: /prod\r\nAccept-Encoding: br\r\n");
  EXPECT_NE(body_of(dev1).find("<base href=\"/dev1/\">"), std::string::npos) << dev1;
  EXPECT_NE(body_of(prod).find("<base href=\"/prod/\">"), std::string::npos) << prod;
  EXPECT_EQ(header_of(prod, "Content-Encoding"), "");  // the rewritten page is sent as is
  EXPECT_NE(header_of(dev1, "ETag"), header_of(plain, "ETag"));
  EXPECT_NE(header_of(dev1, "ETag"), header_of(prod, "ETag"));
  EXPECT_EQ(header_of(dev1, "ETag"),
            header_of(get("/index.html", "X-Forwarded-Prefix: /dev1\r\n"), "ETag"));
  auto cached =
      get("/", "X-Forwarded-Prefix: /dev1\r\nIf-None-Match: " + header_of(dev1, "ETag") + "\r\n");
  EXPECT_EQ(status_of(cached), 304);
  auto stale =
      get("/", "X-Forwarded-Prefix: /prod\r\nIf-None-Match: " + header_of(dev1, "ETag") + "\r\n");
  EXPECT_EQ(status_of(stale), 200);

  for (const char* bad :
       {"/Dev1", "/dev_1", "/health", "/dev1/x", "dev1", "/", "/a", "/\"><script>", "/dev1/../x"}) {
    auto r = get("/", std::string("X-Forwarded-Prefix: ") + bad + "\r\n");
    EXPECT_EQ(body_of(r), kIndex) << bad;
    EXPECT_EQ(header_of(r, "ETag"), header_of(plain, "ETag")) << bad;
  }
  // Only index.html is rewritten.
  EXPECT_EQ(body_of(get("/robots.txt", "X-Forwarded-Prefix: /dev1\r\n")), "User-agent: *");
}

TEST_F(SiteTest, ContentTypePerExtension) {
  const std::pair<const char*, const char*> want[] = {
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff2", "font/woff2"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"bin", "application/octet-stream"},
  };
  for (const auto& [ext, type] : want) {
    EXPECT_EQ(header_of(get(std::string("/static/file.") + ext), "Content-Type"), type) << ext;
  }
  EXPECT_EQ(header_of(get("/robots.txt"), "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(header_of(get("/assets/app-3f9a2c1b.css"), "Content-Type"), "text/css; charset=utf-8");
}

TEST(StaticSiteLoad, RefusesAMissingRootOrOneWithoutIndex) {
  core::testing::TempDir dir;
  auto missing = StaticSite::load((dir.path() / "nope").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "FRONTEND_ROOT");
  write_file(dir.path() / "app.js", "1;");
  auto no_index = StaticSite::load(dir.path().string());
  ASSERT_FALSE(no_index);
  EXPECT_NE(no_index.error().message.find("index.html"), std::string::npos);
}

TEST(StaticSiteLoad, SkipsSymlinksOutOfTheRoot) {
  core::testing::TempDir dir, outside;
  write_file(dir.path() / "index.html", kIndex);
  write_file(outside.path() / "secret.txt", "secret");
  std::filesystem::create_symlink(outside.path() / "secret.txt", dir.path() / "secret.txt");
  auto site = StaticSite::load(dir.path().string());
  ASSERT_TRUE(site);
  EXPECT_EQ((*site)->file_count(), 1u);
}

}  // namespace
}  // namespace enkisys::frontend::test
