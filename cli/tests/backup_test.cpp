// enkisys backup / restore / backups: the command sequences on a simulated host whose backup
// folder is kept in memory (written by the fixed sh -c scripts, read back by sha256sum/cat).
#include "enkisys/cli/backup.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "enkisys/cli/ledger.hpp"
#include "fakes.hpp"

namespace enkisys::cli {
namespace {

using namespace std::chrono_literals;
using testing::contains;

class BackupTest : public ::testing::Test {
 protected:
  BackupTest() : target(host), ops(target, host, settings()) {
    host.running["enkisys-dev1-postgres"] = "";
    host.running["enkisys-dev1-blue"] = "v1";
    state.files["active"] = Active{"blue", "v1", "2026-11-30T10:00:00Z"}.to_json();
    host.on_command = [this](const Argv& a, const std::string& in) { return simulate(a, in); };
  }
  static StageSettings settings() {
    StageSettings s;
    s.stage = "dev1";
    s.project_dir = "/srv/enkisys";
    return s;
  }
  Backups backups(std::size_t keep = 7) {
    BackupConfig c;
    c.root = "/state/dev1/backups";
    c.keep = keep;
    c.poll = 1s;
    c.actor = "tester";
    return Backups(ops, clock, state, log, c);
  }

  // The simulated host: a stage.env, a PostgreSQL with two databases, a folder of files.
  std::optional<CommandResult> simulate(const Argv& a, const std::string& in) {
    if (a[0] == "cat" && a.back().ends_with("/stage.env")) return CommandResult{0, false, env, ""};
    if (a[0] == "cat" && files.count(a.back())) return CommandResult{0, false, files[a.back()], ""};
    if (a[0] == "mkdir" || a[0] == "rm") {
      if (a[0] == "rm") {
        removed.push_back(a.back());
        std::erase_if(files, [&](auto& f) { return f.first.rfind(a.back() + "/", 0) == 0; });
      }
      return CommandResult{};
    }
    if (a[0] == "sha256sum") {
      if (!files.count(a.back())) return CommandResult{1, false, "", "No such file"};
      return CommandResult{0, false, "sum(" + files[a.back()] + ")  " + a.back() + "\n", ""};
    }
    if (a[0] == "stat") return CommandResult{0, false, std::to_string(files[a.back()].size()), ""};
    if (a[0] == "docker" && a[1] == "exec" && contains(a, "psql")) {
      if (contains(a, "postgres") && a.back().find("pg_database") != std::string::npos)
        return CommandResult{0, false, "auth\ntools\n", ""};
      return CommandResult{0, false, "3\n", ""};  // schema version
    }
    if (a[0] == "sh" && a.size() > 4) {
      const std::string& script = a[2];
      if (script.find("out=$1") == 0) {  // producer into a file
        files[a[4]] = "dump:" + a.back();
        return CommandResult{};
      }
      if (script.find("in=$1") == 0) {  // file into a consumer
        restored.push_back(a.back() + "<" + files[a[4]]);
        return CommandResult{};
      }
      if (script.find("cat >") == 0) {
        files[a[4]] = in;
        return CommandResult{};
      }
      if (script.find("mkdir -p") == 0) return CommandResult{};  // the copy to --copy-to
      if (script.find("for d in") == 0) {
        std::string out;
        for (auto& [path, content] : files) {
          if (path.ends_with("/manifest.json")) out += content + "\n";
        }
        return CommandResult{0, false, out, ""};
      }
    }
    if (a[0] == "env" && contains(a, "stop")) {
      compose_calls.push_back("stop");
      return CommandResult{};
    }
    if (a[0] == "env" && contains(a, "up") && contains(a, "enkisys-dev1-blue")) {
      compose_calls.push_back("up");
    }
    return std::nullopt;
  }

  testing::FakeHost host;
  testing::FakeClock clock;
  testing::MemoryStateStore state;
  std::ostringstream log;
  Target target;
  StageOps ops;
  std::string env = "STAGE=dev1\nDATABASE=postgres\n";
  std::map<std::string, std::string> files;
  std::vector<std::string> removed, restored, compose_calls;
};

TEST_F(BackupTest, PostgresBackupDumpsEveryDatabaseInsideItsContainerWithAManifest) {
  BackupManifest m;
  auto s = backups().backup(&m);
  ASSERT_TRUE(s.ok) << s.message << "\n" << log.str();
  EXPECT_TRUE(valid_backup_id(m.id)) << m.id;
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[0].source, "auth");
  EXPECT_EQ(m.entries[1].file, "tools.dump");
  EXPECT_EQ(m.entries[1].sha256, "sum(dump:tools)");
  EXPECT_EQ(m.entries[1].schema_version, 3);
  EXPECT_EQ(m.version, "v1");
  // pg_dump -Fc runs in the stage's PostgreSQL container, as postgres, per database.
  int dumps = 0;
  for (const auto& c : host.commands) {
    if (contains(c, "pg_dump")) {
      ++dumps;
      EXPECT_TRUE(contains(c, "-Fc"));
      EXPECT_TRUE(contains(c, "id-enkisys-dev1-postgres"));
    }
  }
  EXPECT_EQ(dumps, 2);
  const auto manifest = files.at("/state/dev1/backups/" + m.id + "/manifest.json");
  auto back = BackupManifest::from_json(boost::json::parse(manifest));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->entries[0].sha256, "sum(dump:auth)");
  EXPECT_EQ(back->database, "postgres");
}

