#include "enkisys/tools/tool_runner.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "enkisys/core/utf8.hpp"
#include "enkisys/tools/calculator.hpp"
#include "enkisys/tools/text.hpp"
#include "enkisys/tools/url_template.hpp"

namespace enkisys::tools {

namespace json = boost::json;
namespace http = boost::beast::http;

ToolRunner::ToolRunner(core::HttpClient& client, RunnerConfig config, Clock clock)
    : client_(client),
      config_(std::move(config)),
      tzdb_(config_.zoneinfo_dir),
      clock_(std::move(clock)) {}

namespace {
RunOutcome failure(const ErrorCode& code, std::string message, unsigned upstream_status = 0) {
  RunOutcome o;
  o.error = make_error(code, std::move(message));
  o.upstream_status = upstream_status;
  return o;
}

RunOutcome from_result(core::Expected<json::value> r) {
  RunOutcome o;
  if (r) {
    o.ok = true;
    o.result = std::move(r).value();
  } else {
    o.error = r.error();
  }
  return o;
}

http::verb verb_of(std::string_view m) {
  if (m == "POST") return http::verb::post;
  if (m == "PUT") return http::verb::put;
  if (m == "PATCH") return http::verb::patch;
  if (m == "DELETE") return http::verb::delete_;
  return http::verb::get;
}
}  // namespace

boost::asio::awaitable<RunOutcome> ToolRunner::run(const ToolDefinition& tool,
                                                   const json::object& arguments) {
  if (tool.kind == ToolKind::builtin) {
    if (tool.name == "calculator") co_return from_result(run_calculator(arguments));
    if (tool.name == "current_time")
      co_return from_result(run_current_time(arguments, tzdb_, clock_));
    if (tool.name == "http_get") {
      core::ClientRequest req;
      req.method = http::verb::get;
      req.url = std::string(arguments.at("url").as_string());
      co_return co_await fetch(config_.http_get, std::move(req), {});
    }
    co_return failure(errc::tool_error, "unknown built-in tool '" + tool.name + "'");
  }
  const HttpSpec& spec = *tool.http;
  auto expanded = expand_request(spec.method, spec.url, arguments);
  if (!expanded) {
    RunOutcome o;
    o.error = expanded.error();
    co_return o;
  }
  core::ClientRequest req;
  req.method = verb_of(expanded->method);
  req.url = std::string(expanded->url.buffer());
  for (const auto& [k, v] : spec.headers) req.headers.emplace_back(k, v);
  if (expanded->body) {
    req.body = *expanded->body;
    req.headers.emplace_back("Content-Type", "application/json");
  }
  req.headers.emplace_back("Accept", "application/json, text/plain;q=0.9, */*;q=0.5");
  core::ClientOptions opts;
  opts.timeout = std::chrono::milliseconds(spec.timeout_ms);
  opts.connect_timeout = std::min(opts.timeout, std::chrono::milliseconds(3000));
  opts.max_response_bytes = spec.max_response_bytes;
  co_return co_await fetch(config_.http_tools, std::move(req), opts);
}

boost::asio::awaitable<RunOutcome> ToolRunner::fetch(const EgressPolicy& policy,
                                                     core::ClientRequest req,
                                                     core::ClientOptions opts) {
  auto parsed = boost::urls::parse_absolute_uri(req.url);
  if (!parsed) co_return failure(errc::invalid_arguments, "url is not an absolute URL");
  if (policy.require_allowed_host && !policy.host_allowed(parsed->host())) {
    co_return failure(errc::egress_refused,
                      "host '" + std::string(parsed->host()) + "' is not in the allowlist");
  }
  auto vetter =
      [&policy](
          std::string_view host,
          const std::vector<boost::asio::ip::tcp::endpoint>& eps) -> std::optional<std::string> {
    std::vector<boost::asio::ip::address> addrs;
    addrs.reserve(eps.size());
    for (const auto& ep : eps) addrs.push_back(ep.address());
    Decision d = policy.check(host, addrs);
    if (d.allowed) return std::nullopt;
    return d.reason;
  };
  core::ClientResult r = co_await client_.send(std::move(req), opts, vetter);
  if (!r.ok()) {
    using C = core::ClientError::Code;
    switch (r.error().code) {
      case C::kRefused:
        co_return failure(errc::egress_refused, r.error().message);
      case C::kBadUrl:
        co_return failure(errc::invalid_arguments, r.error().message);
      case C::kTimeout:
        co_return failure(errc::upstream_timeout, r.error().message);
      default:
        co_return failure(errc::upstream_error, r.error().message);
    }
  }
  const auto& res = *r;
  json::value body;
  const auto ct = res.header("Content-Type");
  if (boost::beast::iequals(ct.substr(0, std::min<std::size_t>(ct.size(), 16)),
                            "application/json")) {
    boost::system::error_code ec;
    body = json::parse(res.body, ec);
    if (ec) body = json::string(core::to_valid_utf8(res.body));
  } else {
    body = json::string(core::to_valid_utf8(res.body));
  }
  if (res.status >= 200 && res.status < 300) {
    RunOutcome o;
    o.ok = true;
    o.result = std::move(body);
    o.upstream_status = res.status;
    co_return o;
  }
  co_return failure(errc::upstream_error, "upstream answered HTTP " + std::to_string(res.status),
                    res.status);
}

}  // namespace enkisys::tools
