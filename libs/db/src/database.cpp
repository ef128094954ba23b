// Database::open (scheme dispatch), query(), the retry loop and URL redaction.
#include "enkisys/db/database.hpp"

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

#include "internal.hpp"

namespace enkisys::db {

std::unique_ptr<Database> Database::open(std::string_view url, const Options& options) {
  const auto colon = url.find(':');
  const std::string_view scheme = colon == std::string_view::npos ? url : url.substr(0, colon);
  if (scheme == "sqlite") return internal::open_sqlite(url, options);
  if (scheme == "postgres" || scheme == "postgresql") return internal::open_postgres(url, options);
  if (colon == std::string_view::npos) {
    throw DbError("database URL '" + redact_url(url) +
                  "' has no scheme; use sqlite:///path.db, sqlite::memory: or postgres://...");
  }
  throw DbError("unsupported database URL scheme '" + std::string(scheme) + "' in '" +
                redact_url(url) + "'; use sqlite: or postgres:");
}

Result Database::query(std::string_view sql, std::vector<Value> params) {
  Result result;
  transaction([&](Tx& tx) { result = tx.exec(sql, params); });
  return result;
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  // userinfo password: scheme://user:PASSWORD@host
  const auto scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    const auto auth_start = scheme_end + 3;
    const auto auth_end = out.find_first_of("/?#", auth_start);
    const auto at = out.rfind('@', auth_end == std::string::npos ? std::string::npos : auth_end);
    if (at != std::string::npos && at >= auth_start) {
      const auto colon = out.find(':', auth_start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "***");
      }
    }
  }
  // query parameter: ...?password=SECRET&...
  for (std::size_t pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (pos == 0 || (out[pos - 1] != '?' && out[pos - 1] != '&')) continue;
    const auto value_start = pos + 9;
    const auto value_end = std::min(out.find('&', value_start), out.size());
    out.replace(value_start, value_end - value_start, "***");
  }
  return out;
}

std::string url_with_password(std::string_view url, std::string_view password) {
  const auto scheme_end = url.find("://");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme_end == std::string_view::npos || (scheme != "postgres" && scheme != "postgresql")) {
    throw DbError("a database password applies only to a postgres:// URL, not '" + redact_url(url) +
                  "'");
  }
  const auto auth_start = scheme_end + 3;
  const auto auth_end = std::min(url.find_first_of("/?#", auth_start), url.size());
  const auto at = url.substr(0, auth_end).rfind('@');
  if (at == std::string_view::npos || at < auth_start) {
    throw DbError("database URL '" + redact_url(url) +
                  "' names no user for the password (postgres://USER@host/db)");
  }
  std::string_view user = url.substr(auth_start, at - auth_start);
  user = user.substr(0, user.find(':'));
  if (user.empty()) {
    throw DbError("database URL '" + redact_url(url) +
                  "' names no user for the password (postgres://USER@host/db)");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(url.substr(0, auth_start));
  out.append(user);
  out += ':';
  for (const char c : password) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  out.append(url.substr(at));
  return out;
}

namespace internal {

std::string sql_excerpt(std::string_view sql) {
  constexpr std::size_t kMax = 160;
  std::string s(sql.substr(0, kMax));
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (sql.size() > kMax) s += "...";
  return s;
}

void run_with_retry(const Options& options, const std::function<void()>& attempt) {
  const int max_attempts = std::max(1, options.max_attempts);
  auto delay = std::max(options.backoff_initial, std::chrono::milliseconds(1));
  thread_local std::minstd_rand rng{std::random_device{}()};
  for (int n = 1;; ++n) {
    try {
      attempt();
      return;
    } catch (const DbError& e) {
      if (!e.transient()) throw;
      if (n >= max_attempts) {
        throw DbError(std::string(e.what()) + " (gave up after " + std::to_string(n) + " attempts)",
                      true, e.sqlstate());
      }
      if (options.on_retry) options.on_retry(e, n);
    }
    // Full jitter in [delay/2, delay] spreads out writers that collided together.
    std::uniform_int_distribution<long> pick(delay.count() / 2, delay.count());
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(rng)));
    delay = std::min(delay * 2, std::max(options.backoff_max, delay));
  }
}

}  // namespace internal
}  // namespace enkisys::db
