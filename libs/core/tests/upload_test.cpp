// Streamed request bodies and multipart uploads through the server.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>

#include "enkisys/core/multipart.hpp"
#include "enkisys/core/testing.hpp"
#include "stream_client.hpp"

// The largest single allocation made while tracking is on (any thread): proves that a big
// upload is never held in one buffer.
namespace {
std::atomic<bool> g_track{false};
std::atomic<std::size_t> g_largest{0};
void* tracked_alloc(std::size_t n) {
  if (g_track.load(std::memory_order_relaxed)) {
    std::size_t prev = g_largest.load(std::memory_order_relaxed);
    while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
    }
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace
void* operator new(std::size_t n) {
  return tracked_alloc(n);
}
void* operator new[](std::size_t n) {
  return tracked_alloc(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace enkisys::core {
namespace {

using testing::StreamClient;
using testing::TestServer;
namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kDeadline = 10000ms;

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("enkisys-upload-" + new_request_id());
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), {}));
  }
};

// POST /count (stream_body, cap 64 MiB): {"bytes","largest_piece"}.
// POST /form (stream_body): the multipart form stored in `dir`, as JSON.
void wire(Router& r, const fs::path& dir, std::uint64_t max_file = 64ULL << 20) {
  RouteOptions streamed;
  streamed.stream_body = true;
  streamed.max_body_bytes = 64ULL << 20;
  r.add(
      http::verb::post, "/count",
      [](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
        std::uint64_t total = 0;
        std::size_t largest = 0;
        for (auto p = co_await ctx.body().read(); !p.empty(); p = co_await ctx.body().read()) {
          total += p.size();
          largest = std::max(largest, p.size());
        }
        co_return json_response(http::status::ok,
                                json::object{{"bytes", total}, {"largest_piece", largest}});
      },
      streamed);
  r.add(
      http::verb::post, "/form",
      [dir, max_file](Request& req, RequestContext& ctx) -> asio::awaitable<Response> {
        UploadOptions o;
        o.dir = dir;
        o.max_file_bytes = max_file;
        o.max_total_bytes = 48ULL << 20;
        o.max_field_bytes = 1024;
        FormData form = co_await read_multipart_form(req, ctx, o);
        json::object fields;
        for (const auto& [k, v] : form.fields) fields[k] = v;
        json::array files;
        for (const auto& f : form.files) {
          files.push_back(json::object{{"field", f.field},
                                       {"filename", f.filename},
                                       {"content_type", f.content_type},
                                       {"path", f.path.string()},
                                       {"size", f.size},
                                       {"sha256", f.sha256}});
        }
        co_return json_response(http::status::ok,
                                json::object{{"fields", fields}, {"files", files}});
      },
      streamed);
}

std::string post(std::string_view path, std::string_view content_type, std::string_view body,
                 std::string_view extra = {}) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
         "Content-Type: " + std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) +
         "\r\n" + std::string(body);
}

// Sends `bytes`, reads the whole response (the server closes: Connection: close).
std::string exchange(unsigned short port, std::string_view bytes) {
  StreamClient c(port);
  c.send(bytes);
  c.wait_closed(kDeadline);
  return c.data();
}

json::value error_of(const std::string& raw) {
  return json::parse(testing::body_of(raw)).at("error");
}

std::string part(std::string_view name, std::string_view value,
                 std::optional<std::string_view> filename = std::nullopt) {
  std::string out =
      "--B0undary\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"";
  if (filename) out += "; filename=\"" + std::string(*filename) + "\"\r\nContent-Type: text/csv";
  return out + "\r\n\r\n" + std::string(value) + "\r\n";
}
constexpr std::string_view kFormType = "multipart/form-data; boundary=B0undary";

