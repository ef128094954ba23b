// The per-stage state directory on the target (${ENKISYS_STATE_DIR:-/var/lib/enkisys}/S/):
// `lock` (the lease), `releases.jsonl` (the ledger), `active` (current color + version).
//
// Contract:
//  * StateStore is an interface over small text files named by fixed, internal names (never
//    user input). Errors are values (Status); no exceptions.
//  * create_exclusive is atomic: of two concurrent callers exactly one succeeds; the file
//    appears complete (written aside, then hard-linked into place, which fails if it exists).
//  * replace is atomic (write aside, rename over). append adds one line with O_APPEND.
//  * TargetStateStore runs fixed `sh -c` scripts on the target with the path passed as a
//    positional argument ($1) and the content on stdin, so no content or path is ever parsed
//    by a shell. It borrows the Target. Not thread-safe.
#pragma once

#include <optional>
#include <string>

#include "enkisys/cli/target.hpp"

namespace enkisys::cli {

struct Status {
  bool ok = true;
  std::string message;
  static Status error(std::string m) { return {false, std::move(m)}; }
};

class StateStore {
 public:
  enum class Create { kCreated, kExists, kError };
  virtual ~StateStore() = default;
  // nullopt content when the file does not exist; Status::ok false on other errors.
  virtual Status read(const std::string& name, std::optional<std::string>* content) = 0;
  virtual Create create_exclusive(const std::string& name, const std::string& content,
                                  std::string* error) = 0;
  virtual Status replace(const std::string& name, const std::string& content) = 0;
  virtual Status append(const std::string& name, const std::string& line) = 0;
  virtual Status remove(const std::string& name) = 0;
  virtual std::string describe(const std::string& name) const = 0;  // the path, for messages
};

class TargetStateStore final : public StateStore {
 public:
  // dir: absolute path of the stage's state directory on the target.
  TargetStateStore(Target& target, std::string dir) : target_(&target), dir_(std::move(dir)) {}
  Status read(const std::string& name, std::optional<std::string>* content) override;
  Create create_exclusive(const std::string& name, const std::string& content,
                          std::string* error) override;
  Status replace(const std::string& name, const std::string& content) override;
  Status append(const std::string& name, const std::string& line) override;
  Status remove(const std::string& name) override;
  std::string describe(const std::string& name) const override { return dir_ + "/" + name; }

 private:
  CommandResult script(const char* body, const std::string& name, std::string input = {});
  Target* target_;
  std::string dir_;
};

}  // namespace enkisys::cli
