// Internal: the client side of a connection, plain TCP or TLS, chosen once per connection.
//
// The request loop (connection.cpp, request.cpp, proxy.cpp) reads and writes through it with
// the usual Asio/Beast stream operations; each operation goes to the socket or to the TLS stream
// by one branch (no virtual call, no allocation). Not thread-safe: one connection's coroutine.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <optional>

#include "enkisys/gateway/upstream.hpp"

namespace enkisys::gateway::detail {

class ClientStream {
 public:
  using executor_type = IoExecutor;
  using TlsStream = boost::asio::ssl::stream<IoSocket&>;

  explicit ClientStream(IoSocket socket) : socket_(std::move(socket)) {}
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  // Layers TLS over the socket (server side, before any read or write); `ctx` must outlive this
  // object (SNI may switch to another context of the same set, which must too).
  TlsStream& start_tls(boost::asio::ssl::context& ctx) { return tls_.emplace(socket_, ctx); }

  bool tls() const { return tls_.has_value(); }
  TlsStream& tls_stream() { return *tls_; }
  IoSocket& socket() { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (tls_) {
            tls_->async_read_some(b, std::move(handler));
          } else {
            socket_.async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (tls_) {
            tls_->async_write_some(b, std::move(handler));
          } else {
            socket_.async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

 private:
  IoSocket socket_;
  std::optional<TlsStream> tls_;
};

// Half-closes the sending side of a socket (TCP FIN).
inline void shutdown_send(IoSocket& s) {
  boost::system::error_code ignored;
  s.shutdown(IoSocket::shutdown_send, ignored);
}

// Nothing more will be sent (a tunnel's other side closed). On a socket: FIN. Over TLS a FIN
// before close_notify would truncate the client's stream: the pending read is cancelled instead,
// so that the connection ends and closes with close_notify (close_client in connection.cpp).
inline void finish_output(IoSocket& s) {
  shutdown_send(s);
}
inline void finish_output(ClientStream& s) {
  if (!s.tls()) {
    shutdown_send(s.socket());
    return;
  }
  boost::system::error_code ignored;
  s.socket().cancel(ignored);
}

}  // namespace enkisys::gateway::detail
