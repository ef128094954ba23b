#include "enkisys/cli/backup.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <ctime>
#include <regex>
#include <sstream>

#include "enkisys/cli/ledger.hpp"

namespace enkisys::cli {
namespace json = boost::json;
namespace {

// The scripts of the throwaway containers that back up and restore SQLite files ($1: the file
// name in the volume mounted at /data).
constexpr const char* kSqliteBackupScript =
    "sqlite3 \"/data/$1\" \".backup /tmp/backup.db\" && "
    "sqlite3 /tmp/backup.db 'PRAGMA integrity_check' >&2 && cat /tmp/backup.db";
constexpr const char* kSqliteSchemaVersionScript =
    "cat >/tmp/b.db && sqlite3 /tmp/b.db 'SELECT coalesce(max(version), 0) "
    "FROM schema_migrations'";
constexpr const char* kSqliteRestoreScript =
    "cat >\"/data/$1.restore\" && rm -f \"/data/$1-wal\" \"/data/$1-shm\" && "
    "chown 10001:10001 /data \"/data/$1.restore\" && "
    "mv \"/data/$1.restore\" \"/data/$1\"";

// Fixed scripts: the paths are arguments, never part of the script.
// Runs "$@" with its stdout into $1 (written aside, then renamed).
const char* const kToFile = "out=$1; shift; \"$@\" >\"$out.tmp\" && mv \"$out.tmp\" \"$out\"";
// Runs "$@" with its stdin from $1.
const char* const kFromFile = "in=$1; shift; \"$@\" <\"$in\"";
// Writes stdin to $1 (aside, then renamed).
const char* const kWrite = "cat >\"$1.tmp\" && mv \"$1.tmp\" \"$1\"";
// Prints every complete backup's manifest of folder $1, one per line.
const char* const kList =
    "for d in \"$1\"/*/; do [ -f \"$d/manifest.json\" ] && cat \"$d/manifest.json\" && echo; "
    "done; exit 0";

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Status failed(const std::string& what, const CommandResult& r) {
  return Status::error(what + " failed (exit " + std::to_string(r.exit_code) +
                       "): " + trim(r.err).substr(0, 600));
}

std::string id_of(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::int64_t to_int(const std::string& s) {
  try {
    return s.empty() ? 0 : std::stoll(s);
  } catch (const std::exception&) {
    return 0;
  }
}

// Service of a volume enkisys-S-<svc>-data; "" for another volume.
std::string service_of_volume(const std::string& stage, const std::string& volume) {
  const std::string prefix = "enkisys-" + stage + "-", suffix = "-data";
  if (volume.size() <= prefix.size() + suffix.size() || volume.rfind(prefix, 0) != 0 ||
      !volume.ends_with(suffix) || volume == prefix + "postgres" + suffix) {
    return {};
  }
  return volume.substr(prefix.size(), volume.size() - prefix.size() - suffix.size());
}

}  // namespace

bool valid_backup_id(const std::string& id) {
  static const std::regex re("^[0-9]{8}T[0-9]{6}Z$");
  return std::regex_match(id, re);
}

json::object BackupManifest::to_json() const {
  json::array files;
  for (const auto& e : entries) {
    files.push_back(json::object{{"service", e.service},
                                 {"kind", e.kind},
                                 {"source", e.source},
                                 {"file", e.file},
                                 {"size", e.size},
                                 {"sha256", e.sha256},
                                 {"schema_version", e.schema_version}});
  }
  return {{"id", id},
          {"stage", stage},
          {"database", database},
          {"created_at", created_at},
          {"color", color},
          {"version", version},
          {"tools_image", tools_image},
          {"duration_ms", duration_ms},
          {"size", total_size()},
          {"files", std::move(files)}};
}

std::optional<BackupManifest> BackupManifest::from_json(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  auto str = [](const json::object& obj, const char* k) {
    auto* x = obj.if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  auto num = [](const json::object& obj, const char* k) -> std::int64_t {
    auto* x = obj.if_contains(k);
    return x && x->is_int64() ? x->get_int64() : 0;
  };
  BackupManifest m;
  m.id = str(o, "id");
  if (!valid_backup_id(m.id)) return std::nullopt;
  m.stage = str(o, "stage");
  m.database = str(o, "database");
  m.created_at = str(o, "created_at");
  m.color = str(o, "color");
  m.version = str(o, "version");
  m.tools_image = str(o, "tools_image");
  m.duration_ms = num(o, "duration_ms");
  auto* files = o.if_contains("files");
  if (!files || !files->is_array()) return std::nullopt;
  for (const auto& f : files->get_array()) {
    if (!f.is_object()) return std::nullopt;
    const auto& fo = f.get_object();
    BackupEntry e{str(fo, "service"), str(fo, "kind"),   str(fo, "source"),        str(fo, "file"),
                  num(fo, "size"),    str(fo, "sha256"), num(fo, "schema_version")};
    // A file name is one path segment: it must not lead out of the backup's folder.
    if (e.file.empty() || e.file.find('/') != std::string::npos || e.file[0] == '.')
      return std::nullopt;
    m.entries.push_back(std::move(e));
  }
  return m;
}

std::int64_t BackupManifest::total_size() const {
  std::int64_t n = 0;
  for (const auto& e : entries) n += e.size;
  return n;
}

CommandResult Backups::run(const Argv& argv, std::string input, std::chrono::milliseconds timeout) {
  return ops_->target().run(argv, std::move(input), timeout);
}

std::string Backups::postgres_container(std::string* error) {
  auto cs = ops_->containers("postgres", error);
  if (!cs) return {};
  for (const auto& c : *cs) {
    if (c.ready()) return c.id;
  }
  *error = "the stage's PostgreSQL (project " + ops_->project("postgres") + ") is not running";
  return {};
}

Status Backups::checksum(const std::string& path, BackupEntry& e) {
  auto r = run({"sha256sum", "--", path}, {}, std::chrono::minutes(10));
  if (!r.ok()) return failed("sha256sum " + path, r);
  e.sha256 = r.out.substr(0, r.out.find(' '));
  auto s = run({"stat", "-c", "%s", "--", path});
  if (!s.ok()) return failed("stat " + path, s);
  e.size = to_int(trim(s.out));
  return {};
}

Status Backups::backup_postgres(const std::string& dir, BackupManifest& m) {
  std::string error;
  const auto c = postgres_container(&error);
  if (c.empty()) return Status::error(error);
  auto psql = [&](const std::string& db, const std::string& sql) {
    return run({"docker", "exec", c, "psql", "-U", "postgres", "-d", db, "-tAq", "-v",
                "ON_ERROR_STOP=1", "-c", sql});
  };
  auto dbs = psql("postgres",
                  "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> "
                  "'postgres' ORDER BY datname");
  if (!dbs.ok()) return failed("listing the stage's databases", dbs);
  std::istringstream in(dbs.out);
  for (std::string db; std::getline(in, db);) {
    db = trim(db);
    if (db.empty()) continue;
    BackupEntry e{db, "pg_dump", db, db + ".dump", 0, "", 0};
    const auto path = dir + "/" + e.file;
    *log_ << "backup: pg_dump " << db << "\n";
    auto r = run({"sh", "-c", kToFile, "sh", path, "docker", "exec", c, "pg_dump", "-Fc", "-U",
                  "postgres", "-d", db});
    if (!r.ok()) return failed("pg_dump " + db, r);
    if (auto s = checksum(path, e); !s.ok) return s;
    auto v = psql(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    e.schema_version = v.ok() ? to_int(trim(v.out)) : 0;
    m.entries.push_back(std::move(e));
  }
  return {};
}

Status Backups::backup_sqlite(const std::string& dir, BackupManifest& m) {
  std::string error;
  auto model = ops_->config(m.color.empty() ? "blue" : m.color,
                            m.version.empty() ? "dev" : m.version, &error);
  if (!model) return Status::error(error);
  for (const auto& volume : model->external_volumes) {
    const auto service = service_of_volume(m.stage, volume);
    if (service.empty()) continue;
    auto ls = run({"docker", "run", "--rm", "--network", "none", "--user", "10001:10001", "-v",
                   volume + ":/data:ro", "--entrypoint", "sh", cfg_.tools_image, "-c",
                   "cd /data && for f in *.db; do [ -f \"$f\" ] && echo \"$f\"; done; exit 0"});
    if (!ls.ok()) return failed("listing the databases of " + volume, ls);
    std::istringstream in(ls.out);
    for (std::string file; std::getline(in, file);) {
      file = trim(file);
      if (file.empty()) continue;
      BackupEntry e{service, "sqlite", volume + ":" + file, service + "-" + file, 0, "", 0};
      const auto path = dir + "/" + e.file;
      *log_ << "backup: sqlite " << volume << ":" << file << "\n";
      // The online backup API: a consistent copy while the service keeps writing.
      auto r = run({"sh",
                    "-c",
                    kToFile,
                    "sh",
                    path,
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "--user",
                    "10001:10001",
                    "-v",
                    volume + ":/data",
                    "--entrypoint",
                    "sh",
                    cfg_.tools_image,
                    "-c",
                    kSqliteBackupScript,
                    "sh",
                    file});
      if (!r.ok()) return failed("sqlite backup of " + volume + ":" + file, r);
      if (auto s = checksum(path, e); !s.ok) return s;
      auto sv =
          run({"sh", "-c", kFromFile, "sh", path, "docker", "run", "--rm", "-i", "--network",
               "none", "--entrypoint", "sh", cfg_.tools_image, "-c", kSqliteSchemaVersionScript});
      e.schema_version = sv.ok() ? to_int(trim(sv.out)) : 0;
      m.entries.push_back(std::move(e));
    }
  }
  return {};
}

Status Backups::backup(BackupManifest* out) {
  const auto t0 = clock_->steady_now();
  BackupManifest m;
  m.stage = ops_->settings().stage;
  m.id = id_of(clock_->now());
  m.created_at = format_time(clock_->now());
  m.tools_image = cfg_.tools_image;
  if (auto s = ops_->load_database(); !s.ok) return s;
  m.database = ops_->settings().database;
  std::optional<Active> active;
  ReleaseLedger ledger(*state_);
  if (auto s = ledger.read_active(&active); !s.ok) return s;
  if (active) {
    m.color = active->color;
    m.version = active->version;
  }
  const auto dir = cfg_.root + "/" + m.id;
  auto mk = run({"mkdir", "-p", "-m", "0700", "--", dir});
  if (!mk.ok()) return failed("mkdir " + dir, mk);
  Status s = m.database == "postgres" ? backup_postgres(dir, m) : backup_sqlite(dir, m);
  if (s.ok && m.entries.empty()) s = Status::error("the stage has no database to back up");
  if (!s.ok) {
    run({"rm", "-rf", "--", dir});
    return s;
  }
  m.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->steady_now() - t0).count();
  auto w = run({"sh", "-c", kWrite, "sh", dir + "/manifest.json"}, json::serialize(m.to_json()));
  if (!w.ok()) return failed("writing " + dir + "/manifest.json", w);
  *log_ << "backup: " << m.id << " (" << m.entries.size() << " databases, " << m.total_size()
        << " bytes) in " << dir << "\n";
  if (!cfg_.copy_to.empty()) {
    auto cp = run(
        {"sh", "-c", "mkdir -p -m 0700 \"$2\" && cp -a \"$1\" \"$2/\"", "sh", dir, cfg_.copy_to});
    if (!cp.ok()) return failed("copying the backup to " + cfg_.copy_to, cp);
  }
  if (auto p = prune(); !p.ok) *log_ << "backup: warning: " << p.message << "\n";
  *out = std::move(m);
  return {};
}

Status Backups::list(std::vector<BackupManifest>* out) {
  out->clear();
  auto r = run({"sh", "-c", kList, "sh", cfg_.root});
  if (!r.ok()) return failed("listing " + cfg_.root, r);
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (trim(line).empty()) continue;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (ec) continue;
    if (auto m = BackupManifest::from_json(v)) out->push_back(std::move(*m));
  }
  std::sort(out->begin(), out->end(), [](auto& a, auto& b) { return a.id < b.id; });
  return {};
}

Status Backups::prune() {
  std::vector<BackupManifest> all;
  if (auto s = list(&all); !s.ok) return s;
  const auto oldest_kept = id_of(clock_->now() - std::chrono::hours(24) * cfg_.max_age_days);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const bool beyond_keep = all.size() - i > cfg_.keep;
    const bool too_old = cfg_.max_age_days > 0 && all[i].id < oldest_kept && i + 1 < all.size();
    if (!beyond_keep && !too_old) continue;
    *log_ << "backup: removing " << all[i].id << (beyond_keep ? " (beyond --keep)" : " (too old)")
          << "\n";
    auto r = run({"rm", "-rf", "--", cfg_.root + "/" + all[i].id});
    if (!r.ok()) return failed("removing backup " + all[i].id, r);
  }
  return {};
}

Status Backups::wait_ready(const std::string& project_color) {
  const auto deadline = clock_->now() + cfg_.health_timeout;
  std::string error;
  for (;;) {
    auto cs = ops_->containers(project_color, &error);
    if (cs && !cs->empty() &&
        std::all_of(cs->begin(), cs->end(), [](auto& c) { return c.ready(); })) {
      return {};
    }
    if (cs) {
      auto broken = std::find_if(cs->begin(), cs->end(), [](auto& c) { return c.broken(); });
      if (broken != cs->end()) {
        return Status::error(broken->name + " is " + broken->status + "/" + broken->health + ": " +
                             trim(ops_->logs(broken->id, 20)).substr(0, 1000));
      }
    }
    if (clock_->now() >= deadline) {
      return Status::error(ops_->project(project_color) + " not healthy after " +
                           std::to_string(cfg_.health_timeout.count()) + " s" +
                           (error.empty() ? "" : ": " + error));
    }
    clock_->sleep_for(cfg_.poll);
  }
}

Status Backups::restore(const std::string& id) {
  if (!valid_backup_id(id)) return Status::error("invalid backup id '" + id + "'");
  const auto dir = cfg_.root + "/" + id;
  auto text = run({"cat", "--", dir + "/manifest.json"});
  if (!text.ok()) return failed("reading backup " + id, text);
  boost::system::error_code ec;
  auto parsed = json::parse(text.out, ec);
  auto m = ec ? std::nullopt : BackupManifest::from_json(parsed);
  if (!m || m->id != id) return Status::error("backup " + id + ": unreadable manifest");
  if (m->stage != ops_->settings().stage) {
    return Status::error("backup " + id + " is of stage " + m->stage);
  }
  // 1. Every file intact before anything is touched.
  for (const auto& e : m->entries) {
    BackupEntry now = e;
    if (auto s = checksum(dir + "/" + e.file, now); !s.ok) return s;
    if (now.sha256 != e.sha256) {
      return Status::error("backup " + id + ": " + e.file +
                           " does not match its checksum; nothing was restored");
    }
  }
  if (auto s = ops_->load_database(); !s.ok) return s;
  if (ops_->settings().database != m->database) {
    return Status::error("backup " + id + " holds " + m->database + " data, the stage runs " +
                         ops_->settings().database);
  }
  const auto t0 = clock_->steady_now();
  Release rel;
  rel.stage = m->stage;
  rel.action = "restore";
  rel.actor = cfg_.actor;
  rel.started_at = format_time(clock_->now());
  std::optional<Active> active;
  ReleaseLedger ledger(*state_);
  if (auto s = ledger.read_active(&active); !s.ok) return s;
  rel.color = active ? active->color : m->color;
  rel.version = active ? active->version : m->version;
  rel.previous_version = rel.version;
  auto finish = [&](Status s) {
    rel.result = s.ok ? "succeeded" : "failed";
    rel.message = s.ok ? "restored backup " + id : s.message;
    rel.finished_at = format_time(clock_->now());
    rel.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_->steady_now() - t0).count();
    rel.health["backup"] = json::object{{"id", id}, {"size", m->total_size()}};
    if (auto a = ledger.append(rel); !a.ok) *log_ << "restore: warning: " << a.message << "\n";
    return s;
  };
  // 2. Stop the writers.
  if (!rel.color.empty()) {
    *log_ << "restore: stopping " << ops_->project(rel.color) << "\n";
    auto stop =
        ops_->run_compose(rel.color, rel.version, {"stop", "-t", "15"}, std::chrono::minutes(5));
    if (!stop.ok()) return finish(failed("stopping the writers", stop));
  }
  // 3. The databases back.
  if (m->database == "postgres") {
    if (auto s = ops_->start_database(); !s.ok) return finish(s);
    if (auto s = wait_ready("postgres"); !s.ok) return finish(s);
    std::string error;
    const auto c = postgres_container(&error);
    if (c.empty()) return finish(Status::error(error));
    for (const auto& e : m->entries) {
      *log_ << "restore: pg_restore " << e.source << "\n";
      auto r = run({"sh", "-c", kFromFile, "sh", dir + "/" + e.file, "docker", "exec", "-i", c,
                    "pg_restore", "-U", "postgres", "-d", e.source, "--clean", "--if-exists",
                    "--single-transaction", "--exit-on-error"});
      if (!r.ok()) return finish(failed("pg_restore " + e.source, r));
    }
  } else {
    for (const auto& e : m->entries) {
      const auto colon = e.source.find(':');
      const auto volume = e.source.substr(0, colon), file = e.source.substr(colon + 1);
      if (auto s = ops_->ensure_volume(volume); !s.ok) return finish(s);
      *log_ << "restore: sqlite " << e.source << "\n";
      // As root, to hand the file (and a volume created just now, root's) to the services' uid.
      const Argv put = {"docker",
                        "run",
                        "--rm",
                        "-i",
                        "--network",
                        "none",
                        "--user",
                        "0:0",
                        "-v",
                        volume + ":/data",
                        "--entrypoint",
                        "sh",
                        cfg_.tools_image,
                        "-c",
                        kSqliteRestoreScript,
                        "sh",
                        file};
      Argv a = {"sh", "-c", kFromFile, "sh", dir + "/" + e.file};
      a.insert(a.end(), put.begin(), put.end());
      auto r = run(a);
      if (!r.ok()) return finish(failed("restoring " + e.source, r));
    }
  }
  // 4. The writers back, healthy.
  if (!rel.color.empty()) {
    auto up = ops_->run_compose(rel.color, rel.version, {"up", "-d", "--no-build"},
                                std::chrono::minutes(10));
    if (!up.ok()) return finish(failed("starting " + ops_->project(rel.color), up));
    if (auto s = wait_ready(rel.color); !s.ok) return finish(s);
  }
  *log_ << "restore: " << id << " restored to " << m->stage << "\n";
  return finish({});
}

}  // namespace enkisys::cli
