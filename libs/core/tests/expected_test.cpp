#include "enkisys/core/expected.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "enkisys/core/config.hpp"
#include "enkisys/core/http.hpp"

namespace enkisys::core {
namespace {

Expected<int> half(int n) {
  if (n % 2 != 0) return make_error(ErrorKind::kInvalidArgument, "odd", "odd number", "/n");
  return n / 2;
}

TEST(Expected, HoldsAValueOrAnError) {
  auto a = half(4);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  auto b = half(3);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, "odd");
  EXPECT_EQ(b.error().field, "/n");
  EXPECT_THROW((void)b.value(), std::logic_error);
  EXPECT_THROW((void)a.error(), std::logic_error);
}

TEST(Expected, StatusIsSuccessOrAnError) {
  Status ok = ok_status();
  EXPECT_TRUE(ok.ok());
  Status bad = make_error(ErrorKind::kConflict, "", "taken");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code_or_default(), "conflict");
}

TEST(Expected, StringValueAndStringErrorStayApart) {
  Expected<std::string, std::string> v = std::string("value");
  Expected<std::string, std::string> e = unexpected(std::string("why"));
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error(), "why");
}

TEST(ErrorKinds, OneTableMapsEveryKindToAStatus) {
  EXPECT_EQ(http_status_of(ErrorKind::kInvalidArgument), 400u);
  EXPECT_EQ(http_status_of(ErrorKind::kUnauthenticated), 401u);
  EXPECT_EQ(http_status_of(ErrorKind::kPermissionDenied), 403u);
  EXPECT_EQ(http_status_of(ErrorKind::kNotFound), 404u);
  EXPECT_EQ(http_status_of(ErrorKind::kConflict), 409u);
  EXPECT_EQ(http_status_of(ErrorKind::kPayloadTooLarge), 413u);
  EXPECT_EQ(http_status_of(ErrorKind::kUnsupportedMediaType), 415u);
  EXPECT_EQ(http_status_of(ErrorKind::kUnprocessable), 422u);
  EXPECT_EQ(http_status_of(ErrorKind::kResourceExhausted), 429u);
  EXPECT_EQ(http_status_of(ErrorKind::kInternal), 500u);
  EXPECT_EQ(http_status_of(ErrorKind::kUpstream), 502u);
  EXPECT_EQ(http_status_of(ErrorKind::kUnavailable), 503u);
  EXPECT_EQ(http_status_of(ErrorKind::kDeadlineExceeded), 504u);
}

TEST(ErrorKinds, AnErrorBecomesTheJsonErrorShape) {
  Error e = make_error(ErrorKind::kResourceExhausted, "too_many_attempts", "slow down", "/email");
  e.retry_after_s = 7;
  const Response res = error_response(e, "req-1");
  EXPECT_EQ(res.result(), http::status::too_many_requests);
  EXPECT_EQ(res[http::field::retry_after], "7");
  const auto body = boost::json::parse(res.body()).as_object();
  const auto& err = body.at("error").as_object();
  EXPECT_EQ(err.at("code"), "too_many_attempts");
  EXPECT_EQ(err.at("message"), "slow down");
  EXPECT_EQ(err.at("path"), "/email");
  EXPECT_EQ(err.at("request_id"), "req-1");
}

TEST(ErrorKinds, MessagesQuotingBadBytesStayValidUtf8) {
  const Response res = error_response(
      make_error(ErrorKind::kInvalidArgument, "", std::string("bad \xEF here")), "r");
  boost::system::error_code ec;
  const auto v = boost::json::parse(res.body(), ec);
  ASSERT_FALSE(ec) << res.body();
  EXPECT_EQ(v.at("error").at("message"), "bad \xEF\xBF\xBD here");
}

class SecretFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("enkisys-secret-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(SecretFile, TrailingLineBreaksAreDropped) {
  auto s = read_secret_file("X_FILE", write("a", "s3cret-value\r\n"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "s3cret-value");
}

TEST_F(SecretFile, ErrorsNameTheVariableNeverTheContents) {
  auto missing = read_secret_file("X_FILE", (dir_ / "none").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("X_FILE"), std::string::npos);
  auto empty = read_secret_file("X_FILE", write("b", "\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, "secret_empty");
  auto short_one = read_secret_file("X_FILE", write("c", "tiny-secret"), 16);
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.error().message.find("tiny-secret"), std::string::npos);
}

TEST_F(SecretFile, EnvConfigReadsTheFileNamedByAVariable) {
  const std::string path = write("d", "abcdefghijklmnopqrstuvwxyz\n");
  EnvConfig cfg("t", "t");
  cfg.add({"X_FILE", "secret", ""});
  cfg.add({"Y_FILE", "secret", ""});
  std::string err;
  ASSERT_TRUE(cfg.load(
      [&](const char* n) -> const char* {
        return std::string_view(n) == "X_FILE" ? path.c_str() : nullptr;
      },
      &err));
  EXPECT_EQ(cfg.secret_file("X_FILE", 16), "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(cfg.secret_file("Y_FILE"), std::nullopt);
  EXPECT_THROW((void)cfg.secret_file("X_FILE", 64), std::runtime_error);
}

}  // namespace
}  // namespace enkisys::core
