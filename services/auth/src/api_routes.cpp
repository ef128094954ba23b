// The error answers of the auth routes (kept apart from api_support.cpp: the coroutines here
// are not built with the fuzzing instrumentation, which clang 14 cannot apply to them).
#include <memory>
#include <optional>

#include "enkisys/auth/api_support.hpp"

namespace enkisys::auth::api {

namespace http = core::http;
using boost::asio::awaitable;
using core::ApiError;

namespace {
awaitable<core::Response> answer(std::shared_ptr<const core::Handler> handler, core::Request& req,
                                 core::RequestContext& ctx) {
  std::optional<core::Response> failed;
  try {
    co_return co_await (*handler)(req, ctx);
  } catch (const ApiError& e) {
    failed = error_reply(e, ctx);
  }
  co_return std::move(*failed);
}
}  // namespace

core::Response error_reply(const ApiError& e, const core::RequestContext& ctx) {
  core::Response res = core::error_response(e, ctx.request_id());
  if (e.status() == http::status::unauthorized) {
    const bool bad_token = e.code() == "invalid_token" || e.code() == "token_revoked";
    res.set(http::field::www_authenticate, bad_token ? "Bearer error=\"invalid_token\"" : "Bearer");
  }
  res.set(http::field::cache_control, "no-store");
  return res;
}

void add_route(core::Router& router, http::verb method, std::string_view pattern,
               core::Handler handler) {
  auto shared = std::make_shared<const core::Handler>(std::move(handler));
  router.add(method, pattern, [shared](core::Request& req, core::RequestContext& ctx) {
    return answer(shared, req, ctx);
  });
}

}  // namespace enkisys::auth::api
