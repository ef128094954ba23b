#include "enkisys/cli/env.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <ctime>
#include <thread>

#include "enkisys/core/client.hpp"

namespace enkisys::cli {

HttpResponse CoreHttpClient::send(const HttpRequest& request) {
  namespace http = core::http;
  core::ClientRequest req;
  req.method = http::string_to_verb(request.method);
  if (req.method == http::verb::unknown) return {0, "", "unknown method " + request.method};
  req.url = request.url;
  req.headers = request.headers;
  req.body = request.body;
  core::ClientOptions options;
  options.connect_timeout = std::min(request.timeout, std::chrono::milliseconds(3000));
  options.timeout = request.timeout;

  boost::asio::io_context io;
  core::HttpClient client(0);
  auto future =
      boost::asio::co_spawn(io, client.send(std::move(req), options), boost::asio::use_future);
  io.run();
  HttpResponse out;
  try {
    auto result = future.get();
    if (!result.ok()) {
      out.error = result.error().message.empty() ? "request failed" : result.error().message;
      return out;
    }
    out.status = result->status;
    out.body = std::move(result->body);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

std::string format_time(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_time_ms(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::string stamp = format_time(t);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms % 1000));
  stamp.insert(stamp.size() - 1, frac);
  return stamp;
}

}  // namespace enkisys::cli
