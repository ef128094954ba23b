// PostgreSQL backend over libpq: PQexecParams with text parameters (bytea in binary), results
// mapped by column type, a pool that replaces broken connections, SQLSTATE kept in DbError.
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>

#include "internal.hpp"

namespace enkisys::db::internal {
namespace {

// Type OIDs from the server's pg_type catalogue (stable across versions).
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700;

bool transient_state(const std::string& s) {
  return s == "40001" || s == "40P01" || s.starts_with("08") || s == "57P01" || s == "57P02" ||
         s == "57P03" || s == "53300";
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// The password in a libpq URL (userinfo or ?password=), to scrub from server messages.
std::string url_password(std::string_view url) {
  const std::string redacted = redact_url(url);
  if (redacted == url) return {};
  const auto stars = redacted.find("***");
  const auto after = redacted.size() - stars - 3;  // same suffix in both strings
  return std::string(url.substr(stars, url.size() - stars - after));
}

std::string scrub(std::string msg, const std::string& secret) {
  if (secret.empty()) return msg;
  for (auto pos = msg.find(secret); pos != std::string::npos; pos = msg.find(secret, pos + 3)) {
    msg.replace(pos, secret.size(), "***");
  }
  return msg;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class PgConn {
 public:
  PgConn(const std::string& url, const Options& o) {
    const std::string timeout = std::to_string(o.connect_timeout_seconds);
    const std::string search = "-c search_path=" + o.search_path;
    // Entries before dbname are defaults the URL may override; entries after it override the URL.
    std::vector<const char*> keys = {"connect_timeout", "application_name", "client_encoding",
                                     "dbname"};
    std::vector<const char*> values = {timeout.c_str(), o.application_name.c_str(), "UTF8",
                                       url.c_str()};
    if (!o.search_path.empty()) {
      keys.push_back("options");
      values.push_back(search.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string why = conn_ ? trim(PQerrorMessage(conn_)) : "out of memory";
      PQfinish(conn_);
      throw DbError(
          "postgres: cannot connect to '" + redact_url(url) + "': " + scrub(why, url_password(url)),
          true);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgConn() { PQfinish(conn_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  PGconn* handle() const { return conn_; }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }

  DbError error(const PGresult* res, std::string_view sql) const {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string sqlstate = state ? state : "";
    std::string msg = res ? PQresultErrorMessage(res) : "";
    if (msg.empty()) msg = PQerrorMessage(conn_);
    const bool lost = !ok();
    if (lost && msg.empty()) msg = "connection lost";
    msg = trim(msg);
    std::replace(msg.begin(), msg.end(), '\n', ' ');  // keep log lines single-line
    std::string text = "postgres: " + msg;
    if (!sqlstate.empty()) text += " [" + sqlstate + "]";
    if (!sql.empty()) text += " in: " + std::string(sql);
    return DbError(text, lost || transient_state(sqlstate), sqlstate);
  }

  // Runs a command; throws DbError. Returns the result for status checks.
  ResultPtr command(const char* sql) {
    ResultPtr res(PQexec(conn_, sql));
    const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw error(res.get(), sql_excerpt(sql));
    }
    return res;
  }

 private:
  PGconn* conn_ = nullptr;
};

std::string format_double(double d) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

Value parse_cell(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return nullptr;
  const char* text = PQgetvalue(res, row, col);
  const auto len = static_cast<std::size_t>(PQgetlength(res, row, col));
  switch (PQftype(res, col)) {
    case kBool:
      return static_cast<std::int64_t>(text[0] == 't' ? 1 : 0);
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
    case kNumeric: {
      std::int64_t n = 0;
      const auto r = std::from_chars(text, text + len, n);
      if (r.ec == std::errc() && r.ptr == text + len) return n;
      [[fallthrough]];
    }
    case kFloat4:
    case kFloat8: {
      double d = 0;
      const auto r = std::from_chars(text, text + len, d);
      if (r.ec == std::errc() && r.ptr == text + len) return d;
      if (std::strcmp(text, "Infinity") == 0) return std::numeric_limits<double>::infinity();
      if (std::strcmp(text, "-Infinity") == 0) return -std::numeric_limits<double>::infinity();
      return std::string(text, len);  // e.g. numeric beyond double's range: keep the text
    }
    case kBytea: {
      std::size_t n = 0;
      unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
      if (raw == nullptr) throw DbError("postgres: cannot decode bytea value");
      Blob blob{std::vector<std::uint8_t>(raw, raw + n)};
      PQfreemem(raw);
      return blob;
    }
    default:
      return std::string(text, len);
  }
}

class PgTx final : public Tx {
 public:
  explicit PgTx(PgConn& conn) : conn_(conn) {}
  Backend backend() const override { return Backend::kPostgres; }

  void exec_script(std::string_view sql) override { conn_.command(std::string(sql).c_str()); }

  Result exec(std::string_view sql, const std::vector<Value>& params) override {
    const std::size_t n = params.size();
    std::vector<Oid> types(n, 0);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0);
    std::vector<int> formats(n, 0);
    std::vector<std::string> storage(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Value& v = params[i];
      if (const auto* k = std::get_if<std::int64_t>(&v)) {
        types[i] = kInt8;
        storage[i] = std::to_string(*k);
        values[i] = storage[i].c_str();
      } else if (const auto* d = std::get_if<double>(&v)) {
        types[i] = kFloat8;
        storage[i] = format_double(*d);
        values[i] = storage[i].c_str();
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        if (s->find('\0') != std::string::npos) {
          throw DbError("parameter $" + std::to_string(i + 1) +
                        ": PostgreSQL text cannot contain NUL bytes; use a Blob");
        }
        values[i] = s->c_str();  // type left to the server: text, json, timestamp, ...
      } else if (const auto* b = std::get_if<Blob>(&v)) {
        types[i] = kBytea;
        values[i] = reinterpret_cast<const char*>(b->bytes.data());
        lengths[i] = static_cast<int>(b->bytes.size());
        formats[i] = 1;
        if (values[i] == nullptr) values[i] = "";  // empty, not NULL
      }
    }
    const std::string text(sql);
    ResultPtr res(PQexecParams(conn_.handle(), text.c_str(), static_cast<int>(n), types.data(),
                               values.data(), lengths.data(), formats.data(), 0));
    const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw conn_.error(res.get(), sql_excerpt(sql));
    }
    Result result;
    const int ncols = PQnfields(res.get());
    auto columns = std::make_shared<std::vector<std::string>>();
    for (int c = 0; c < ncols; ++c) columns->emplace_back(PQfname(res.get(), c));
    result.columns = *columns;
    const int nrows = PQntuples(res.get());
    result.rows.reserve(static_cast<std::size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
      std::vector<Value> row;
      row.reserve(static_cast<std::size_t>(ncols));
      for (int c = 0; c < ncols; ++c) row.push_back(parse_cell(res.get(), r, c));
      result.rows.emplace_back(columns, std::move(row));
    }
    // PQcmdTuples also counts the rows of a SELECT; report only rows changed, as SQLite does.
    const std::string_view command = PQcmdStatus(res.get());
    if (command.starts_with("INSERT") || command.starts_with("UPDATE") ||
        command.starts_with("DELETE") || command.starts_with("MERGE")) {
      const char* affected = PQcmdTuples(res.get());
      std::from_chars(affected, affected + std::strlen(affected), result.affected);
    }
    return result;
  }

 private:
  PgConn& conn_;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(std::string url, const Options& options)
      : url_(std::move(url)),
        options_(options),
        begin_(options.isolation.empty() ? "BEGIN" : "BEGIN ISOLATION LEVEL " + options.isolation),
        pool_([this] { return std::make_unique<PgConn>(url_, options_); }, options.pool_size,
              options.acquire_timeout) {
    pool_.seed(std::make_unique<PgConn>(url_, options_));
  }

  Backend backend() const override { return Backend::kPostgres; }
  std::string redacted_url() const override { return redact_url(url_); }

  void transaction(const std::function<void(Tx&)>& fn) override {
    run_with_retry(options_, [&] { run_once(fn, begin_.c_str()); });
  }
  void read(const std::function<void(Tx&)>& fn) override {
    run_with_retry(options_, [&] { run_once(fn, "BEGIN READ ONLY"); });
  }

  bool healthy(std::string* why) override {
    try {
      std::int64_t one = 0;
      run_once([&](Tx& tx) { one = tx.exec("SELECT 1").one().i64(0); }, "BEGIN READ ONLY");
      if (one == 1) return true;
      if (why) *why = "SELECT 1 returned " + std::to_string(one);
    } catch (const DbError& e) {
      if (why) *why = e.what();
    }
    return false;
  }

 private:
  void run_once(const std::function<void(Tx&)>& fn, const char* begin) {
    auto conn = pool_.acquire();
    struct Guard {  // never return a broken or mid-transaction connection to the pool
      decltype(conn)& lease;
      ~Guard() {
        if (!lease->ok() || !lease->idle()) lease.mark_broken();
      }
    } guard{conn};
    conn->command(begin);
    try {
      PgTx tx(*conn);
      fn(tx);
    } catch (...) {
      if (conn->ok()) PQclear(PQexec(conn->handle(), "ROLLBACK"));
      throw;
    }
    ResultPtr res(PQexec(conn->handle(), "COMMIT"));
    const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK) {
      DbError e = conn->error(res.get(), "COMMIT");
      if (!conn->ok()) {
        throw DbError(std::string(e.what()) +
                          " — connection lost during COMMIT; the transaction may or may not "
                          "have been committed",
                      false, "08006");
      }
      throw e;
    }
    if (std::strcmp(PQcmdStatus(res.get()), "COMMIT") != 0) {
      throw DbError("postgres: transaction rolled back at COMMIT because a statement in it failed",
                    false, "25P02");
    }
  }

  std::string url_;
  Options options_;
  std::string begin_;
  Pool<PgConn> pool_;
};

void validate(const Options& o) {
  for (char c : o.search_path) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ',') {
      throw DbError("Options::search_path '" + o.search_path +
                    "' may hold only letters, digits, '_' and ','");
    }
  }
  if (!o.isolation.empty() && o.isolation != "serializable" && o.isolation != "repeatable read" &&
      o.isolation != "read committed") {
    throw DbError(
        "Options::isolation must be 'serializable', 'repeatable read' or "
        "'read committed', not '" +
        o.isolation + "'");
  }
}

}  // namespace

std::unique_ptr<Database> open_postgres(std::string_view url, const Options& options) {
  validate(options);
  return std::make_unique<PgDatabase>(std::string(url), options);
}

}  // namespace enkisys::db::internal
