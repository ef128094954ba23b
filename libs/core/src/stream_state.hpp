// Internal: the per-exchange state behind ResponseStream/SseStream/BodyStream, shared by
// server.cpp (which creates and ends it) and stream.cpp (which implements the handles).
// Everything here runs on the connection's executor; nothing is thread-safe.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

#include "enkisys/core/server.hpp"
#include "enkisys/core/stream.hpp"

namespace enkisys::core::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

// What a handler's RequestContext may reach of its connection. Lives on the session's frame for
// one request; `response`/`body` are set only on the streaming paths.
struct Exchange {
  beast::tcp_stream* stream = nullptr;
  beast::flat_buffer* buffer = nullptr;  // the connection's read buffer
  const ServerOptions* opt = nullptr;
  const Request* req = nullptr;
  const std::atomic<bool>* stopping = nullptr;
  // Conn::streaming of the session (begin_stop reaches the stream through it).
  std::shared_ptr<StreamState>* conn_slot = nullptr;
  std::shared_ptr<StreamState> response;
  BodyState* body = nullptr;
};

struct StreamState : std::enable_shared_from_this<StreamState> {
  StreamState(Exchange& ex, bool sse, std::chrono::milliseconds heartbeat);

  // Sends the header block; then starts the disconnect watch and the heartbeat.
  void prepare(const StreamOptions& o, std::string_view request_id);  // builds `header`
  asio::awaitable<void> begin();
  // Writes one piece (chunk-framed unless HTTP/1.0). Throws StreamClosed.
  asio::awaitable<void> write(std::string_view data);
  // Ends the stream: waits for a heartbeat in flight, writes the last chunk when `clean`,
  // stops the watch (its bytes stay in the connection buffer). True: connection reusable.
  asio::awaitable<bool> finish(bool clean);
  // Client gone (true) or server stopping (false): flags, the signal, wakes wait().
  void cancel(bool client_gone);

  void start_watch();
  void on_watch(boost::system::error_code ec, std::size_t n);
  void arm_heartbeat();
  void on_heartbeat(boost::system::error_code ec);
  asio::awaitable<void> wait_writer_idle();

  beast::tcp_stream& stream;
  beast::flat_buffer& buffer;
  std::chrono::milliseconds write_timeout;
  std::chrono::milliseconds heartbeat;  // zero: none
  std::size_t watch_cap;                // stop watching when this much is buffered
  bool sse;
  bool chunked = true;
  bool head = false;
  bool keep_alive = true;
  unsigned status = 200;
  http::response<http::empty_body> header;
  std::uint64_t bytes = 0;
  bool gone = false;
  bool stopping = false;
  bool failed = false;
  bool ended = false;
  bool writing = false;
  bool ping_writing = false;
  bool watching = false;
  bool unwatch = false;
  boost::system::error_code last_error;
  std::chrono::steady_clock::time_point last_write;
  asio::steady_timer heartbeat_timer;
  asio::steady_timer writer_idle;  // cancelled when a heartbeat write completes
  asio::steady_timer watch_done;   // cancelled when the watch read completes
  asio::steady_timer wait_timer;   // ResponseStream::wait
  asio::cancellation_signal signal;
  bool emitted = false;
};

struct BodyState {
  static constexpr std::size_t kPiece = 64 * 1024;
  BodyState(http::request_parser<http::string_body>&& head, Exchange& ex, std::uint64_t max);

  asio::awaitable<std::string_view> read();
  bool complete() const { return parser.is_done(); }

  http::request_parser<http::buffer_body> parser;
  beast::tcp_stream& stream;
  beast::flat_buffer& buffer;
  std::chrono::milliseconds body_timeout;
  std::chrono::milliseconds write_timeout;
  std::uint64_t max;
  std::uint64_t total = 0;
  bool expect_continue = false;
  bool at_end = false;
  std::unique_ptr<char[]> piece;
  BodyStream handle{*this};
};

}  // namespace enkisys::core::detail
