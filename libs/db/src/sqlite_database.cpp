// SQLite backend: WAL, synchronous=FULL, per-connection statement cache, $N parameters bound by
// name, BEGIN IMMEDIATE write transactions serialised per Database.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "internal.hpp"

namespace enkisys::db::internal {
namespace {

std::string sqlstate_for(int extended_code) {
  switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return "23505";
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return "23503";
    case SQLITE_CONSTRAINT_NOTNULL:
      return "23502";
    case SQLITE_CONSTRAINT_CHECK:
      return "23514";
    default:
      break;
  }
  // Storage: a full disk (or database size limit) and I/O errors, as PostgreSQL names them.
  switch (extended_code & 0xff) {
    case SQLITE_FULL:
      return "53100";
    case SQLITE_IOERR:
      return "58030";
    default:
      return {};
  }
}

DbError sqlite_error(sqlite3* db, int rc, std::string_view context) {
  const int ext = db ? sqlite3_extended_errcode(db) : rc;
  const int primary = ext & 0xff;
  const bool transient = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
  std::string msg = "sqlite: ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += " (";
  msg += sqlite3_errstr(ext);
  msg += ")";
  if (!context.empty()) msg += " in: " + std::string(context);
  return DbError(msg, transient, sqlstate_for(ext));
}

bool only_space(const char* p) {
  for (; *p; ++p) {
    if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') return false;
  }
  return true;
}

class SqliteConn {
 public:
  SqliteConn(const std::string& filename, int flags, const Options& options) {
    const int rc = sqlite3_open_v2(filename.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      DbError err = sqlite_error(db_, rc, "opening the database");
      sqlite3_close_v2(db_);
      throw err;
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
    run("PRAGMA journal_mode=WAL");  // memory databases answer "memory"; both are fine
    run("PRAGMA synchronous=FULL");
    run("PRAGMA foreign_keys=ON");
    run("PRAGMA cache_size=-" + std::to_string(std::max(options.sqlite_cache_kib, 1)));
  }
  ~SqliteConn() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteConn(const SqliteConn&) = delete;
  SqliteConn& operator=(const SqliteConn&) = delete;

  sqlite3* handle() const { return db_; }

  // Runs statements without parameters or results (PRAGMA, BEGIN, COMMIT, scripts).
  void run(std::string_view sql) {
    const std::string text(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) throw sqlite_error(db_, rc, sql_excerpt(sql));
  }

  // Runs one parameterless statement (BEGIN, COMMIT) through the statement cache: no SQL
  // parsing on the per-transaction path.
  void run_cached(std::string_view sql) {
    sqlite3_stmt* stmt = prepare(sql);
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw sqlite_error(db_, rc, sql_excerpt(sql));
  }

  // A cached prepared statement for one SQL statement, or nullptr when sql holds no statement.
  sqlite3_stmt* prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    std::string key(sql);
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size() + 1),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) throw sqlite_error(db_, rc, sql_excerpt(sql));
    if (tail && !only_space(tail)) {
      sqlite3_stmt* next = nullptr;
      sqlite3_prepare_v2(db_, tail, -1, &next, nullptr);
      const bool more = next != nullptr;
      sqlite3_finalize(next);
      if (more) {
        sqlite3_finalize(stmt);
        throw DbError("exec() runs one statement; use exec_script() for several: " +
                      sql_excerpt(sql));
      }
    }
    if (stmt == nullptr) return nullptr;
    if (cache_.size() >= kCacheCapacity) {
      for (auto& [k, s] : cache_) sqlite3_finalize(s);
      cache_.clear();
    }
    cache_.emplace(std::move(key), stmt);
    return stmt;
  }

