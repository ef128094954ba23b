// Where commands run: the local engine, or a remote host over ssh. Also the Compose flavour
// detected on that target (v2 plugin `docker compose` or v1 `docker-compose`).
//
// Contract:
//  * wrap(argv) returns an argv that runs `argv` on the target. Locally it is argv unchanged.
//    Remotely it is `ssh <options> -p PORT -- DEST q(argv[0]) q(argv[1]) ...` where q is
//    shell_quote: ssh joins its words with spaces for the remote shell, so every word is
//    quoted on its own and no input is ever interpreted by that shell.
//  * ssh runs with BatchMode (no prompts) and StrictHostKeyChecking=yes; the host key must
//    already be known (default known_hosts, or SshOptions::known_hosts_file).
//  * A Target borrows its CommandRunner (which must outlive it). Not thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "enkisys/cli/process.hpp"
#include "enkisys/cli/validate.hpp"

namespace enkisys::cli {

struct SshOptions {
  std::string identity_file;     // -i, empty = ssh's defaults
  std::string known_hosts_file;  // UserKnownHostsFile, empty = ssh's default
  // Directory for the connection-sharing socket (ControlMaster); empty = no sharing.
  std::string control_dir;
  std::chrono::seconds connect_timeout{15};
};

class Target {
 public:
  // The local engine.
  explicit Target(CommandRunner& runner) : runner_(&runner) {}
  // A remote host.
  Target(CommandRunner& runner, SshUrl url, SshOptions options)
      : runner_(&runner), url_(std::move(url)), ssh_(std::move(options)) {}

  bool remote() const { return url_.has_value(); }
  std::string describe() const;  // "local engine" or "ssh://user@host:port"
  CommandRunner& runner() { return *runner_; }

  Argv wrap(const Argv& argv) const;
  CommandResult run(const Argv& argv, std::string input = {},
                    std::chrono::milliseconds timeout = std::chrono::minutes(5));
  // A local producer piped into a command on the target (e.g. docker save | docker load).
  CommandResult pipe_in(const Argv& local_producer, const Argv& target_consumer,
                        std::chrono::milliseconds timeout = std::chrono::minutes(30));
  // Remote only: forwards 127.0.0.1:local_port here to 127.0.0.1:remote_port on the host
  // (ssh -N -L, ExitOnForwardFailure). nullptr when local or when ssh cannot start.
  std::unique_ptr<BackgroundProcess> forward(int local_port, int remote_port);
  // Remote with control_dir: closes the shared connection (ssh -O exit). No-op otherwise.
  void close();

 private:
  Argv ssh_base(bool shared) const;

  CommandRunner* runner_;
  std::optional<SshUrl> url_;
  SshOptions ssh_;
};

enum class ComposeFlavour { kV2, kV1 };

// Probes `docker compose version`, then `docker-compose version`, on the target.
// nullopt (and *error) when neither works.
std::optional<ComposeFlavour> detect_compose(Target& target, std::string* error);
// {"docker","compose"} or {"docker-compose"}.
Argv compose_prefix(ComposeFlavour flavour);

}  // namespace enkisys::cli
