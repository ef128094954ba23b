// A command's connection to its host, built from the global options: the Target (the local
// engine, or ssh with one shared ControlMaster connection), the `ssh -L` tunnels to the
// gateway's admin and public ports, and the paths and URLs every command derives from them.
//
// Contract:
//  * open(need_http): locally, the URLs are 127.0.0.1:<admin_port>/<gateway_port>. Remotely,
//    parses `host` (parse_ssh_url), creates a private control directory (mkdtemp, 0700) for
//    the shared connection, probes the host with `true` and, when need_http, forwards each
//    gateway port to a loopback port chosen by the OS (free_loopback_port). A tunnel counts as
//    open once its local port accepts a connection; each attempt waits up to tunnel_wait (on
//    the injected Clock, polling every tunnel_poll) unless ssh exits first; after
//    tunnel_attempts failed attempts open() fails. Errors are returned as Status messages
//    naming the host and the port; nothing is printed.
//  * close() (also run by the destructor; idempotent): stops the tunnels (SIGTERM, then
//    SIGKILL), ends the shared connection (`ssh -O exit`), removes the control directory.
//  * Borrows the CommandRunner and the Clock (which must outlive it). Not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "enkisys/cli/env.hpp"
#include "enkisys/cli/process.hpp"
#include "enkisys/cli/stage_ops.hpp"
#include "enkisys/cli/state.hpp"
#include "enkisys/cli/target.hpp"

namespace enkisys::cli {

struct SessionOptions {
  std::string host;         // ssh://[user@]host[:port]; empty = the local engine
  std::string state_dir;    // absolute, on the target
  std::string project_dir;  // absolute, on the target; empty = . locally, /opt/enkisys remotely
  std::string token_file;   // on the target; empty = PROJECT/deploy/edge/secrets/...
  std::string identity;     // ssh -i
  std::string known_hosts;  // ssh UserKnownHostsFile
  int admin_port = 9901;    // on the host
  int gateway_port = 8080;  // on the host
  std::chrono::seconds probe_timeout{30};
  std::chrono::milliseconds tunnel_wait{10'000};
  std::chrono::milliseconds tunnel_poll{100};
  int tunnel_attempts = 3;
};

class Session {
 public:
  Session(SessionOptions options, CommandRunner& runner, Clock& clock)
      : o_(std::move(options)), runner_(&runner), clock_(&clock) {}
  ~Session() { close(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Status open(bool need_http);
  void close();

  // REQUIRES: open() succeeded.
  Target& target() { return *target_; }
  const std::string& admin_url() const { return admin_url_; }
  const std::string& gateway_url() const { return gateway_url_; }
  // Local ports of the tunnels (admin, gateway); empty when there are none.
  const std::vector<int>& tunnel_ports() const { return tunnel_ports_; }
  const std::string& control_dir() const { return control_dir_; }

  std::string project_dir() const;
  std::string state_dir(const std::string& stage) const { return o_.state_dir + "/" + stage; }
  StageSettings settings(const std::string& stage, ComposeFlavour flavour) const;

 private:
  Status tunnel(int remote_port, int* local_port);

  SessionOptions o_;
  CommandRunner* runner_;
  Clock* clock_;
  std::unique_ptr<Target> target_;
  std::vector<std::unique_ptr<BackgroundProcess>> tunnels_;
  std::vector<int> tunnel_ports_;
  std::string control_dir_;
  std::string admin_url_;
  std::string gateway_url_;
};

// A TCP port on 127.0.0.1 that was free when asked (bound to port 0, then released); 0 when
// no socket could be bound.
int free_loopback_port();
// True if something accepts TCP connections on 127.0.0.1:port.
bool loopback_port_open(int port);

}  // namespace enkisys::cli