TEST_F(BackupTest, RetentionKeepsTheNewest) {
  for (int i = 0; i < 3; ++i) {
    BackupManifest m;
    ASSERT_TRUE(backups(2).backup(&m).ok) << log.str();
    clock.t += 1h;
  }
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], "/state/dev1/backups/20270115T080000Z");
}

TEST_F(BackupTest, RetentionRemovesTooOldBackupsButNeverTheNewest) {
  BackupConfig c;
  c.root = "/state/dev1/backups";
  c.keep = 10;
  c.max_age_days = 2;
  c.copy_to = "/mnt/second/dev1";
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    BackupManifest m;
    ASSERT_TRUE(Backups(ops, clock, state, log, c).backup(&m).ok) << log.str();
    ids.push_back(m.id);
    clock.t += 24h * 3;
  }
  // Each backup is 3 days older than the next: when the third is taken, the first two are
  // beyond 2 days; the first went at the second backup, the second at the third.
  EXPECT_EQ(removed, (std::vector<std::string>{"/state/dev1/backups/" + ids[0],
                                               "/state/dev1/backups/" + ids[1]}));
  // Every backup was copied to the second folder.
  int copies = 0;
  for (const auto& cmd : host.commands) {
    if (contains(cmd, "/mnt/second/dev1") && contains(cmd, "sh")) ++copies;
  }
  EXPECT_EQ(copies, 3);
}

TEST_F(BackupTest, RestoreVerifiesChecksumsFirstAndTouchesNothingOnAMismatch) {
  BackupManifest m;
  ASSERT_TRUE(backups().backup(&m).ok);
  files["/state/dev1/backups/" + m.id + "/tools.dump"] = "corrupted";
  auto s = backups().restore(m.id);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.message.find("tools.dump does not match its checksum"), std::string::npos)
      << s.message;
  EXPECT_TRUE(compose_calls.empty());
  EXPECT_TRUE(restored.empty());
}

TEST_F(BackupTest, RestoreStopsWritersRestoresStartsWaitsAndRecords) {
  BackupManifest m;
  ASSERT_TRUE(backups().backup(&m).ok);
  auto s = backups().restore(m.id);
  ASSERT_TRUE(s.ok) << s.message << "\n" << log.str();
  EXPECT_EQ(compose_calls, (std::vector<std::string>{"stop", "up"}));
  ASSERT_EQ(restored.size(), 2u);
  EXPECT_EQ(restored[1], "--exit-on-error<dump:tools");
  // pg_restore between stop and up.
  std::size_t stop = 0, pg = 0, up = 0;
  for (std::size_t i = 0; i < host.commands.size(); ++i) {
    const auto& c = host.commands[i];
    if (contains(c, "stop") && !stop) stop = i;
    if (contains(c, "pg_restore") && !pg) pg = i;
    if (contains(c, "up") && contains(c, "enkisys-dev1-blue")) up = i;
  }
  EXPECT_LT(stop, pg);
  EXPECT_LT(pg, up);
  std::vector<Release> ledger;
  ReleaseLedger(state).read(&ledger);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].action, "restore");
  EXPECT_EQ(ledger[0].result, "succeeded");
  EXPECT_EQ(ledger[0].version, "v1");
}

TEST_F(BackupTest, RestoreRefusesABadIdAndAnotherDatabaseKind) {
  EXPECT_FALSE(backups().restore("../../etc").ok);
  BackupManifest m;
  ASSERT_TRUE(backups().backup(&m).ok);
  env = "DATABASE=sqlite\n";
  auto s = backups().restore(m.id);
  EXPECT_FALSE(s.ok);
  EXPECT_NE(s.message.find("holds postgres data"), std::string::npos) << s.message;
  EXPECT_TRUE(compose_calls.empty());
}

TEST_F(BackupTest, ListShowsCompleteBackupsOldestFirst) {
  BackupManifest a, b;
  ASSERT_TRUE(backups().backup(&a).ok);
  clock.t += 1h;
  ASSERT_TRUE(backups().backup(&b).ok);
  files["/state/dev1/backups/junk/manifest.json"] = "{not json";
  std::vector<BackupManifest> all;
  ASSERT_TRUE(backups().list(&all).ok);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, a.id);
  EXPECT_EQ(all[1].id, b.id);
}

}  // namespace
}  // namespace enkisys::cli
