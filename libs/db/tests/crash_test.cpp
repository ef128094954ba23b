// Durability: every id the writer acknowledged (printed after COMMIT returned) is still in the
// database after the writer is killed with SIGKILL in the middle of its work.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>

#include "db_fixture.hpp"

namespace enkisys::db {
namespace {

class CrashTest : public testing::DbTest {};

// Reads complete lines from fd into ids until `want` ids are seen, EOF, or the deadline.
void read_ids(int fd, std::string& buffer, std::set<std::int64_t>& ids, std::size_t want,
              std::chrono::steady_clock::time_point deadline) {
  char chunk[4096];
  while (ids.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, 200);
    if (ready < 0) break;
    if (ready == 0) continue;
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
      ids.insert(std::stoll(buffer.substr(0, nl)));
      buffer.erase(0, nl + 1);
    }
  }
}

TEST_P(CrashTest, AcknowledgedRowsSurviveKillDashNine) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const std::string url = store_->url();
  const std::string schema = store_->schema();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    if (schema.empty()) {
      execl(ENKISYS_DB_CRASH_WRITER, "db_crash_writer", url.c_str(), nullptr);
    } else {
      execl(ENKISYS_DB_CRASH_WRITER, "db_crash_writer", url.c_str(), schema.c_str(), nullptr);
    }
    _exit(127);
  }
  close(out[1]);

  std::set<std::int64_t> acked;
  std::string partial;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  read_ids(out[0], partial, acked, 300, deadline);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  // Lines already in the pipe were printed after their commit: they count as acknowledged.
  read_ids(out[0], partial, acked, SIZE_MAX,
           std::chrono::steady_clock::now() + std::chrono::seconds(5));
  close(out[0]);

  ASSERT_GE(acked.size(), 300u) << "writer produced too few acknowledgements";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the writer finished before it was killed; status " << status;

  db_.reset();
  auto reopened = store_->open();
  std::set<std::int64_t> stored;
  for (const auto& row : reopened->query("SELECT id FROM crash_rows").rows)
    stored.insert(row.i64(0));
  std::size_t missing = 0;
  for (auto id : acked) missing += stored.count(id) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged ids";
  // Ids are written in order, so the stored ones form a prefix 1..N with N >= last ack.
  EXPECT_EQ(static_cast<std::int64_t>(stored.size()), *stored.rbegin());
  EXPECT_GE(*stored.rbegin(), *acked.rbegin());
}

ENKISYS_DB_ON_BOTH_BACKENDS(CrashTest);

}  // namespace
}  // namespace enkisys::db
