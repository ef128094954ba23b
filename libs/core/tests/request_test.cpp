#include "enkisys/core/request.hpp"

#include <gtest/gtest.h>

namespace enkisys::core {
namespace {

TEST(Bearer, SchemeIsCaseInsensitiveAndSpacesAreTrimmed) {
  EXPECT_EQ(parse_bearer("Bearer abc.def"), "abc.def");
  EXPECT_EQ(parse_bearer("bearer abc"), "abc");
  EXPECT_EQ(parse_bearer("BEARER   abc  "), "abc");
}

TEST(Bearer, OtherSchemesAndMalformedValuesHaveNoToken) {
  EXPECT_EQ(parse_bearer(""), std::nullopt);
  EXPECT_EQ(parse_bearer("Bearer"), std::nullopt);
  EXPECT_EQ(parse_bearer("Bearer "), std::nullopt);
  EXPECT_EQ(parse_bearer("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(parse_bearer("Bearerabc"), std::nullopt);
  EXPECT_EQ(parse_bearer("Bearer a b"), std::nullopt);
  EXPECT_EQ(parse_bearer("Bearer a\r\nX-Evil: 1"), std::nullopt);
  EXPECT_EQ(parse_bearer("Bearer " + std::string(9000, 'a')), std::nullopt);
}

TEST(Bearer, ADuplicatedAuthorizationHeaderHasNoToken) {
  Request one{http::verb::get, "/", 11};
  one.insert(http::field::authorization, "Bearer first");
  EXPECT_EQ(bearer_token(one), "first");
  Request two = one;
  two.insert(http::field::authorization, "Bearer second");
  EXPECT_EQ(bearer_token(two), std::nullopt);
  Request none{http::verb::get, "/", 11};
  EXPECT_EQ(bearer_token(none), std::nullopt);
}

TEST(QueryInt, ParsesWithinRangeAndNamesTheParameterOtherwise) {
  const std::map<std::string, std::string> q{{"limit", "20"}, {"bad", "2x"}, {"big", "1000"}};
  EXPECT_EQ(query_int(q, "limit", 50, 1, 100), 20);
  EXPECT_EQ(query_int(q, "absent", 50, 1, 100), 50);
  try {
    (void)query_int(q, "bad", 50, 1, 100);
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), http::status::bad_request);
    EXPECT_EQ(e.code(), "invalid_query");
    EXPECT_NE(std::string(e.what()).find("bad"), std::string::npos);
  }
  EXPECT_THROW((void)query_int(q, "big", 50, 1, 100), ApiError);
}

TEST(ValueOrThrow, AnErrorBecomesAnApiErrorWithItsStatus) {
  Expected<int> ok = 5;
  EXPECT_EQ(value_or_throw(std::move(ok)), 5);
  Expected<int> bad = make_error(ErrorKind::kNotFound, "no_tool", "no tool named x");
  try {
    (void)value_or_throw(std::move(bad));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), http::status::not_found);
    EXPECT_EQ(e.code(), "no_tool");
  }
  const auto fails = []() -> Status { return make_error(ErrorKind::kConflict, "", "taken"); };
  EXPECT_THROW(value_or_throw(fails()), ApiError);
  EXPECT_NO_THROW(value_or_throw(ok_status()));
}

}  // namespace
}  // namespace enkisys::core