 private:
  static constexpr std::size_t kCacheCapacity = 128;
  sqlite3* db_ = nullptr;
  struct Hash {  // lookups by string_view, without building a std::string
    using is_transparent = void;
    std::size_t operator()(std::string_view v) const { return std::hash<std::string_view>{}(v); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> cache_;
};

// Parses a parameter name "$N" into N (1-based); 0 when it is not of that form.
std::size_t placeholder_number(const char* name) {
  if (name == nullptr || name[0] != '$' || name[1] == '\0') return 0;
  std::size_t n = 0;
  for (const char* p = name + 1; *p; ++p) {
    if (!std::isdigit(static_cast<unsigned char>(*p)) || n > 100000) return 0;
    n = n * 10 + static_cast<std::size_t>(*p - '0');
  }
  return n;
}

void bind_value(sqlite3_stmt* stmt, int index, const Value& v) {
  if (std::holds_alternative<std::nullptr_t>(v)) {
    sqlite3_bind_null(stmt, index);
  } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
    sqlite3_bind_int64(stmt, index, *n);
  } else if (const auto* d = std::get_if<double>(&v)) {
    sqlite3_bind_double(stmt, index, *d);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else {
    const auto& bytes = std::get<Blob>(v).bytes;
    if (bytes.empty()) {
      sqlite3_bind_zeroblob(stmt, index, 0);
    } else {
      sqlite3_bind_blob64(stmt, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    }
  }
}

Value column_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, i));
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
      return Blob{std::vector<std::uint8_t>(p, p + n)};
    }
    default:
      return nullptr;
  }
}

class SqliteTx final : public Tx {
 public:
  SqliteTx(SqliteConn& conn, bool read_only) : conn_(conn), read_only_(read_only) {}

  Backend backend() const override { return Backend::kSqlite; }

  void exec_script(std::string_view sql) override {
    if (read_only_) throw DbError("exec_script() is not allowed in a read-only transaction");
    conn_.run(sql);
  }

