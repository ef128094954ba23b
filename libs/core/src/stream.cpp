#include "enkisys/core/stream.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>

#include "stream_state.hpp"

namespace enkisys::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kPing = ": ping\n\n";

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}
}  // namespace

namespace detail {

StreamState::StreamState(Exchange& ex, bool is_sse, std::chrono::milliseconds hb)
    : stream(*ex.stream),
      buffer(*ex.buffer),
      write_timeout(ex.opt->write_timeout),
      heartbeat(is_sse ? hb : std::chrono::milliseconds{0}),
      watch_cap(ex.opt->max_header_bytes),
      sse(is_sse),
      heartbeat_timer(stream.get_executor()),
      writer_idle(stream.get_executor()),
      watch_done(stream.get_executor()),
      wait_timer(stream.get_executor()) {}

void StreamState::prepare(const StreamOptions& o, std::string_view request_id) {
  auto& res = header;
  res.result(o.status);
  for (const auto& f : o.headers) res.set(f.name_string(), f.value());
  res.set(http::field::content_type, sse ? "text/event-stream" : o.content_type);
  res.set("X-Request-Id", request_id);
  if (sse) {
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Accel-Buffering", "no");
  }
  res.chunked(chunked);
  res.keep_alive(keep_alive);
  status = res.result_int();
}

asio::awaitable<void> StreamState::begin() {
  stream.expires_after(write_timeout);
  http::response_serializer<http::empty_body> sr{header};
  auto [ec, n] = co_await http::async_write_header(stream, sr, kTuple);
  last_write = std::chrono::steady_clock::now();
  if (ec) {
    failed = true;
    gone = true;
    throw StreamClosed(ec, "stream header write failed");
  }
  arm_heartbeat();
}

asio::awaitable<void> StreamState::wait_writer_idle() {
  while (ping_writing) {
    writer_idle.expires_at(std::chrono::steady_clock::time_point::max());
    co_await writer_idle.async_wait(kTuple);
  }
}

asio::awaitable<void> StreamState::write(std::string_view data) {
  co_await wait_writer_idle();
  if (failed || gone) {
    throw StreamClosed(last_error ? last_error : asio::error::connection_aborted, "client is gone");
  }
  if (head || data.empty()) co_return;
  writing = true;
  stream.expires_after(write_timeout);
  error_code ec;
  if (chunked) {
    std::tie(ec, std::ignore) =
        co_await asio::async_write(stream, http::make_chunk(asio::buffer(data)), kTuple);
  } else {
    std::tie(ec, std::ignore) = co_await asio::async_write(stream, asio::buffer(data), kTuple);
  }
  writing = false;
  if (ec) {
    failed = true;
    last_error = ec;
    cancel(true);
    throw StreamClosed(ec, "stream write failed");
  }
  bytes += data.size();
  last_write = std::chrono::steady_clock::now();
}

void StreamState::cancel(bool client_gone) {
  if (client_gone) {
    gone = true;
  } else {
    stopping = true;
  }
  wait_timer.cancel();
  if (!emitted) {
    emitted = true;
    signal.emit(asio::cancellation_type::terminal);
  }
}

void StreamState::start_watch() {
  watching = true;
  stream.async_read_some(
      buffer.prepare(512),  // a disconnect or a pipelined request; held open for the stream
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_watch(ec, n); });
}

void StreamState::on_watch(error_code ec, std::size_t n) {
  if (!ec) {
    // Bytes of a pipelined request: keep them for the session.
    buffer.commit(n);
    if (!unwatch && buffer.size() < watch_cap) {
      start_watch();
      return;
    }
  }
  watching = false;
  watch_done.cancel();
  if (ec && !unwatch) {
    last_error = ec;
    cancel(true);
  }
}

void StreamState::arm_heartbeat() {
  if (heartbeat.count() <= 0 || head || ended) return;
  heartbeat_timer.expires_at(last_write + heartbeat);
  heartbeat_timer.async_wait(
      [self = shared_from_this()](error_code ec) { self->on_heartbeat(ec); });
}

