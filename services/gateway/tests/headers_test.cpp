#include "enkisys/gateway/headers.hpp"

#include <gtest/gtest.h>

namespace enkisys::gateway {
namespace {

TEST(HeadersTest, StripsHopByHopIncludingConnectionNamed) {
  http::fields f;
  f.set(http::field::connection, "keep-alive, X-Secret ,Upgrade");
  f.set("X-Secret", "1");
  f.set(http::field::keep_alive, "timeout=5");
  f.set(http::field::te, "trailers");
  f.set(http::field::trailer, "x");
  f.set(http::field::transfer_encoding, "chunked");
  f.set(http::field::upgrade, "h2c");
  f.set(http::field::proxy_authorization, "Basic x");
  f.set("Proxy-Connection", "keep-alive");
  f.set("X-Keep", "yes");
  strip_hop_by_hop(f, false);
  int n = 0;
  for (const auto& x : f) {
    EXPECT_EQ(x.name_string(), "X-Keep");
    ++n;
  }
  EXPECT_EQ(n, 1);
}

TEST(HeadersTest, KeepsUpgradeForWebSocket) {
  http::fields f;
  f.set(http::field::connection, "Upgrade");
  f.set(http::field::upgrade, "websocket");
  EXPECT_TRUE(is_websocket_upgrade(f));
  strip_hop_by_hop(f, true);
  EXPECT_EQ(f[http::field::upgrade], "websocket");
  EXPECT_EQ(f[http::field::connection], "upgrade");
  http::fields g;
  g.set(http::field::upgrade, "websocket");
  EXPECT_FALSE(is_websocket_upgrade(g));
}

TEST(HeadersTest, RequestIds) {
  EXPECT_TRUE(valid_request_id("abc-123:x.y_z"));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id("a b"));
  EXPECT_FALSE(valid_request_id(std::string(129, 'a')));
  RequestIdGenerator g;
  char a[32], b[32];
  g.next(a);
  g.next(b);
  EXPECT_NE(std::string(a, 32), std::string(b, 32));
  EXPECT_TRUE(valid_request_id(std::string_view(a, 32)));
}

TEST(HeadersTest, ErrorResponseShape) {
  auto r = error_response(http::status::not_found, "not_found", "say \"hi\"", "rid1", 11, true);
  EXPECT_EQ(r.body(),
            R"({"error":{"code":"not_found","message":"say \"hi\"","request_id":"rid1"}})");
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_EQ(r["X-Request-Id"], "rid1");
}

}  // namespace
}  // namespace enkisys::gateway
