// `format` assertions: valid and invalid examples per supported format.
#include "test_util.hpp"

namespace enkisys::schema::testing {
namespace {

void expect_format(const char* format, std::initializer_list<const char*> good,
                   std::initializer_list<const char*> bad) {
  auto s = compile_ok(std::string(R"({"format":")") + format + "\"}");
  for (const char* g : good) {
    EXPECT_TRUE(s.is_valid(boost::json::value(g))) << format << " should accept " << g;
  }
  for (const char* b : bad) {
    auto e = s.validate(boost::json::value(b));
    ASSERT_EQ(e.size(), 1u) << format << " should reject " << b;
    EXPECT_EQ(e[0].message, std::string("must be a valid ") + format);
  }
}

TEST(Format, DateTime) {
  expect_format("date-time",
                {"2024-02-29T12:00:00Z", "2024-01-01t00:00:00.123+05:30", "2016-12-31T23:59:60Z"},
                {"2023-02-29T12:00:00Z", "2024-01-01 00:00:00Z", "2024-13-01T00:00:00Z",
                 "2024-01-01T24:00:00Z", "2024-01-01T00:00:00"});
}

TEST(Format, Date) {
  expect_format("date", {"2000-02-29", "1999-12-31"}, {"1900-02-29", "2000-04-31", "2000-1-01"});
}

TEST(Format, Time) {
  expect_format("time", {"08:30:00Z", "23:59:59.5-01:00"}, {"8:30:00Z", "08:60:00Z"});
}

TEST(Format, Email) {
  expect_format("email", {"a.b+c@example.com", "x@[192.168.0.1]"},
                {"no-at.example.com", "@example.com", "a..b@example.com", "a@-x.com", "a@b"});
}

TEST(Format, Uri) {
  expect_format("uri", {"https://example.com/a?b=c#d", "urn:isbn:0451450523"},
                {"/relative/path", "http://exa mple.com", "not a uri"});
}

TEST(Format, Uuid) {
  expect_format("uuid", {"123e4567-e89b-12d3-a456-426614174000"},
                {"123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g"});
}

TEST(Format, Ip) {
  expect_format("ipv4", {"192.168.0.1", "0.0.0.0"}, {"256.1.1.1", "1.2.3", "01.2.3.4"});
  expect_format("ipv6", {"::1", "2001:db8::8a2e:370:7334", "::ffff:192.168.0.1"},
                {"2001:db8::g", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0"});
}

TEST(Format, UnknownFormatsAreAnnotations) {
  EXPECT_TRUE(valid(compile_ok(R"({"format":"hostname"})"), R"("!!!")"));
  EXPECT_TRUE(valid(compile_ok(R"({"format":"date"})"), "12"));  // non-strings ignored
}

}  // namespace
}  // namespace enkisys::schema::testing