void StreamState::on_heartbeat(error_code ec) {
  if (ec || ended || gone || failed) return;
  const auto now = std::chrono::steady_clock::now();
  if (writing || now < last_write + heartbeat) {
    // A handler write is on the wire or finished since: look again one interval after it.
    if (writing) last_write = now;
    arm_heartbeat();
    return;
  }
  ping_writing = true;
  stream.expires_after(write_timeout);
  asio::async_write(stream, http::make_chunk(asio::buffer(kPing)),
                    [self = shared_from_this()](error_code wec, std::size_t) {
                      self->ping_writing = false;
                      self->writer_idle.cancel();
                      if (wec) {
                        self->failed = true;
                        self->last_error = wec;
                        self->cancel(true);
                        return;
                      }
                      self->bytes += kPing.size();
                      self->last_write = std::chrono::steady_clock::now();
                      self->arm_heartbeat();
                    });
}

asio::awaitable<bool> StreamState::finish(bool clean) {
  ended = true;
  heartbeat_timer.cancel();
  co_await wait_writer_idle();
  bool reusable = clean && keep_alive && chunked && !gone && !failed;
  if (clean && chunked && !head && !gone && !failed) {
    stream.expires_after(write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), kTuple);
    if (ec) reusable = false;
  }
  if (watching) {
    // The watch read owns the connection buffer until its handler ran.
    unwatch = true;
    stream.socket().cancel();
    while (watching) {
      watch_done.expires_at(std::chrono::steady_clock::time_point::max());
      co_await watch_done.async_wait(kTuple);
    }
  }
  co_return reusable;
}

BodyState::BodyState(http::request_parser<http::string_body>&& head, Exchange& ex,
                     std::uint64_t cap)
    : parser(std::move(head)),
      stream(*ex.stream),
      buffer(*ex.buffer),
      body_timeout(ex.opt->body_timeout),
      write_timeout(ex.opt->write_timeout),
      max(cap),
      piece(std::make_unique<char[]>(kPiece)) {
  parser.body_limit(cap);
  expect_continue = beast::iequals(parser.get()[http::field::expect], "100-continue");
}

asio::awaitable<std::string_view> BodyState::read() {
  if (at_end) co_return std::string_view{};
  if (expect_continue) {
    expect_continue = false;
    if (!parser.is_done()) {
      http::response<http::empty_body> cont{http::status::continue_, 11};
      stream.expires_after(write_timeout);
      auto [ec, n] = co_await http::async_write(stream, cont, kTuple);
      if (ec) throw StreamClosed(ec, "100 Continue write failed");
    }
  }
  // Each round parses at least one byte or fails; the deadline bounds a stalled client.
  while (!parser.is_done()) {
    auto& b = parser.get().body();
    b.data = piece.get();
    b.size = kPiece;
    stream.expires_after(body_timeout);
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::body_limit) {
      throw ApiError(http::status::payload_too_large, "body_too_large",
                     "request body exceeds " + std::to_string(max) + " bytes");
    }
    if (ec == beast::error::timeout) {
      throw ApiError(http::status::request_timeout, "request_timeout",
                     "request body was not received in time");
    }
    if (ec) {
      throw ApiError(http::status::bad_request, "bad_request",
                     "malformed or incomplete request body: " + ec.message());
    }
    const std::size_t got = kPiece - parser.get().body().size;
    if (got > 0) {
      total += got;
      co_return std::string_view(piece.get(), got);
    }
  }
  at_end = true;
  co_return std::string_view{};
}

}  // namespace detail

asio::awaitable<void> ResponseStream::write(std::string_view data) {
  co_await st_->write(data);
}
bool ResponseStream::cancelled() const {
  return st_->gone || st_->stopping;
}
bool ResponseStream::client_gone() const {
  return st_->gone;
}
asio::cancellation_slot ResponseStream::cancellation_slot() {
  return st_->signal.slot();
}
asio::awaitable<bool> ResponseStream::wait(std::chrono::steady_clock::duration d) {
  if (cancelled()) co_return false;
  st_->wait_timer.expires_after(d);
  co_await st_->wait_timer.async_wait(kTuple);
  co_return !cancelled();
}
std::uint64_t ResponseStream::bytes_written() const {
  return st_->bytes;
}
Response ResponseStream::done() {
  Response r{static_cast<http::status>(st_->status), 11};
  return r;
}