TEST(BodyStream, PiecesAreBoundedAndTheRouteCapReplacesTheServerCap) {
  TempDir dir;
  ServerOptions o;
  o.max_body_bytes = 1024;
  TestServer s([&](Router& r) { wire(r, dir.path); }, o);
  const std::string body(300 * 1024, 'z');
  const auto raw = exchange(s.port(), post("/count", "application/octet-stream", body));
  ASSERT_EQ(testing::status_of(raw), 200) << raw;
  const auto res = json::parse(testing::body_of(raw));
  EXPECT_EQ(res.at("bytes").to_number<std::uint64_t>(), body.size());
  EXPECT_LE(res.at("largest_piece").to_number<std::uint64_t>(), 64U * 1024);
  // Chunked request bodies stream too.
  const auto chunked = exchange(
      s.port(),
      "POST /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_EQ(testing::status_of(chunked), 200) << chunked;
  EXPECT_EQ(json::parse(testing::body_of(chunked)).at("bytes"), 11);
}

TEST(BodyStream, OverTheRouteCapIs413ByContentLengthAndWhileReadingChunks) {
  TempDir dir;
  TestServer s([&](Router& r) {
    RouteOptions small;
    small.stream_body = true;
    small.max_body_bytes = 10;
    r.add(
        http::verb::post, "/small",
        [](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
          while (!(co_await ctx.body().read()).empty()) {
          }
          co_return json_response(http::status::ok, json::object{});
        },
        small);
  });
  const auto by_length = exchange(s.port(), post("/small", "text/plain", std::string(11, 'a')));
  EXPECT_EQ(testing::status_of(by_length), 413);
  EXPECT_EQ(error_of(by_length).at("code"), "body_too_large");
  const auto by_chunks =
      exchange(s.port(),
               "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n");
  EXPECT_EQ(testing::status_of(by_chunks), 413) << by_chunks;
  EXPECT_EQ(error_of(by_chunks).at("code"), "body_too_large");
}

TEST(BodyStream, ExpectContinueIsAnsweredWhenTheHandlerReads) {
  TempDir dir;
  TestServer s([&](Router& r) { wire(r, dir.path); });
  StreamClient c(s.port());
  c.send(
      "POST /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 4\r\n"
      "Expect: 100-continue\r\n\r\n");
  ASSERT_TRUE(c.read_until("HTTP/1.1 100 Continue\r\n\r\n", kDeadline)) << c.data();
  c.send("abcd");
  ASSERT_TRUE(c.wait_closed(kDeadline));
  EXPECT_NE(c.data().find("{\"bytes\":4,"), std::string::npos) << c.data();
}

TEST(BodyStream, StalledBodyIsCutOffAfterTheBodyDeadline) {
  TempDir dir;
  ServerOptions o;
  o.body_timeout = 200ms;
  TestServer s([&](Router& r) { wire(r, dir.path); }, o);
  StreamClient c(s.port());
  const auto start = std::chrono::steady_clock::now();
  c.send(
      "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n"
      "only ten b");
  // The deadline closes the socket: the client is cut off without an answer.
  ASSERT_TRUE(c.wait_closed(kDeadline));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(c.data().find("200 OK"), std::string::npos) << c.data();
}

TEST(MultipartUpload, TwoFilesAndFieldsAreStoredWithTheirDigests) {
  TempDir dir;
  TestServer s([&](Router& r) { wire(r, dir.path); });
  const std::string a = "id,name\n1,alpha\n";
  const std::string b(100'000, 'b');
  const std::string body = part("title", "Quarterly") + part("doc", a, "a.csv") +
                           part("doc", b, "b.csv") + part("lang", "en") + "--B0undary--\r\n";
  const auto raw = exchange(s.port(), post("/form", kFormType, body));
  ASSERT_EQ(testing::status_of(raw), 200) << raw;
  const auto res = json::parse(testing::body_of(raw));
  EXPECT_EQ(res.at("fields").at("title"), "Quarterly");
  EXPECT_EQ(res.at("fields").at("lang"), "en");
  const auto& files = res.at("files").as_array();
  ASSERT_EQ(files.size(), 2U);
  const std::string contents[] = {a, b};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& f = files[i];
    EXPECT_EQ(f.at("field"), "doc");
    EXPECT_EQ(f.at("content_type"), "text/csv");
    EXPECT_EQ(f.at("size").to_number<std::size_t>(), contents[i].size());
    EXPECT_EQ(f.at("sha256").as_string(), sha256_hex(contents[i]));
    const fs::path p(std::string(f.at("path").as_string()));
    EXPECT_EQ(p.parent_path(), dir.path);
    EXPECT_EQ(slurp(p), contents[i]);
    EXPECT_EQ(fs::status(p).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
  }
  EXPECT_EQ(files[0].at("filename"), "a.csv");
}

TEST(MultipartUpload, CapsAre413AndLeaveNoPartialFile) {
  TempDir dir;
  TestServer s([&](Router& r) { wire(r, dir.path, 1000); });
  const std::string body = part("ok", "small", "ok.txt") +
                           part("big", std::string(5000, 'x'), "big.bin") + "--B0undary--\r\n";
  const auto raw = exchange(s.port(), post("/form", kFormType, body));
  EXPECT_EQ(testing::status_of(raw), 413) << raw;
  EXPECT_EQ(error_of(raw).at("code"), "file_too_large");
  EXPECT_EQ(dir.entries(), 0U);
  const auto field = exchange(
      s.port(), post("/form", kFormType, part("f", std::string(2000, 'f')) + "--B0undary--\r\n"));
  EXPECT_EQ(testing::status_of(field), 413);
  EXPECT_EQ(error_of(field).at("code"), "field_too_large");
}

TEST(MultipartUpload, MalformedIs400AndWrongTypeIs415) {
  TempDir dir;
  TestServer s([&](Router& r) { wire(r, dir.path); });
  const auto truncated = exchange(s.port(), post("/form", kFormType, part("doc", "data", "d.txt")));
  EXPECT_EQ(testing::status_of(truncated), 400);
  EXPECT_EQ(error_of(truncated).at("code"), "multipart_incomplete");
  EXPECT_EQ(dir.entries(), 0U);
  const auto no_boundary = exchange(s.port(), post("/form", "multipart/form-data", "x"));
  EXPECT_EQ(testing::status_of(no_boundary), 400);
  EXPECT_EQ(error_of(no_boundary).at("code"), "invalid_boundary");
  const auto json_body = exchange(s.port(), post("/form", "application/json", "{}"));
  EXPECT_EQ(testing::status_of(json_body), 415);
  EXPECT_EQ(error_of(json_body).at("code"), "unsupported_media_type");
}

TEST(MultipartUpload, TwentyMegabytesStreamThroughAOneMegabyteServer) {
  TempDir dir;
  ServerOptions o;
  o.max_body_bytes = 1 << 20;
  TestServer s([&](Router& r) { wire(r, dir.path); }, o);
  std::string content(20 << 20, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 23);
  const std::string body = part("doc", content, "big.txt") + "--B0undary--\r\n";
  const std::string request = post("/form", kFormType, body);
  const std::string expected_sha = sha256_hex(content);
  std::string().swap(content);
  g_largest = 0;
  g_track = true;
  const auto raw = exchange(s.port(), request);
  g_track = false;
  ASSERT_EQ(testing::status_of(raw), 200) << raw;
  const auto f = json::parse(testing::body_of(raw)).at("files").at(0);
  EXPECT_EQ(f.at("size").to_number<std::size_t>(), 20U << 20);
  EXPECT_EQ(f.at("sha256").as_string(), expected_sha);
  EXPECT_EQ(fs::file_size(std::string(f.at("path").as_string())), 20U << 20);
  // No allocation anywhere in the process came near the upload's size.
  EXPECT_LT(g_largest.load(), 1U << 20);
}

}  // namespace
}  // namespace enkisys::core
