// URL templates: validation and expansion, including injection attempts.
#include "enkisys/tools/url_template.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace enkisys::tools {
namespace {

boost::json::object args(std::string_view j) {
  return boost::json::parse(j).as_object();
}

std::string url_of(std::string_view method, std::string_view tmpl, std::string_view a) {
  auto r = expand_request(method, tmpl, args(a));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::string(r->url.buffer()) : "";
}

TEST(UrlTemplate, ValidTemplatesListPlaceholders) {
  auto r = parse_url_template("https://api.example.com/v1/items/{id}/parts/{part}?q={q}&x=1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->path_params, (std::vector<std::string>{"id", "part"}));
  EXPECT_EQ(r->query_params, (std::vector<std::string>{"q"}));
}

TEST(UrlTemplate, InvalidTemplatesAreRefused) {
  for (const char* t :
       {"ftp://example.com/", "//example.com/x", "https://{host}/x", "https://example.com:{port}/",
        "https://user:pw@example.com/", "https://example.com/#frag", "https://example.com/{a",
        "https://example.com/a}", "https://example.com/{bad name}", "https:///path",
        "https://exa mple.com/", "https://example.com:0/", "example.com/x"}) {
    EXPECT_FALSE(parse_url_template(t).ok()) << t;
  }
}

TEST(UrlTemplate, PathValuesArePercentEncodedAndCannotChangeStructure) {
  EXPECT_EQ(
      url_of("GET", "https://api.example.com/users/{id}/profile", R"({"id":"../admin?x=1#f"})"),
      "https://api.example.com/users/..%2Fadmin%3Fx%3D1%23f/profile");
  EXPECT_EQ(url_of("GET", "https://api.example.com/u/{id}", R"({"id":"a/b%2F"})"),
            "https://api.example.com/u/a%2Fb%252F");
  EXPECT_EQ(url_of("GET", "https://api.example.com/u/{id}", R"({"id":42})"),
            "https://api.example.com/u/42");
}

TEST(UrlTemplate, DotSegmentsAndEmptyPathValuesAreRefused) {
  for (const char* v : {R"({"id":".."})", R"({"id":"."})", R"({"id":""})"}) {
    auto r = expand_request("GET", "https://api.example.com/u/{id}/x", args(v));
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_EQ(r.error().code, errc::invalid_arguments);
  }
  auto missing = expand_request("GET", "https://api.example.com/u/{id}", args("{}"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "missing path parameter 'id'");
}

TEST(UrlTemplate, QueryValuesCannotInjectParameters) {
  EXPECT_EQ(url_of("GET", "https://api.example.com/s?q={q}", R"({"q":"a&admin=true"})"),
            "https://api.example.com/s?q=a%26admin%3Dtrue");
  EXPECT_EQ(url_of("GET", "https://api.example.com/s?q={q}&limit=5", R"({})"),
            "https://api.example.com/s?limit=5");  // absent optional pair dropped
}

TEST(UrlTemplate, FixedQueryParametersWinOverExtraArguments) {
  // An extra argument named like a parameter of the template never adds a second value.
  EXPECT_EQ(url_of("GET", "https://api.example.com/s?q={p}", R"({"p":"cats","q":"dogs"})"),
            "https://api.example.com/s?q=cats");
  EXPECT_EQ(url_of("GET", "https://api.example.com/s?api_version=2&q={p}",
                   R"({"p":"x","api_version":"1"})"),
            "https://api.example.com/s?api_version=2&q=x");
  EXPECT_EQ(url_of("DELETE", "https://api.example.com/s?%71=1", R"({"q":"2","r":"3"})"),
            "https://api.example.com/s?%71=1&r=3");
  // Even when the placeholder's own argument is absent, `q` is not the caller's to set.
  EXPECT_EQ(url_of("GET", "https://api.example.com/s?q={p}", R"({"q":"dogs"})"),
            "https://api.example.com/s");
}

TEST(UrlTemplate, RemainingArgumentsGoToQueryForGetAndDelete) {
  EXPECT_EQ(url_of("GET", "https://api.example.com/items/{id}",
                   R"({"id":1,"tags":["a b","c"],"n":2,"z":null})"),
            "https://api.example.com/items/1?tags=a%20b&tags=c&n=2");
  EXPECT_EQ(url_of("DELETE", "https://api.example.com/items/{id}?force=1", R"({"id":1,"why":"x"})"),
            "https://api.example.com/items/1?force=1&why=x");
}

TEST(UrlTemplate, RemainingArgumentsGoToJsonBodyForPostPutPatch) {
  auto r = expand_request("POST", "https://api.example.com/items/{id}",
                          args(R"({"id":"7","name":"n","q":[1]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url.buffer(), "https://api.example.com/items/7");
  ASSERT_TRUE(r->body.has_value());
  EXPECT_EQ(boost::json::parse(*r->body), boost::json::parse(R"({"name":"n","q":[1]})"));
  auto put = expand_request("PUT", "https://api.example.com/x", args("{}"));
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(*put->body, "{}");
  EXPECT_FALSE(expand_request("GET", "https://api.example.com/x", args("{}"))->body.has_value());
}

TEST(UrlTemplate, HostNeverChanges) {
  auto r = expand_request("GET", "https://api.example.com/{p}", args(R"({"p":"@evil.com"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url.host(), "api.example.com");
  EXPECT_FALSE(expand_request("GET", "https://api.example.com/{p}", args(R"({"p":{"a":1}})")).ok());
}

}  // namespace
}  // namespace enkisys::tools
