#include "enkisys/core/testing/fakes.hpp"

#include <string_view>
#include <utility>

namespace enkisys::core::testing {

using std::chrono::nanoseconds;

FakeClock::FakeClock(std::chrono::sys_seconds start) {
  set(start);
  steady_ns_ = 1'000'000'000;  // steady time starts at 1 s: never the zero time_point
}

Clock::time_point FakeClock::now() const {
  return time_point(std::chrono::duration_cast<time_point::duration>(nanoseconds(wall_ns_.load())));
}

Clock::steady_time_point FakeClock::steady_now() const {
  return steady_time_point(
      std::chrono::duration_cast<steady_time_point::duration>(nanoseconds(steady_ns_.load())));
}

void FakeClock::sleep_for(std::chrono::milliseconds d) {
  slept_ms_ += d.count();
  advance(d);
}

void FakeClock::advance(nanoseconds d) {
  wall_ns_ += d.count();
  steady_ns_ += d.count();
}

void FakeClock::set(time_point t) {
  wall_ns_ = std::chrono::duration_cast<nanoseconds>(t.time_since_epoch()).count();
}

std::chrono::milliseconds FakeClock::slept() const {
  return std::chrono::milliseconds(slept_ms_.load());
}

void FakeHttpClient::respond(std::string url_prefix, unsigned status, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers, int times,
                             http::verb method) {
  ClientResult r = ClientResponse{status, std::move(headers), std::move(body)};
  std::lock_guard lock(mu_);
  script_.push_back({std::move(url_prefix), method, std::move(r), times > 0 ? times : -1});
}

void FakeHttpClient::fail(std::string url_prefix, ClientError::Code code, std::string message,
                          int times) {
  ClientResult r = ClientError{code, std::move(message)};
  std::lock_guard lock(mu_);
  script_.push_back(
      {std::move(url_prefix), http::verb::unknown, std::move(r), times > 0 ? times : -1});
}

boost::asio::awaitable<ClientResult> FakeHttpClient::send(ClientRequest request,
                                                          ClientOptions options, EndpointVetter) {
  ClientResult out =
      ClientError{ClientError::Code::kConnect, "no scripted response for " + request.url};
  {
    std::lock_guard lock(mu_);
    for (auto& a : script_) {
      if (a.left == 0 || request.url.rfind(a.prefix, 0) != 0) continue;
      if (a.method != http::verb::unknown && a.method != request.method) continue;
      if (a.left > 0) --a.left;
      out = a.result;
      break;
    }
    requests_.push_back(std::move(request));
    options_.push_back(options);
  }
  if (out.ok() && options.on_body) {
    // Streamed like a real server: in three pieces, until the consumer stops reading.
    const std::string body = std::exchange(out->body, {});
    const std::size_t step = body.size() / 3 + 1;
    for (std::size_t at = 0; at < body.size(); at += step) {
      if (!options.on_body(std::string_view(body).substr(at, step))) break;
    }
  }
  co_return out;
}

std::vector<ClientRequest> FakeHttpClient::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::vector<ClientOptions> FakeHttpClient::options() const {
  std::lock_guard lock(mu_);
  return options_;
}

}  // namespace enkisys::core::testing
