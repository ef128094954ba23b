#include "enkisys/cli/target.hpp"

#include "enkisys/cli/quote.hpp"

namespace enkisys::cli {

std::string Target::describe() const {
  if (!url_) return "local engine";
  return "ssh://" + url_->destination() + ":" + std::to_string(url_->port);
}

Argv Target::ssh_base(bool shared) const {
  Argv a = {"ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=" + std::to_string(ssh_.connect_timeout.count()),
            "-o",
            "ServerAliveInterval=15",
            "-p",
            std::to_string(url_->port)};
  if (!ssh_.identity_file.empty()) {
    a.insert(a.end(), {"-i", ssh_.identity_file, "-o", "IdentitiesOnly=yes"});
  }
  if (!ssh_.known_hosts_file.empty()) {
    a.insert(a.end(), {"-o", "UserKnownHostsFile=" + ssh_.known_hosts_file});
  }
  if (shared && !ssh_.control_dir.empty()) {
    a.insert(a.end(), {"-o", "ControlMaster=auto", "-o", "ControlPath=" + ssh_.control_dir + "/%C",
                       "-o", "ControlPersist=120"});
  }
  return a;
}

Argv Target::wrap(const Argv& argv) const {
  if (!url_) return argv;
  Argv a = ssh_base(true);
  a.push_back("--");
  a.push_back(url_->destination());
  for (const auto& word : argv) a.push_back(shell_quote(word));
  return a;
}

CommandResult Target::run(const Argv& argv, std::string input, std::chrono::milliseconds timeout) {
  return runner_->run(Command{wrap(argv), std::move(input), timeout});
}

CommandResult Target::pipe_in(const Argv& local_producer, const Argv& target_consumer,
                              std::chrono::milliseconds timeout) {
  return runner_->pipe(Command{local_producer, {}, timeout},
                       Command{wrap(target_consumer), {}, timeout});
}

std::unique_ptr<BackgroundProcess> Target::forward(int local_port, int remote_port) {
  if (!url_) return nullptr;
  Argv a = ssh_base(false);  // its own connection: the forward dies with this process
  a.insert(a.end(),
           {"-N", "-o", "ExitOnForwardFailure=yes", "-L",
            "127.0.0.1:" + std::to_string(local_port) + ":127.0.0.1:" + std::to_string(remote_port),
            "--", url_->destination()});
  return runner_->start(a);
}

void Target::close() {
  if (!url_ || ssh_.control_dir.empty()) return;
  Argv a = ssh_base(true);
  a.insert(a.end(), {"-O", "exit", "--", url_->destination()});
  runner_->run(Command{a, {}, std::chrono::seconds(10)});
}

std::optional<ComposeFlavour> detect_compose(Target& target, std::string* error) {
  auto v2 = target.run({"docker", "compose", "version"}, {}, std::chrono::seconds(30));
  if (v2.ok()) return ComposeFlavour::kV2;
  auto v1 = target.run({"docker-compose", "version"}, {}, std::chrono::seconds(30));
  if (v1.ok()) return ComposeFlavour::kV1;
  *error =
      "neither 'docker compose' nor 'docker-compose' works on " + target.describe() + ": " + v1.err;
  return std::nullopt;
}

Argv compose_prefix(ComposeFlavour flavour) {
  if (flavour == ComposeFlavour::kV2) return {"docker", "compose"};
  return {"docker-compose"};
}

}  // namespace enkisys::cli
