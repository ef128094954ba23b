// Backups of one stage's data, kept on its host: `enkisys backup`, `restore`, `backups`.
//
// Contract:
//  * A backup is the folder ROOT/ID (ROOT = STATE/S/backups on the target, ID the UTC time
//    "20261130T153000Z") holding one file per database and manifest.json (written last, so a
//    folder without it is an unfinished backup and is ignored). Per database: service, kind
//    (pg_dump: `pg_dump -Fc` of the stage's PostgreSQL, run inside its container; sqlite: the
//    online backup API, `sqlite3 .backup`, in a throwaway container of `tools_image` mounting
//    the service's volume — consistent while the service writes), size, sha256 and the schema
//    version (highest schema_migrations row). The manifest also names the stage's database
//    kind, the active color and version and the tools image.
//  * Retention after each backup: the newest `keep` backups stay, and of those, any older
//    than `max_age_days` (> 0) go; `copy_to` (non-empty) receives a copy of the new backup.
//  * restore(ID): verifies every file's sha256 first (nothing is touched on a mismatch), stops
//    the writers (the active color), starts the stage's PostgreSQL if it is not running,
//    restores each database (pg_restore --clean --single-transaction; a SQLite file replaced
//    whole, its -wal/-shm removed), starts the color again, waits until every container is
//    healthy, and appends a "restore" release to the ledger.
//  * Every command is an argv through the Target (local or ssh); files on the host are written
//    by fixed `sh -c` scripts whose paths are arguments. Not thread-safe. Errors are values.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "enkisys/cli/env.hpp"
#include "enkisys/cli/stage_ops.hpp"
#include "enkisys/cli/state.hpp"

namespace enkisys::cli {

struct BackupEntry {
  std::string service;  // tools, auth, ...
  std::string kind;     // "pg_dump" or "sqlite"
  std::string source;   // database name, or the volume's file ("enkisys-prod-tools-data:tools.db")
  std::string file;     // in the backup folder
  std::int64_t size = 0;
  std::string sha256;
  std::int64_t schema_version = 0;
};

struct BackupManifest {
  std::string id;
  std::string stage;
  std::string database;  // "postgres" or "sqlite"
  std::string created_at;
  std::string color, version;  // what served when it was taken ("" if nothing)
  std::string tools_image;
  std::int64_t duration_ms = 0;
  std::vector<BackupEntry> entries;

  boost::json::object to_json() const;
  static std::optional<BackupManifest> from_json(const boost::json::value& v);
  std::int64_t total_size() const;
};

struct BackupConfig {
  std::string root;     // STATE/S/backups on the target (absolute)
  std::string copy_to;  // a second folder on the target; empty: none
  std::size_t keep = 7;
  int max_age_days = 30;                            // 0: no age limit
  std::string tools_image = "enkisys/postgres:15";  // has pg_dump, pg_restore, sqlite3
  std::chrono::seconds health_timeout{120};
  std::chrono::milliseconds poll{1000};
  std::string actor;
};

// "20261130T153000Z" — the only form an ID takes (checked before it names a path).
bool valid_backup_id(const std::string& id);

class Backups {
 public:
  Backups(StageOps& ops, Clock& clock, StateStore& state, std::ostream& log, BackupConfig config)
      : ops_(&ops), clock_(&clock), state_(&state), log_(&log), cfg_(std::move(config)) {}

  // Takes a backup of every database of the stage; the manifest in *out.
  Status backup(BackupManifest* out);
  Status restore(const std::string& id);
  // Complete backups, oldest first.
  Status list(std::vector<BackupManifest>* out);

 private:
  Status backup_postgres(const std::string& dir, BackupManifest& m);
  Status backup_sqlite(const std::string& dir, BackupManifest& m);
  Status checksum(const std::string& path, BackupEntry& e);
  Status prune();
  Status wait_ready(const std::string& project_color);
  std::string postgres_container(std::string* error);
  CommandResult run(const Argv& argv, std::string input = {},
                    std::chrono::milliseconds timeout = std::chrono::minutes(30));

  StageOps* ops_;
  Clock* clock_;
  StateStore* state_;
  std::ostream* log_;
  BackupConfig cfg_;
};

}  // namespace enkisys::cli
