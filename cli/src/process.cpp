#include "enkisys/cli/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "enkisys/cli/quote.hpp"

extern char** environ;

namespace enkisys::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd = o.fd;
    o.fd = -1;
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool make_pipe(Fd* read_end, Fd* write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  *read_end = Fd(p[0]);
  *write_end = Fd(p[1]);
  return true;
}

// Spawns argv with the given fds as 0/1/2; -1 and an error message on failure.
pid_t spawn(const Argv& argv, int in, int out, int err, std::string* error) {
  if (argv.empty()) {
    *error = "empty command";
    return -1;
  }
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);  // the CLI ignores SIGPIPE; children get the default back
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *error = argv[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

struct Sink {
  Fd fd;
  std::string* text;
};

// Feeds `input` to `in` and drains the sinks until EOF on all of them or the deadline.
// Returns false on timeout.
bool pump(Fd in, std::string_view input, std::vector<Sink>& sinks, Clock::time_point deadline,
          std::size_t cap) {
  std::size_t written = 0;
  if (in.fd >= 0) {
    ::fcntl(in.fd, F_SETFL, ::fcntl(in.fd, F_GETFL) | O_NONBLOCK);
    if (input.empty()) in.reset();
  }
  char buf[65536];
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Sink*> owners;
    for (auto& s : sinks) {
      if (s.fd.fd >= 0) {
        fds.push_back({s.fd.fd, POLLIN, 0});
        owners.push_back(&s);
      }
    }
    const bool writing = in.fd >= 0;
    if (writing) fds.push_back({in.fd, POLLOUT, 0});
    if (fds.empty()) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    int n =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) return false;
    if (n <= 0) continue;
    for (std::size_t i = 0; i < owners.size(); ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t got = ::read(owners[i]->fd.fd, buf, sizeof buf);
      if (got > 0) {
        auto room = cap > owners[i]->text->size() ? cap - owners[i]->text->size() : 0;
        owners[i]->text->append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(got)));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        owners[i]->fd.reset();
      }
    }
    if (writing && fds.back().revents != 0) {
      ssize_t put = ::write(in.fd, input.data() + written, input.size() - written);
      if (put > 0) written += static_cast<std::size_t>(put);
      if ((put < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in.reset();
    }
  }
}

void kill_and_reap(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) ::kill(p, SIGKILL);
}

class Child final : public BackgroundProcess {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() override {
    if (!running()) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {  // up to 2.5 s
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      ::usleep(50'000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  bool running() override {
    if (reaped_) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) reaped_ = true;
    return !reaped_;
  }

 private:
  pid_t pid_;
  bool reaped_ = false;
};

}  // namespace

CommandResult ProcessRunner::run(const Command& command) {
  ::signal(SIGPIPE, SIG_IGN);
  CommandResult result;
  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  if (!make_pipe(&in_r, &in_w) || !make_pipe(&out_r, &out_w) || !make_pipe(&err_r, &err_w)) {
    return {127, false, "", "pipe: " + std::string(std::strerror(errno))};
  }
  pid_t pid = spawn(command.argv, in_r.fd, out_w.fd, err_w.fd, &result.err);
  in_r.reset();
  out_w.reset();
  err_w.reset();
  if (pid < 0) return {127, false, "", result.err};
  std::vector<Sink> sinks;
  sinks.push_back({std::move(out_r), &result.out});
  sinks.push_back({std::move(err_r), &result.err});
  bool done =
      pump(std::move(in_w), command.input, sinks, Clock::now() + command.timeout, max_output_);
  if (!done) {
    kill_and_reap({pid});
    result.timed_out = true;
  }
  result.exit_code = wait_exit(pid);
  if (result.timed_out) result.exit_code = 124;
  return result;
}

CommandResult ProcessRunner::pipe(const Command& producer, const Command& consumer) {
  ::signal(SIGPIPE, SIG_IGN);
  CommandResult a, b;
  Fd in_r, in_w, mid_r, mid_w, out_r, out_w, err_a_r, err_a_w, err_b_r, err_b_w;
  if (!make_pipe(&in_r, &in_w) || !make_pipe(&mid_r, &mid_w) || !make_pipe(&out_r, &out_w) ||
      !make_pipe(&err_a_r, &err_a_w) || !make_pipe(&err_b_r, &err_b_w)) {
    return {127, false, "", "pipe: " + std::string(std::strerror(errno))};
  }
  pid_t pa = spawn(producer.argv, in_r.fd, mid_w.fd, err_a_w.fd, &a.err);
  if (pa < 0) return {127, false, "", a.err};
  pid_t pb = spawn(consumer.argv, mid_r.fd, out_w.fd, err_b_w.fd, &b.err);
  if (pb < 0) {
    kill_and_reap({pa});
    wait_exit(pa);
    return {127, false, "", b.err};
  }
  in_r.reset();
  mid_r.reset();
  mid_w.reset();
  out_w.reset();
  err_a_w.reset();
  err_b_w.reset();
  std::vector<Sink> sinks;
  sinks.push_back({std::move(out_r), &b.out});
  sinks.push_back({std::move(err_a_r), &a.err});
  sinks.push_back({std::move(err_b_r), &b.err});
  auto timeout = std::max(producer.timeout, consumer.timeout);
  bool done = pump(std::move(in_w), producer.input, sinks, Clock::now() + timeout, max_output_);
  if (!done) kill_and_reap({pa, pb});
  a.exit_code = wait_exit(pa);
  b.exit_code = wait_exit(pb);
  CommandResult r = a.exit_code != 0 ? a : b;
  r.out = b.out;
  r.err = a.err + b.err;
  if (!done) {
    r.timed_out = true;
    r.exit_code = 124;
  }
  return r;
}

std::unique_ptr<BackgroundProcess> ProcessRunner::start(const Argv& argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  Fd null_out(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  std::string error;
  pid_t pid = spawn(argv, null_in.fd, null_out.fd, 2, &error);
  if (pid < 0) return nullptr;
  return std::make_unique<Child>(pid);
}

std::string render(const Argv& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += needs_quoting(a) ? shell_quote(a) : a;
  }
  return out;
}

}  // namespace enkisys::cli