  Result exec(std::string_view sql, const std::vector<Value>& params) override {
    sqlite3_stmt* stmt = conn_.prepare(sql);
    Result result;
    if (stmt == nullptr) return result;
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    if (read_only_ && !sqlite3_stmt_readonly(stmt)) {
      throw DbError("statement writes inside a read-only transaction: " + sql_excerpt(sql), false,
                    "25006");
    }
    bind_all(stmt, sql, params);

    const int ncols = sqlite3_column_count(stmt);
    auto columns = std::make_shared<std::vector<std::string>>();
    for (int i = 0; i < ncols; ++i) columns->emplace_back(sqlite3_column_name(stmt, i));
    result.columns = *columns;

    sqlite3* db = conn_.handle();
    const auto changes_before = sqlite3_total_changes64(db);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw sqlite_error(db, rc, sql_excerpt(sql));
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(ncols));
      for (int i = 0; i < ncols; ++i) values.push_back(column_value(stmt, i));
      result.rows.emplace_back(columns, std::move(values));
    }
    // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE, so only trust it when
    // this statement changed something.
    if (sqlite3_total_changes64(db) != changes_before) result.affected = sqlite3_changes64(db);
    return result;
  }

 private:
  static void bind_all(sqlite3_stmt* stmt, std::string_view sql, const std::vector<Value>& params) {
    std::vector<bool> used(params.size(), false);
    const int count = sqlite3_bind_parameter_count(stmt);
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      const std::size_t n = placeholder_number(name);
      if (n == 0) {
        throw DbError(std::string("placeholder '") + (name ? name : "?") +
                      "' is not supported; use $1, $2, ...: " + sql_excerpt(sql));
      }
      if (n > params.size()) {
        throw DbError("statement uses $" + std::to_string(n) + " but " +
                      std::to_string(params.size()) +
                      " parameters were given: " + sql_excerpt(sql));
      }
      bind_value(stmt, i, params[n - 1]);
      used[n - 1] = true;
    }
    for (std::size_t k = 0; k < used.size(); ++k) {
      if (!used[k]) {
        throw DbError("parameter $" + std::to_string(k + 1) +
                      " is not used by the statement: " + sql_excerpt(sql));
      }
    }
  }

  SqliteConn& conn_;
  bool read_only_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string url, const std::string& filename, int flags, std::size_t pool_size,
                 const Options& options)
      : url_(std::move(url)),
        options_(options),
        pool_([filename, flags,
               options] { return std::make_unique<SqliteConn>(filename, flags, options); },
              pool_size, options.acquire_timeout) {
    pool_.seed(std::make_unique<SqliteConn>(filename, flags, options));
  }

  Backend backend() const override { return Backend::kSqlite; }
  std::string redacted_url() const override { return url_; }

  void transaction(const std::function<void(Tx&)>& fn) override {
    run_with_retry(options_, [&] {
      std::unique_lock writer(writer_, std::defer_lock);
      if (!writer.try_lock_for(options_.acquire_timeout)) {
        throw DbError("timed out waiting for the SQLite writer lock", true);
      }
      run_once(fn, false);
    });
  }

  void read(const std::function<void(Tx&)>& fn) override {
    run_with_retry(options_, [&] { run_once(fn, true); });
  }

  bool healthy(std::string* why) override {
    try {
      std::int64_t one = 0;
      run_once([&](Tx& tx) { one = tx.exec("SELECT 1").one().i64(0); }, true);
      if (one == 1) return true;
      if (why) *why = "SELECT 1 returned " + std::to_string(one);
    } catch (const DbError& e) {
      if (why) *why = e.what();
    }
    return false;
  }

 private:
  void run_once(const std::function<void(Tx&)>& fn, bool read_only) {
    auto conn = pool_.acquire();
    if (read_only) {
      conn->run_cached("BEGIN DEFERRED");
    } else {
      conn->run_cached("BEGIN IMMEDIATE");
    }
    try {
      SqliteTx tx(*conn, read_only);
      fn(tx);
      conn->run_cached("COMMIT");
    } catch (...) {
      if (!sqlite3_get_autocommit(conn->handle())) {
        sqlite3_exec(conn->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
      throw;
    }
  }

  std::string url_;
  Options options_;
  Pool<SqliteConn> pool_;
  std::timed_mutex writer_;
};

bool valid_memory_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

void check_directory(const std::filesystem::path& file, std::string_view url) {
  namespace fs = std::filesystem;
  const fs::path dir = file.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw DbError("cannot open '" + std::string(url) + "': directory " + dir.string() +
                  " does not exist");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw DbError("cannot open '" + std::string(url) + "': directory " + dir.string() +
                  " is not writable (SQLite needs to create the -wal and -shm files there)");
  }
  if (fs::exists(file, ec) && ::access(file.c_str(), R_OK | W_OK) != 0) {
    throw DbError("cannot open '" + std::string(url) + "': file " + file.string() +
                  " is not readable and writable");
  }
}

}  // namespace

std::unique_ptr<Database> open_sqlite(std::string_view url, const Options& options) {
  constexpr std::string_view kFile = "sqlite:///";
  constexpr std::string_view kMemory = "sqlite::memory:";
  const std::string text(url);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (url.starts_with(kMemory)) {
    const std::string_view name = url.substr(kMemory.size());
    if (name.empty()) {
      return std::make_unique<SqliteDatabase>(text, ":memory:", flags, 1, options);
    }
    if (!valid_memory_name(name)) {
      throw DbError("invalid memory database name in '" + text +
                    "' (letters, digits, '_' and '-' only)");
    }
    flags |= SQLITE_OPEN_URI;
    return std::make_unique<SqliteDatabase>(
        text, "file:enkisys-" + std::string(name) + "?mode=memory&cache=shared", flags, 1, options);
  }
  if (!url.starts_with(kFile) || url.size() == kFile.size()) {
    throw DbError("invalid SQLite URL '" + text +
                  "': use sqlite:///absolute/path.db (three slashes) or sqlite::memory:");
  }
  const std::filesystem::path file(std::string(url.substr(kFile.size() - 1)));
  check_directory(file, text);
  return std::make_unique<SqliteDatabase>(text, file.string(), flags, options.pool_size, options);
}

}  // namespace enkisys::db::internal
