// enkisys/db/error.hpp — the one error type of the database layer.
//
// Contract:
//  * Every failing call of this library throws DbError (never a bare std::exception), except
//    that exceptions thrown by the caller's own transaction body pass through unchanged.
//  * transient() is true when repeating the whole transaction may succeed: SQLite BUSY/LOCKED,
//    PostgreSQL serialization failure (40001), deadlock (40P01), connection lost before COMMIT,
//    connection refused/exhausted pool. Database::transaction() already retries these (bounded).
//  * sqlstate() is a PostgreSQL SQLSTATE on both backends where one applies: SQLite constraint
//    errors are mapped to the PostgreSQL codes (23505 unique, 23503 foreign key, 23502 not null,
//    23514 check); other SQLite errors have an empty sqlstate.
//  * Messages never contain a password (URLs are quoted with redact_url()).
//  * Immutable after construction; safe to share between threads.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace enkisys::db {

// A plain error value for callers that keep errors as values (e.g. health checks, handlers).
struct Error {
  std::string message;
  bool transient = false;  // busy / serialization / connection lost: retrying may succeed
};

class DbError : public std::runtime_error {
 public:
  explicit DbError(const std::string& message, bool transient = false, std::string sqlstate = {})
      : std::runtime_error(message), transient_(transient), sqlstate_(std::move(sqlstate)) {}

  bool transient() const noexcept { return transient_; }
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  bool unique_violation() const noexcept { return sqlstate_ == "23505"; }
  bool foreign_key_violation() const noexcept { return sqlstate_ == "23503"; }
  bool not_null_violation() const noexcept { return sqlstate_ == "23502"; }
  // The database cannot be used right now, through no fault of the request: it could not be
  // reached or the connection was lost (transient errors, SQLSTATE class 08, 57P01-57P03),
  // or its storage is full or failing (53100 disk full, 53xxx, 58030 I/O error; SQLite
  // SQLITE_FULL and SQLITE_IOERR map to 53100 and 58030). Services answer these with 503.
  bool unavailable() const noexcept {
    return transient_ || sqlstate_.rfind("08", 0) == 0 || sqlstate_.rfind("53", 0) == 0 ||
           sqlstate_ == "58030" || sqlstate_ == "57P01" || sqlstate_ == "57P02" ||
           sqlstate_ == "57P03";
  }
  bool disk_full() const noexcept { return sqlstate_ == "53100"; }
  Error to_error() const { return Error{what(), transient_}; }

 private:
  bool transient_;
  std::string sqlstate_;
};

}  // namespace enkisys::db
