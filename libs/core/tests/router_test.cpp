#include "enkisys/core/router.hpp"

#include <gtest/gtest.h>

namespace enkisys::core {
namespace {

Handler noop() {
  return
      [](Request&, RequestContext&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router r;
  r.add(http::verb::get, "/api/tools", noop());
  r.add(http::verb::get, "/api/tools/{name}", noop());
  r.add(http::verb::post, "/api/tools/{name}/invoke", noop());
  auto m = r.match(http::verb::get, "/api/tools/calc%20ulator");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.pattern, "/api/tools/{name}");
  EXPECT_EQ(m.params.get("name"), "calc ulator");
  EXPECT_EQ(r.match(http::verb::post, "/api/tools/x/invoke").kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(r.match(http::verb::get, "/api/tools").pattern, "/api/tools");
}

TEST(Router, LiteralWinsOverParameter) {
  Router r;
  r.add(http::verb::get, "/api/tools/{name}", noop());
  r.add(http::verb::post, "/api/tools/import", noop());
  auto m = r.match(http::verb::post, "/api/tools/import");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.pattern, "/api/tools/import");
}

TEST(Router, UnknownPathIsNotFoundAndWrongMethodListsAllow) {
  Router r;
  r.add(http::verb::get, "/api/tools/{name}", noop());
  r.add(http::verb::put, "/api/tools/{name}", noop());
  EXPECT_EQ(r.match(http::verb::get, "/api/nope").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match(http::verb::get, "/api/tools/a/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(r.match(http::verb::get, "/api/tools/").kind, RouteMatch::Kind::kNotFound);
  auto m = r.match(http::verb::delete_, "/api/tools/x");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, PUT");
}

TEST(Router, HeadFallsBackToGet) {
  Router r;
  r.add(http::verb::get, "/health", noop());
  EXPECT_EQ(r.match(http::verb::head, "/health").kind, RouteMatch::Kind::kFound);
}

TEST(Router, MalformedPercentEscapeInParameterIsNotFound) {
  Router r;
  r.add(http::verb::get, "/t/{name}", noop());
  EXPECT_EQ(r.match(http::verb::get, "/t/%zz").kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, DuplicateRouteIsRejected) {
  Router r;
  r.add(http::verb::get, "/a", noop());
  EXPECT_THROW(r.add(http::verb::get, "/a", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(http::verb::get, "relative", noop()), std::invalid_argument);
}

}  // namespace
}  // namespace enkisys::core
