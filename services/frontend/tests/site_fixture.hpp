// A web root in a temp dir and a TestServer serving it, for the frontend's tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "enkisys/core/testing.hpp"
#include "enkisys/core/testing/process.hpp"
#include "enkisys/frontend/static_site.hpp"

namespace enkisys::frontend::test {

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// The value of header `name` (case-insensitive) in a raw response, or "" when absent.
inline std::string header_of(const std::string& raw, std::string name) {
  const auto end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, end);
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  auto from = at + name.size() + 3;
  while (from < head.size() && head[from] == ' ') ++from;
  return head.substr(from, head.find("\r\n", from) - from);
}

inline constexpr const char* kIndex =
    "<!doctype html><html><head><base href=\"/\"><title>t</title></head><body>app</body></html>";

class SiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& r = dir_.path();
    write_file(r / "index.html", kIndex);
    write_file(r / "index.html.gz", "GZ-INDEX");
    write_file(r / "index.html.br", "BR-INDEX");
    write_file(r / "assets/app-3f9a2c1b.js", "console.log('plain');");
    write_file(r / "assets/app-3f9a2c1b.js.gz", "GZ-JS");
    write_file(r / "assets/app-3f9a2c1b.js.br", "BR-JS");
    write_file(r / "assets/app-3f9a2c1b.css", "body{}");
    write_file(r / "assets/app-3f9a2c1b.css.gz", "GZ-CSS");  // gzip only
    write_file(r / "assets/plain.js", "1;");
    write_file(r / "robots.txt", "User-agent: *");
    for (const char* ext : {"mjs", "json", "svg", "png", "jpg", "webp", "ico", "woff2", "map",
                            "webmanifest", "bin"}) {
      write_file(r / (std::string("static/file.") + ext), "x");
    }
    write_file(r / ".secret", "hidden");
    auto site = StaticSite::load(r.string());
    ASSERT_TRUE(site) << site.error().message;
    site_ = std::move(site).value();
    server_ = std::make_unique<core::testing::TestServer>(
        [this](core::Router& router) { add_site_routes(router, *site_); });
  }

  std::string get(const std::string& target, const std::string& headers = {},
                  const std::string& method = "GET") {
    return core::testing::http_request(server_->port(), method, target, {}, headers);
  }

  core::testing::TempDir dir_;
  std::unique_ptr<StaticSite> site_;
  std::unique_ptr<core::testing::TestServer> server_;
};

}  // namespace enkisys::frontend::test
