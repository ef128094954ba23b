#include "enkisys/cli/session.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace enkisys::cli {
namespace {

std::string loopback_url(int port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  return a;
}

}  // namespace

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool loopback_port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

Status Session::open(bool need_http) {
  if (o_.host.empty()) {
    target_ = std::make_unique<Target>(*runner_);
    admin_url_ = loopback_url(o_.admin_port);
    gateway_url_ = loopback_url(o_.gateway_port);
    return {};
  }
  std::string error;
  auto url = parse_ssh_url(o_.host, &error);
  if (!url) return Status::error(error);
  char tmpl[] = "/tmp/enkisys-ssh-XXXXXX";
  if (::mkdtemp(tmpl)) control_dir_ = tmpl;
  target_ = std::make_unique<Target>(
      *runner_, *url,
      SshOptions{o_.identity, o_.known_hosts, control_dir_, std::chrono::seconds(15)});
  auto probe = target_->run({"true"}, {}, o_.probe_timeout);
  if (!probe.ok()) {
    return Status::error("cannot reach " + target_->describe() + " over ssh: " + probe.err);
  }
  if (need_http) {
    int admin = 0;
    int gateway = 0;
    if (auto s = tunnel(o_.admin_port, &admin); !s.ok) return s;
    if (auto s = tunnel(o_.gateway_port, &gateway); !s.ok) return s;
    admin_url_ = loopback_url(admin);
    gateway_url_ = loopback_url(gateway);
  }
  return {};
}

Status Session::tunnel(int remote_port, int* local_port) {
  std::string why = "ssh exited";
  for (int attempt = 0; attempt < o_.tunnel_attempts; ++attempt) {
    const int port = free_loopback_port();
    if (port == 0) {
      why = "no free local port";
      continue;
    }
    auto child = target_->forward(port, remote_port);
    if (!child) return Status::error("cannot start ssh to forward the gateway ports");
    const auto deadline = clock_->now() + o_.tunnel_wait;
    while (child->running()) {
      if (loopback_port_open(port)) {
        *local_port = port;
        tunnels_.push_back(std::move(child));
        tunnel_ports_.push_back(port);
        return {};
      }
      if (clock_->now() >= deadline) {
        why = "not open after " + std::to_string(o_.tunnel_wait.count()) + " ms";
        break;
      }
      clock_->sleep_for(o_.tunnel_poll);
    }
  }
  return Status::error("cannot forward the gateway ports from " + target_->describe() + ": port " +
                       std::to_string(remote_port) + " tunnel failed " +
                       std::to_string(o_.tunnel_attempts) + " times (last: " + why + ")");
}

void Session::close() {
  tunnels_.clear();
  tunnel_ports_.clear();
  if (target_) target_->close();
  target_.reset();
  if (!control_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(control_dir_, ec);
    control_dir_.clear();
  }
}

std::string Session::project_dir() const {
  if (!o_.project_dir.empty()) return o_.project_dir;
  return o_.host.empty() ? std::filesystem::current_path().string() : "/opt/enkisys";
}

StageSettings Session::settings(const std::string& stage, ComposeFlavour flavour) const {
  StageSettings s;
  s.stage = stage;
  s.project_dir = project_dir();
  s.admin_url = admin_url_;
  s.gateway_url = gateway_url_;
  s.admin_token_file = o_.token_file.empty()
                           ? s.project_dir + "/deploy/edge/secrets/gateway_admin_token"
                           : o_.token_file;
  s.compose = flavour;
  return s;
}

}  // namespace enkisys::cli