std::string format_sse_event(std::string_view name, std::string_view data,
                             std::optional<std::string_view> id) {
  if (has_line_break(name) || (id && has_line_break(*id))) {
    throw std::invalid_argument("SSE event name and id must be single lines");
  }
  std::string out;
  out.reserve(data.size() + name.size() + 32);
  if (!name.empty()) out.append("event: ").append(name).push_back('\n');
  if (id) out.append("id: ").append(*id).push_back('\n');
  // One data line per line of data; CRLF, LF and CR all end a line.
  std::size_t pos = 0;
  for (;;) {
    const auto brk = data.find_first_of("\r\n", pos);
    out.append("data: ").append(data.substr(pos, brk - pos)).push_back('\n');
    if (brk == std::string_view::npos) break;
    pos = brk + 1;
    if (data[brk] == '\r' && pos < data.size() && data[pos] == '\n') ++pos;
  }
  out.push_back('\n');
  return out;
}

asio::awaitable<void> SseStream::event(std::string_view name, std::string_view data,
                                       std::optional<std::string_view> id) {
  co_await st_->write(format_sse_event(name, data, id));
}
asio::awaitable<void> SseStream::event(std::string_view name, const boost::json::value& data,
                                       std::optional<std::string_view> id) {
  co_await st_->write(format_sse_event(name, boost::json::serialize(data), id));
}
asio::awaitable<void> SseStream::retry(std::chrono::milliseconds ms) {
  co_await st_->write("retry: " + std::to_string(ms.count()) + "\n\n");
}
asio::awaitable<void> SseStream::comment(std::string_view text) {
  std::string line = ": ";
  line.append(text);
  for (std::size_t i = 2; i < line.size(); ++i) {
    if (line[i] == '\r' || line[i] == '\n') line[i] = ' ';
  }
  line.append("\n\n");
  co_await st_->write(line);
}

asio::awaitable<std::string_view> BodyStream::read() {
  co_return co_await st_->read();
}
bool BodyStream::done() const {
  return st_->at_end;
}
std::uint64_t BodyStream::bytes_read() const {
  return st_->total;
}
std::optional<std::uint64_t> BodyStream::content_length() const {
  const auto n = st_->parser.content_length();
  if (!n) return std::nullopt;
  return *n;
}
std::uint64_t BodyStream::max_bytes() const {
  return st_->max;
}

// RequestContext's streaming entry points (declared in server.hpp).
// The options are consumed before the first suspension (GCC 12 mishandles class-type
// arguments and temporaries of coroutines): only the state pointer crosses into the coroutine.
asio::awaitable<ResponseStream> RequestContext::stream(const StreamOptions& o) {
  return open_stream(prepare_stream(o, false));
}
asio::awaitable<SseStream> RequestContext::stream_sse(const StreamOptions& o) {
  return open_sse(prepare_stream(o, true));
}
asio::awaitable<ResponseStream> RequestContext::stream() {
  return stream(StreamOptions{});
}
asio::awaitable<SseStream> RequestContext::stream_sse() {
  return stream_sse(StreamOptions{});
}
asio::awaitable<ResponseStream> RequestContext::open_stream(
    std::shared_ptr<detail::StreamState> st) {
  co_await start_stream(st);
  co_return ResponseStream(std::move(st));
}
asio::awaitable<SseStream> RequestContext::open_sse(std::shared_ptr<detail::StreamState> st) {
  co_await start_stream(st);
  co_return SseStream(std::move(st));
}
BodyStream& RequestContext::body() {
  if (exchange_ == nullptr || exchange_->body == nullptr) {
    throw std::logic_error("RequestContext::body() on a route without stream_body");
  }
  return exchange_->body->handle;
}

std::shared_ptr<detail::StreamState> RequestContext::prepare_stream(const StreamOptions& o,
                                                                    bool sse) {
  if (exchange_ == nullptr || exchange_->response) {
    throw std::logic_error("a response stream was already started for this request");
  }
  auto& ex = *exchange_;
  auto st = std::make_shared<detail::StreamState>(ex, sse, o.heartbeat);
  st->head = ex.req->method() == http::verb::head;
  st->chunked = ex.req->version() >= 11;
  st->keep_alive = st->chunked && ex.req->keep_alive() && !*ex.stopping;
  ex.response = st;
  *ex.conn_slot = st;
  if (*ex.stopping) st->stopping = true;
  st->prepare(o, request_id_);
  return st;
}

asio::awaitable<void> RequestContext::start_stream(std::shared_ptr<detail::StreamState> st) {
  auto& ex = *exchange_;
  co_await st->begin();
  // Watch for a disconnect only once the request body is consumed (its bytes are not ours).
  if (!st->head && (ex.body == nullptr || ex.body->complete())) st->start_watch();
}

}  // namespace enkisys::core
