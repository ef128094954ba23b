// Revoked sessions at the gateway: the poller against a fake feed (unit), and a running gateway
// polling a fake auth over HTTP (ETag/304, bearer secret) that refuses a revoked session's token
// on a kept-alive connection (the token memo) and on a new one (the verification cache).
#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <mutex>

#include "enkisys/security/jwt.hpp"
#include "enkisys/security/keys.hpp"
#include "test_support.hpp"

namespace enkisys::gateway {
namespace {

using namespace testing;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace sec = enkisys::security;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test-secret";

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token_with_sid(const std::string& sub, const std::string& sid) {
  const auto key = sec::SigningKey::from_secret(kSecret, "hs256");
  return sec::sign(key.value(), boost::json::object{{"sub", sub},
                                                    {"sid", sid},
                                                    {"roles", boost::json::array{"user"}},
                                                    {"iss", "test"},
                                                    {"exp", now_s() + 600},
                                                    {"iat", now_s()}});
}

std::string feed(const std::vector<std::string>& sids) {
  boost::json::array list;
  for (const auto& s : sids) list.push_back(boost::json::object{{"sid", s}, {"exp", now_s() + 60}});
  return boost::json::serialize(
      boost::json::object{{"revoked", list}, {"generated_at", now_s()}, {"poll_s", 5}});
}

TEST(RevocationTest, PolledListRefusesTheSessionOnCacheAndMemoHitsAndSurvivesFailures) {
  JwtConfig cfg;
  cfg.enabled = true;
  cfg.hs256_secret = kSecret;
  cfg.issuer = "test";
  Authenticator auth(cfg);
  std::vector<std::string> revoked;
  bool fail = false;
  std::string seen_bearer, seen_etag;
  RevocationPoller poller(
      "http://auth.test/api/auth/revocations", "feed-secret-0123456789", std::chrono::seconds(5),
      auth, nullptr,
      [&](const std::string&, const std::string& bearer, const std::string& etag,
          std::string* error) -> std::optional<RevocationPoller::Response> {
        seen_bearer = bearer;
        seen_etag = etag;
        if (fail) {
          *error = "connection refused";
          return std::nullopt;
        }
        const std::string tag = "\"" + std::to_string(revoked.size()) + "\"";
        if (etag == tag) return RevocationPoller::Response{304, "", tag};
        return RevocationPoller::Response{200, feed(revoked), tag};
      },
      /*start=*/false);
  const auto t1 = "Bearer " + token_with_sid("u1", "s1");
  const auto t2 = "Bearer " + token_with_sid("u2", "s2");
  const char* why = nullptr;
  TokenMemo memo;
  ASSERT_EQ(poller.poll_now(), "");
  ASSERT_TRUE(auth.authenticate(t1, memo, &why)) << why;
  ASSERT_TRUE(auth.authenticate(t1, &why)) << why;  // now in the verification cache
  revoked = {"s1"};
  ASSERT_EQ(poller.poll_now(), "");
  EXPECT_EQ(seen_bearer, "feed-secret-0123456789");
  EXPECT_EQ(auth.revoked_count(), 1u);
  EXPECT_FALSE(auth.authenticate(t1, memo, &why));  // memo hit
  EXPECT_STREQ(why, "token_revoked");
  EXPECT_FALSE(auth.authenticate(t1, &why));  // cache hit
  EXPECT_STREQ(why, "token_revoked");
  EXPECT_TRUE(auth.authenticate(t2, &why)) << why;  // another session
  // Unchanged (304) and failed polls keep the list.
  ASSERT_EQ(poller.poll_now(), "");
  EXPECT_EQ(seen_etag, "\"1\"");
  fail = true;
  EXPECT_NE(poller.poll_now(), "");
  EXPECT_FALSE(auth.authenticate(t1, &why));
  EXPECT_STREQ(why, "token_revoked");
  // Lifted from the feed: accepted again.
  fail = false;
  revoked.clear();
  ASSERT_EQ(poller.poll_now(), "");
  EXPECT_TRUE(auth.authenticate(t1, memo, &why)) << why;
}

// A fake auth serving GET /api/auth/revocations with an ETag (304 on If-None-Match) behind a
// bearer secret.
class FakeFeed {
 public:
  FakeFeed() : acc_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (int i = 0; i < 10000; ++i) {
        tcp::socket s(ioc_);
        boost::system::error_code ec;
        acc_.accept(s, ec);
        if (ec || stop_) return;
        beast::flat_buffer b;
        http::request<http::string_body> req;
        http::read(s, b, req, ec);
        if (ec) continue;
        http::response<http::string_body> res{http::status::ok, 11};
        std::lock_guard lock(mu_);
        const std::string tag = "\"v" + std::to_string(version_) + "\"";
        if (req[http::field::authorization] != "Bearer feed-secret-0123456789") {
          res.result(http::status::unauthorized);
        } else if (req[http::field::if_none_match] == tag) {
          res.result(http::status::not_modified);
          ++not_modified_;
        } else {
          res.body() = feed(revoked_);
          res.set(http::field::etag, tag);
        }
        res.set(http::field::cache_control, "no-store");
        res.keep_alive(false);
        res.prepare_payload();
        http::write(s, res, ec);
        ++polls_;
      }
    });
  }
  ~FakeFeed() {
    stop_ = true;
    try {
      tcp::socket s(ioc_);
      s.connect(acc_.local_endpoint());
    } catch (...) {
    }
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acc_.local_endpoint().port()) +
           "/api/auth/revocations";
  }
  void revoke(const std::string& sid) {
    std::lock_guard lock(mu_);
    revoked_.push_back(sid);
    ++version_;
  }
  int polls() const { return polls_.load(); }
  int not_modified() const { return not_modified_.load(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acc_;
  std::atomic<bool> stop_{false};
  std::atomic<int> polls_{0}, not_modified_{0};
  std::mutex mu_;
  std::vector<std::string> revoked_;  // guarded by mu_
  int version_ = 0;                   // guarded by mu_
  std::thread thread_;
};

TEST(RevocationTest, GatewayRefusesARevokedSessionWithinThePollInterval) {
  FakeUpstream up;
  FakeFeed auth;
  const auto secret = write_secret_file();
  const auto feed_token = write_secret_file();
  std::ofstream(feed_token) << "feed-secret-0123456789\n";
  Gateway gw(replace_all(replace_all(replace_all(replace_all(R"(
jwt:
  hs256_secret_file: "SECRET"
  issuer: test
  revocations_url: "FEED"
  revocation_poll_s: 1
  revocations_token_file: "FEEDTOKEN"
stages:
  dev:
    routes:
      - {prefix: /api, upstream: "{UP}", jwt: true}
)",
                                                             "{UP}", up.url()),
                                                 "FEEDTOKEN", feed_token),
                                     "SECRET", secret),
                         "FEED", auth.url()));
  const std::string tok = token_with_sid("u1", "sess-1");
  asio::io_context ioc;
  beast::tcp_stream conn(ioc);
  conn.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), gw.port()));
  beast::flat_buffer b;
  auto on_kept_alive = [&] {
    http::request<http::empty_body> req{http::verb::get, "/dev/api/me", 11};
    req.set(http::field::host, "x");
    req.set(http::field::authorization, "Bearer " + tok);
    conn.expires_after(std::chrono::seconds(5));
    http::write(conn, req);
    http::response<http::string_body> res;
    http::read(conn, b, res);
    return res;
  };
  ASSERT_EQ(on_kept_alive().result_int(), 200);
  ASSERT_EQ(get(gw.port(), "/dev/api/me", {{"Authorization", "Bearer " + tok}}).result_int(), 200);
  const auto polls = auth.polls();
  auth.revoke("sess-1");
  const auto t0 = SteadyClock::now();
  StringResponse last;
  for (int i = 0; i < 400 && SteadyClock::now() - t0 < std::chrono::seconds(5); ++i) {
    last = on_kept_alive();
    if (last.result_int() == 401) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // pacing of the client's polls
  }
  EXPECT_EQ(last.result_int(), 401);
  EXPECT_NE(last.body().find("\"code\":\"token_revoked\""), std::string::npos) << last.body();
  EXPECT_LT(SteadyClock::now() - t0, std::chrono::seconds(3));  // poll 1 s + fetch
  const auto fresh = get(gw.port(), "/dev/api/me", {{"Authorization", "Bearer " + tok}});
  EXPECT_EQ(fresh.result_int(), 401);
  EXPECT_GT(auth.polls(), polls);
  // Unchanged lists cost a 304.
  EXPECT_TRUE([&] {
    for (int i = 0; i < 300; ++i) {
      if (auth.not_modified() > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }());
  EXPECT_EQ(
      get(gw.port(), "/dev/api/me", {{"Authorization", "Bearer " + token_with_sid("u2", "sess-2")}})
          .result_int(),
      200);
}

}  // namespace
}  // namespace enkisys::gateway
