// Streamed responses (chunked transfer encoding, server-sent events) and streamed request
// bodies, for handlers of HttpServer. Obtained from RequestContext (server.hpp):
//
//   auto sse = co_await ctx.stream_sse();             // headers are on the wire now
//   co_await sse.event("message.delta", json::object{{"text", "Hel"}});
//   co_return sse.done();                               // the last chunk follows
//
//   auto& body = ctx.body();                            // route added with stream_body
//   for (auto piece = co_await body.read(); !piece.empty(); piece = co_await body.read()) ...
//
// Contract (both):
//  * Thread safety: a stream belongs to its request; use it only from the handler's coroutine
//    (the connection's executor), one operation at a time. Not thread-safe.
//  * Lifetime: a ResponseStream/SseStream is a cheap handle; it stays usable until the handler
//    returns. BodyStream& is owned by the server and valid until the handler returns.
//
// Responses:
//  * Back-pressure: write()/event() complete only when the socket took the bytes; there is no
//    queue. Each write has ServerOptions::write_timeout: a client that stops reading is cut off
//    and the write throws StreamClosed (as does any write after the client went away).
//  * Cancellation: while the handler works between writes the server watches the socket. When
//    the client closes or resets it, or the server begins a graceful stop, cancelled() becomes
//    true, the cancellation slot is emitted (terminal) and wait() returns early. Bytes of a
//    pipelined next request are kept for the connection, not treated as a disconnect.
//  * SSE heartbeats: a comment line ": ping" after StreamOptions::heartbeat without a write
//    (it also detects dead clients: a failed ping counts as the client gone).
//  * End: the handler returns done(). The server then writes the last chunk and keeps the
//    connection alive if the request allowed it, the server is not stopping and nothing failed.
//    If the handler throws after the stream began, no error response can be sent: the
//    connection is closed without the last chunk (the client sees a truncated body), and the
//    exception is logged unless it is StreamClosed. Metrics and the access log record the
//    stream's status, body bytes and duration once it ends.
//  * HEAD: the headers are sent and writes are discarded. HTTP/1.0: the body is sent raw and
//    the connection closes at the end.
//
// Bodies:
//  * read() returns the next piece (at most 64 KiB) of the decoded body, an empty view at the
//    end. Each read has ServerOptions::body_timeout (a stalled client → ApiError 408). A body
//    above the route's max_body_bytes → ApiError 413 (Content-Length is checked before the
//    handler runs; chunked bodies while reading). Malformed chunking → ApiError 400.
//    `Expect: 100-continue` is answered on the first read, so a handler can refuse a body
//    without receiving it. A body not read to its end closes the connection after the response.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "enkisys/core/http.hpp"

namespace enkisys::core {

namespace detail {
struct Exchange;
struct StreamState;
struct BodyState;
}  // namespace detail

// Thrown by a write once the client is gone, stopped reading past the write deadline, or the
// socket failed. code(): the socket error (e.g. beast::error::timeout, connection_reset).
class StreamClosed : public std::system_error {
 public:
  using std::system_error::system_error;
};

struct StreamOptions {
  http::status status = http::status::ok;
  // Chunked streams only; SSE always sends text/event-stream.
  std::string content_type = "application/octet-stream";
  http::fields headers;  // extra response headers (not Content-Length/Transfer-Encoding)
  // SSE only: a ": ping" comment after this long without a write; zero disables.
  std::chrono::milliseconds heartbeat{15'000};
};

// A chunked response body being written. See the file comment for the contract.
class ResponseStream {
 public:
  // Writes `data` as one chunk (nothing for empty data). Throws StreamClosed.
  boost::asio::awaitable<void> write(std::string_view data);

  // True once the client went away or the server is stopping.
  bool cancelled() const;
  // True once the client went away (or a write to it failed).
  bool client_gone() const;
  // Emitted (terminal) when cancelled() becomes true. Bind it to an operation started on the
  // handler's executor, e.g. bind_cancellation_slot(s.cancellation_slot(), use_awaitable).
  // One operation at a time (an asio slot holds one handler).
  boost::asio::cancellation_slot cancellation_slot();
  // Waits for `d` or until cancelled(), whichever is first. Returns !cancelled().
  boost::asio::awaitable<bool> wait(std::chrono::steady_clock::duration d);
  // Body bytes written so far (without chunk framing).
  std::uint64_t bytes_written() const;

  // The value the handler returns to end the stream.
  Response done();

 protected:
  friend class RequestContext;
  explicit ResponseStream(std::shared_ptr<detail::StreamState> st) : st_(std::move(st)) {}
  std::shared_ptr<detail::StreamState> st_;
};

// A text/event-stream response (https://html.spec.whatwg.org/#server-sent-events).
class SseStream : public ResponseStream {
 public:
  // One event: `event: name` (omitted when empty), `id: id` (when given), one `data:` line per
  // line of data (LF, CRLF or CR split). Throws StreamClosed; std::invalid_argument when name
  // or id contains a line break.
  boost::asio::awaitable<void> event(std::string_view name, std::string_view data,
                                     std::optional<std::string_view> id = std::nullopt);
  // The same with data = serialize(json).
  boost::asio::awaitable<void> event(std::string_view name, const boost::json::value& data,
                                     std::optional<std::string_view> id = std::nullopt);
  // (Disambiguate text data from JSON strings.)
  boost::asio::awaitable<void> event(std::string_view name, const char* data,
                                     std::optional<std::string_view> id = std::nullopt) {
    return event(name, std::string_view(data), id);
  }
  boost::asio::awaitable<void> event(std::string_view name, const std::string& data,
                                     std::optional<std::string_view> id = std::nullopt) {
    return event(name, std::string_view(data), id);
  }
  // `retry: ms` — the client's reconnection delay.
  boost::asio::awaitable<void> retry(std::chrono::milliseconds ms);
  // A comment line `: text` (ignored by clients). Line breaks in text are replaced by spaces.
  boost::asio::awaitable<void> comment(std::string_view text);

 private:
  friend class RequestContext;
  using ResponseStream::ResponseStream;
};

// The SSE wire form of one event (what event() writes). Exposed for tests and for clients.
std::string format_sse_event(std::string_view name, std::string_view data,
                             std::optional<std::string_view> id = std::nullopt);

// A request body pulled by the handler (routes added with RouteOptions::stream_body).
class BodyStream {
 public:
  // The next piece of the body, valid until the next read(); empty at the end. Throws
  // ApiError 413 / 408 / 400 (see the file comment).
  boost::asio::awaitable<std::string_view> read();
  // True once read() returned the end.
  bool done() const;
  std::uint64_t bytes_read() const;
  // The declared Content-Length (nullopt for chunked bodies).
  std::optional<std::uint64_t> content_length() const;
  // The route's cap.
  std::uint64_t max_bytes() const;

 private:
  friend struct detail::BodyState;
  explicit BodyStream(detail::BodyState& st) : st_(&st) {}
  detail::BodyState* st_;
};

}  // namespace enkisys::core
