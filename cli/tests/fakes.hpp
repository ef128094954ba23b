// Test doubles: a clock that advances when slept, an in-memory state directory, and a
// simulated host (docker + compose + gateway admin API) behind the CommandRunner and
// HttpClient interfaces. Every argv and request is recorded for assertions.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "enkisys/cli/env.hpp"
#include "enkisys/cli/process.hpp"
#include "enkisys/cli/state.hpp"

namespace enkisys::cli::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return t; }
  steady_time_point steady_now() const override { return steady_time_point(t.time_since_epoch()); }
  void sleep_for(std::chrono::milliseconds d) override {
    t += d;
    slept += d;
  }
  std::chrono::system_clock::time_point t{std::chrono::seconds(1'800'000'000)};
  std::chrono::milliseconds slept{0};
};

class MemoryStateStore final : public StateStore {
 public:
  Status read(const std::string& name, std::optional<std::string>* content) override;
  Create create_exclusive(const std::string& name, const std::string& content,
                          std::string* error) override;
  Status replace(const std::string& name, const std::string& content) override;
  Status append(const std::string& name, const std::string& line) override;
  Status remove(const std::string& name) override;
  std::string describe(const std::string& name) const override { return "/state/" + name; }
  std::map<std::string, std::string> files;
  // Called before each create_exclusive (to simulate a racing process).
  std::function<void()> before_create;
};

// A host with one stage: compose projects, containers, images, and the gateway.
class FakeHost final : public CommandRunner, public HttpClient {
 public:
  FakeHost();
  CommandResult run(const Command& command) override;
  CommandResult pipe(const Command& producer, const Command& consumer) override;
  std::unique_ptr<BackgroundProcess> start(const Argv& argv) override;
  HttpResponse send(const HttpRequest& request) override;

  // Scripted behaviour.
  std::set<std::string> unhealthy_versions;  // containers of these versions go unhealthy
  std::set<std::string> exiting_versions;    // containers of these versions exit
  std::set<std::string> starting_versions;   // containers of these versions never get healthy
  bool fail_switch_to_new = false;           // PUT color=<not current> answers 500 once
  std::set<std::string> gateway_unhealthy_versions;  // /S/health 503 while serving these
  std::function<void()> on_inspect;                  // called on every `docker inspect`
  // Consulted first for every command (after ssh unwrapping); nullopt: the default behaviour.
  std::function<std::optional<CommandResult>(const Argv&, const std::string& input)> on_command;
  std::set<std::string> images = {"enkisys/tools:v1", "enkisys/tools:v2", "enkisys/tools:v3"};

  // State.
  std::string stage_env = "STAGE=dev1\nDATABASE=sqlite\n";  // deploy/dev1/stage.env
  std::string color = "blue";                               // the gateway's stage variable
  std::map<std::string, std::string> running;               // project -> version
  std::vector<Argv> commands;                               // every argv run
  std::vector<std::string> requests;  // "PUT /admin/stages/dev1/variables {...}"
  std::vector<std::string> removed_images;
  std::set<std::string> networks, volumes;
  int up_count = 0;

 private:
  std::string project_version_serving() const;
};

bool contains(const Argv& argv, const std::string& word);
// The argv a remote shell would run for an `ssh ... -- DEST 'w1' 'w2'` command.
Argv unwrap_ssh(const Argv& argv);

}  // namespace enkisys::cli::testing
