// enkisys/db/database.hpp — one small database interface over SQLite and PostgreSQL.
//
// Contract:
//  * Database is thread-safe. It owns a small pool of connections; every call is blocking, so
//    callers run it off their I/O threads. Destroying a Database while another thread still uses
//    it is undefined; destroy it after every user has finished.
//  * All SQL runs inside transaction(): fn gets a Tx bound to one pooled connection. If fn
//    returns, the transaction commits; if fn throws, it rolls back and the exception propagates.
//    On a transient DbError (see error.hpp) the whole fn is run again, at most
//    Options::max_attempts times, with exponential backoff — so fn must have no side effects
//    outside the database other than ones safe to repeat.
//  * SQL uses $1, $2, ... placeholders on both backends; the number of parameters given must
//    match the placeholders used. One statement per exec(); exec_script() runs several
//    statements without parameters (used for migrations).
//  * SQLite (sqlite:///abs/path.db, sqlite::memory:, sqlite::memory:NAME): WAL, synchronous=FULL,
//    foreign_keys=ON, busy_timeout. transaction() is BEGIN IMMEDIATE and write transactions of one
//    Database run one at a time; read() runs BEGIN DEFERRED transactions concurrently and refuses
//    statements that write.
//  * PostgreSQL (postgres://..., postgresql://...): the URL is handed to libpq. A connection found
//    broken is reconnected on its next use. transaction() is BEGIN ... COMMIT (READ COMMITTED
//    unless Options::isolation says otherwise); read() is BEGIN READ ONLY.
//  * Errors: DbError. open() throws a clear message (password redacted) for a bad URL, a missing
//    or unwritable SQLite directory, or a server that cannot be reached.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "enkisys/db/error.hpp"
#include "enkisys/db/value.hpp"

namespace enkisys::db {

struct Options {
  // Connections kept by the pool (PostgreSQL; SQLite files use it for concurrent read()s).
  // sqlite::memory: always uses one connection.
  std::size_t pool_size = 4;
  // Longest wait for a free pooled connection before a transient DbError.
  std::chrono::milliseconds acquire_timeout{30000};
  // SQLite: how long a statement waits for another process's lock before SQLITE_BUSY.
  std::chrono::milliseconds busy_timeout{5000};
  // SQLite: the page cache of each connection, KiB (PRAGMA cache_size=-N; 2000 is SQLite's own
  // default). Pages beyond it are read again through the operating system's page cache.
  int sqlite_cache_kib = 2000;
  // transaction(): attempts in total (>= 1) and backoff between them (doubling up to max).
  int max_attempts = 8;
  std::chrono::milliseconds backoff_initial{5};
  std::chrono::milliseconds backoff_max{500};
  // PostgreSQL: schema search path set on every connection (letters, digits, '_' and ','
  // only); empty = server default. Tests use it to give each test its own schema.
  std::string search_path;
  // PostgreSQL: "serializable" or "repeatable read" to raise the isolation of transaction().
  std::string isolation;
  // PostgreSQL: application_name reported to the server; connect timeout (URL value wins).
  std::string application_name = "enkisys";
  int connect_timeout_seconds = 10;
  // Called before each retry with the transient error and the attempt that failed (1-based).
  // Runs on the calling thread. Useful for logs and metrics.
  std::function<void(const DbError&, int attempt)> on_retry;
};

// One transaction on one pooled connection. Valid only inside the transaction() callback that
// received it; not thread-safe (use it from the thread running the callback).
class Tx {
 public:
  virtual ~Tx() = default;
  virtual Result exec(std::string_view sql, const std::vector<Value>& params) = 0;
  Result exec(std::string_view sql, std::initializer_list<Value> params = {}) {
    return exec(sql, std::vector<Value>(params));
  }
  // Runs one or more ';'-separated statements without parameters; returns nothing.
  virtual void exec_script(std::string_view sql) = 0;
  virtual Backend backend() const = 0;
};

class Database {
 public:
  virtual ~Database() = default;
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Opens (and for SQLite creates) the database named by url. Throws DbError.
  static std::unique_ptr<Database> open(std::string_view url, const Options& options = {});

  virtual Backend backend() const = 0;
  // The URL given to open(), with any password replaced by "***".
  virtual std::string redacted_url() const = 0;

  // Read-write transaction; see the contract above.
  virtual void transaction(const std::function<void(Tx&)>& fn) = 0;
  // Read-only transaction: same retry rules; statements that write throw DbError.
  virtual void read(const std::function<void(Tx&)>& fn) = 0;

  // Convenience: one statement in its own read-write transaction.
  Result query(std::string_view sql, std::vector<Value> params = {});

  // Runs `SELECT 1`; on failure returns false and, if why is non-null, stores the reason.
  virtual bool healthy(std::string* why) = 0;
};

// "postgres://user:secret@host/db" -> "postgres://user:***@host/db"; also redacts a
// password=... query parameter. Any other string is returned unchanged.
std::string redact_url(std::string_view url);

// A postgres:// or postgresql:// URL with `password` set as the password of its user
// (percent-encoded; a password already in the URL is replaced). The way a password kept in a
// secret file (DATABASE_PASSWORD_FILE) joins a DATABASE_URL that names only the user.
// Throws DbError for a URL of another scheme or one that names no user: a password would be
// silently ignored there.
std::string url_with_password(std::string_view url, std::string_view password);

}  // namespace enkisys::db
