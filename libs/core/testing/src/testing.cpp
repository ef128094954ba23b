#include "enkisys/core/testing.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace enkisys::core::testing {

TestServer::TestServer(const std::function<void(Router&)>& wire, ServerOptions opts) {
  wire(router_);
  opts.address = "127.0.0.1";
  opts.port = 0;
  opts.handle_signals = false;
  opts.access_log = false;
  server_ = std::make_unique<HttpServer>(opts, router_, log_, metrics_);
  server_->listen();
  port_ = server_->port();
  thread_ = std::thread([this] { server_->run(); });
}

TestServer::~TestServer() {
  stop();
}

void TestServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

namespace {
int connect_loopback(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  return fd;
}
}  // namespace

std::string raw_exchange(unsigned short port, const std::string& bytes, int timeout_ms) {
  const int fd = connect_loopback(port);
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[16384];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string http_request(unsigned short port, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& extra_headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += extra_headers + "\r\n" + body;
  return raw_exchange(port, req);
}

int status_of(const std::string& raw) {
  if (raw.size() < 12 || raw.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(raw.c_str() + 9);
}

std::string body_of(const std::string& raw) {
  const auto p = raw.find("\r\n\r\n");
  return p == std::string::npos ? std::string{} : raw.substr(p + 4);
}

JsonReply json_reply(std::string raw) {
  JsonReply r;
  r.status = status_of(raw);
  const std::string b = body_of(raw);
  boost::system::error_code ec;
  if (!b.empty()) r.body = boost::json::parse(b, ec);
  if (ec) r.body = nullptr;
  r.raw = std::move(raw);
  return r;
}

std::string JsonReply::header(const std::string& name) const {
  const auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string head = lower(raw.substr(0, raw.find("\r\n\r\n")));
  const auto at = head.find("\r\n" + lower(name) + ":");
  if (at == std::string::npos) return {};
  const auto from = at + 3 + name.size();
  std::string v = raw.substr(from, raw.find("\r\n", from) - from);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

}  // namespace enkisys::core::testing
