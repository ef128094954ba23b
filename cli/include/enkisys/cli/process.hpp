// Running programs by argument vector: the one way the CLI starts docker, compose and ssh.
//
// Contract:
//  * A Command is an argv; nothing is ever handed to a shell by this layer. argv[0] is looked up
//    in PATH (posix_spawnp).
//  * CommandRunner is an interface (production: ProcessRunner; tests: a fake that records argv
//    and scripts answers). Implementations are NOT required to be thread-safe; the CLI is
//    single-threaded.
//  * Errors are values: a program that cannot be started yields exit_code 127 and a message in
//    `err`; one killed at its deadline yields exit_code 124 and timed_out = true.
//  * Captured output is capped (max_output bytes per stream); the rest is read and dropped so
//    a chatty child never blocks.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace enkisys::cli {

using Argv = std::vector<std::string>;

struct Command {
  Command(Argv a, std::string in = {}, std::chrono::milliseconds limit = std::chrono::minutes(10))
      : argv(std::move(a)), input(std::move(in)), timeout(limit) {}
  Argv argv;
  std::string input;  // written to the child's stdin, which is then closed
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

struct CommandResult {
  int exit_code = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0 && !timed_out; }
};

// A long-running child (e.g. an ssh tunnel). Destroying it terminates the child (SIGTERM, then
// SIGKILL after a short grace) and reaps it.
class BackgroundProcess {
 public:
  virtual ~BackgroundProcess() = default;
  virtual bool running() = 0;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  virtual CommandResult run(const Command& command) = 0;
  // producer's stdout feeds consumer's stdin through a pipe (streaming, any size), e.g.
  // `docker save IMG` | `ssh host docker load`. The result is the first failing stage's, with
  // both stages' stderr.
  virtual CommandResult pipe(const Command& producer, const Command& consumer) = 0;
  // Starts argv in the background with stdin/stdout on /dev/null; nullptr if it cannot start.
  virtual std::unique_ptr<BackgroundProcess> start(const Argv& argv) = 0;
};

// Real processes via posix_spawnp.
class ProcessRunner final : public CommandRunner {
 public:
  explicit ProcessRunner(std::size_t max_output = 4 * 1024 * 1024) : max_output_(max_output) {}
  CommandResult run(const Command& command) override;
  CommandResult pipe(const Command& producer, const Command& consumer) override;
  std::unique_ptr<BackgroundProcess> start(const Argv& argv) override;

 private:
  std::size_t max_output_;
};

// "a b 'c d'" style rendering of an argv for logs and error messages (each word shell-quoted
// when needed). Never executed.
std::string render(const Argv& argv);

}  // namespace enkisys::cli
