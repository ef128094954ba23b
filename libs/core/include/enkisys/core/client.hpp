// Outbound HTTP/1.1 client (http and https) with a keep-alive connection pool, a connect
// deadline, a whole-exchange deadline and a response size cap. Used by the gateway, the agent
// and the tools service's HTTP tools.
//
// Contract:
//  * Thread-safe: send() may be called concurrently from any coroutine; a pooled connection is
//    used by one exchange at a time.
//  * Errors are values (ClientResult::error), never exceptions, for network outcomes.
//  * The optional EndpointVetter sees every address a host name resolved to BEFORE any connect
//    and may refuse the request (SSRF guard); the client then connects only to vetted
//    addresses, so DNS rebinding between check and connect is impossible. Pooled connections
//    are keyed by host and vetter generation and are only reused for the same host.
//  * A stale pooled connection (closed by the peer) is retried once on a fresh connection for
//    idempotent methods only.
//  * Streaming (ClientOptions::on_body): the body is handed over piece by piece as it arrives
//    (chunked framing removed) and ClientResponse::body stays empty. on_body runs on the
//    coroutine's executor, in order, and may return false to stop reading: send() then
//    completes with the response head and closes the connection (never pooled).
//  * Cancellation: send() honours asio cancellation (terminal) of its coroutine: the socket is
//    closed and send() completes with ClientError kCancelled (on_body sees nothing after).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "enkisys/core/expected.hpp"
#include "enkisys/core/http.hpp"

namespace enkisys::core {

struct ClientRequest {
  http::verb method = http::verb::get;
  std::string url;  // http://host[:port]/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{3'000};
  std::chrono::milliseconds timeout{10'000};     // whole exchange after connect
  std::size_t max_response_bytes = 1024 * 1024;  // not applied to streamed bodies (on_body)
  // Time from the end of the request to the response head (status and headers), and with
  // on_body to the first byte of the body; zero: only `timeout` applies. Exceeding it →
  // kTimeout.
  std::chrono::milliseconds first_byte_timeout{0};
  // When set, body bytes are given here as they arrive instead of being accumulated; return
  // false to stop reading (the connection is then closed, not pooled).
  std::function<bool(std::string_view)> on_body;
};

struct ClientResponse {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Case-insensitive lookup; empty if absent.
  std::string_view header(std::string_view name) const;
};

struct ClientError {
  enum class Code {
    kNone,
    kBadUrl,
    kRefused,
    kResolve,
    kConnect,
    kTimeout,
    kTooLarge,
    kProtocol,
    kTls,
    kCancelled  // the send() coroutine was cancelled
  };
  Code code = Code::kNone;
  std::string message;
};

// A response, or why there is none (libs/core's one Expected).
using ClientResult = Expected<ClientResponse, ClientError>;

// Returns a refusal reason, or nullopt to allow connecting to `endpoints` for `host`.
using EndpointVetter = std::function<std::optional<std::string>(
    std::string_view host, const std::vector<boost::asio::ip::tcp::endpoint>& endpoints)>;

// The outbound HTTP interface services depend on (constructor injection): HttpClient is the
// production implementation (one per service, ServiceEnv::http), core::testing::FakeHttpClient
// the test one (scripted responses, recorded requests). Same contract as HttpClient::send.
class HttpSender {
 public:
  virtual ~HttpSender() = default;
  virtual boost::asio::awaitable<ClientResult> send(ClientRequest request,
                                                    ClientOptions options = {},
                                                    EndpointVetter vetter = {}) = 0;
};

class HttpClient final : public HttpSender {
 public:
  // Sockets are created on the executor of the coroutine that calls send(); pooled
  // connections must therefore be used from coroutines of the same io_context.
  explicit HttpClient(std::size_t max_idle_per_host = 16);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  boost::asio::awaitable<ClientResult> send(ClientRequest request, ClientOptions options = {},
                                            EndpointVetter vetter = {}) override;

  // Number of idle pooled connections (for tests and metrics).
  std::size_t idle_connections() const;
  // Closes and forgets every idle pooled connection. A pooled socket belongs to the io_context
  // of the coroutine that opened it: call this before such an io_context is destroyed (the
  // service skeleton does, after its listeners stopped) so no socket outlives its reactor.
  void close_idle();

 private:
  struct Impl;
  static boost::asio::awaitable<ClientResult> send_once(std::shared_ptr<Impl> impl,
                                                        ClientRequest request,
                                                        ClientOptions options,
                                                        EndpointVetter vetter);
  std::shared_ptr<Impl> impl_;
};

}  // namespace enkisys::core
