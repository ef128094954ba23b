#include "enkisys/cli/state.hpp"

namespace enkisys::cli {
namespace {

// Every script gets the file's path as $1 and creates its directory first.
constexpr const char* kRead = R"SH(if [ -e "$1" ]; then exec cat -- "$1"; fi; exit 3)SH";
constexpr const char* kCreate =
    R"SH(mkdir -p -- "$(dirname -- "$1")" || exit 1
t="$1.new.$$"
cat > "$t" || { rm -f -- "$t"; exit 1; }
if ln -- "$t" "$1" 2>/dev/null; then rm -f -- "$t"; exit 0; fi
rm -f -- "$t"
if [ -e "$1" ]; then exit 3; fi
exit 1)SH";
constexpr const char* kReplace =
    R"SH(mkdir -p -- "$(dirname -- "$1")" || exit 1
t="$1.new.$$"
cat > "$t" && mv -f -- "$t" "$1" || { rm -f -- "$t"; exit 1; })SH";
constexpr const char* kAppend = R"SH(mkdir -p -- "$(dirname -- "$1")" && cat >> "$1")SH";
constexpr const char* kRemove = R"SH(rm -f -- "$1")SH";

std::string failure(const char* what, const std::string& path, const CommandResult& r) {
  std::string m =
      std::string(what) + " " + path + " failed (exit " + std::to_string(r.exit_code) + ")";
  if (!r.err.empty()) m += ": " + r.err;
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace

CommandResult TargetStateStore::script(const char* body, const std::string& name,
                                       std::string input) {
  return target_->run({"sh", "-c", body, "sh", describe(name)}, std::move(input),
                      std::chrono::seconds(60));
}

Status TargetStateStore::read(const std::string& name, std::optional<std::string>* content) {
  auto r = script(kRead, name);
  if (r.exit_code == 3) {
    content->reset();
    return {};
  }
  if (!r.ok()) return Status::error(failure("reading", describe(name), r));
  *content = std::move(r.out);
  return {};
}

StateStore::Create TargetStateStore::create_exclusive(const std::string& name,
                                                      const std::string& content,
                                                      std::string* error) {
  auto r = script(kCreate, name, content);
  if (r.ok()) return Create::kCreated;
  if (r.exit_code == 3) return Create::kExists;
  *error = failure("creating", describe(name), r);
  return Create::kError;
}

Status TargetStateStore::replace(const std::string& name, const std::string& content) {
  auto r = script(kReplace, name, content);
  return r.ok() ? Status{} : Status::error(failure("writing", describe(name), r));
}

Status TargetStateStore::append(const std::string& name, const std::string& line) {
  auto r = script(kAppend, name, line + "\n");
  return r.ok() ? Status{} : Status::error(failure("appending to", describe(name), r));
}

Status TargetStateStore::remove(const std::string& name) {
  auto r = script(kRemove, name);
  return r.ok() ? Status{} : Status::error(failure("removing", describe(name), r));
}

}  // namespace enkisys::cli
