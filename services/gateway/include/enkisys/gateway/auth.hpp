// Edge JWT verification for routes with `jwt: true`.
//
// Contract:
//  * authenticate() is thread-safe and never throws on untrusted input. Cache hits (the
//    security library's VerificationCache, keyed by a keyed hash of the token) cost a hash
//    and a claims re-check; misses run the full signature verification.
//  * Keys: the HS256 secret from the config, and/or a JWKS document fetched from the stage's
//    `jwks_url` by a JwksRefresher. A token whose kid is unknown asks the refresher for a
//    refetch; when one is due (see JwksRefresher) authenticate() reports kAwaitingKeys and the
//    caller may wait (bounded) for refresh_attempts() to move, then try once more.
//  * The key set is swapped atomically; in-flight verifications keep their snapshot.
//  * TokenMemo: a connection's memo of its last accepted Authorization header. When the next
//    request on that connection sends byte-identical credentials to the same Authenticator and
//    its key set has not changed, authenticate(.., memo, ..) skips the hash and the shared cache
//    and only re-checks the claims (exp/nbf/iss/aud) against the current time. Key-set versions
//    are unique across all Authenticators of the process, so a memo made by one is never taken
//    for another's. A memo belongs to one connection (not thread-safe).
//  * Verifiers: one Authenticator (with its own key cache and refresher) per distinct stage JWT
//    setting after ${stage}/${var} substitution, so each stage verifies with its own auth's keys
//    and a token signed for one stage is refused by every other.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "enkisys/gateway/config.hpp"
#include "enkisys/security/jwt.hpp"
#include "enkisys/security/key_set.hpp"
#include "enkisys/security/verification_cache.hpp"

namespace enkisys::gateway {

struct Generation;  // route_table.hpp

// The last accepted credentials of one client connection (see the contract above).
struct TokenMemo {
  std::string authorization;  // header value as received
  std::shared_ptr<const security::Claims> claims;
  std::string roles;  // claims->roles joined with ','
  std::uint64_t keys_version = 0;
  std::uint64_t revoked_version = 0;  // the revocation list the claims were checked against
};

// What the JWKS source of an Authenticator is doing (admin API, tests).
struct KeySourceStatus {
  std::string url;
  std::size_t keys = 0;          // asymmetric keys installed
  std::uint64_t fetches_ok = 0;  // successful fetches so far
  std::uint64_t attempts = 0;    // fetch attempts so far
  std::string last_error;        // of the last attempt ("" when it succeeded)
};

class Authenticator {
 public:
  // Error reported for a token whose kid is unknown while a key refetch is due: the caller may
  // wait for refresh_attempts() to change and retry once. Its text is "unknown_key".
  // Compare by address: the text is the same as the plain refusal's.
  static constexpr char kAwaitingKeys[] = "unknown_key";

  explicit Authenticator(const JwtConfig& config,
                         const security::Clock& clock = security::SystemClock::instance());

  // `authorization` is the Authorization header value ("Bearer <jwt>"). On failure returns
  // nullptr and sets *error to a short static reason ("missing_token", "token_expired", ...).
  std::shared_ptr<const security::Claims> authenticate(std::string_view authorization,
                                                       const char** error);
  // Same decision, remembered per connection: returns the memo's claims (valid until the next
  // call with this memo) or nullptr with *error set. A refusal clears the memo.
  const security::Claims* authenticate(std::string_view authorization, TokenMemo& memo,
                                       const char** error);

  // Replaces the set of revoked sessions (sid → the latest exp of its tokens, unix seconds);
  // entries already expired are dropped. A token whose `sid` is in the set is refused with
  // "token_revoked" from the next authenticate() on (memo and cache hits included).
  void set_revoked(const std::vector<std::pair<std::string, std::int64_t>>& revoked);
  std::size_t revoked_count() const;

  // Replaces the asymmetric keys (JWKS); the HS256 secret, if configured, stays.
  void set_jwks_keys(const security::KeySet& keys);
  // Called (from a request thread) when a token names an unknown kid; returns true when a
  // refetch will start at once (then authenticate() reports kAwaitingKeys).
  void set_unknown_kid_hook(std::function<bool()> hook) { unknown_kid_hook_ = std::move(hook); }

  // Fetch attempts finished so far; the refresher bumps it (and runs the waiters) after each.
  std::uint64_t refresh_attempts() const { return attempts_.load(std::memory_order_acquire); }
  void refresh_finished(const std::string& error);
  // Runs `fn` (under a lock: keep it short, e.g. post to an executor) after every finished
  // attempt until forget(id) returns; forget() guarantees `fn` is not running and never will.
  std::uint64_t on_refresh(std::function<void()> fn);
  void forget(std::uint64_t id);

  KeySourceStatus status() const;
  const security::VerificationCache& cache() const { return cache_; }
  const JwtConfig& config() const { return config_; }

 private:
  std::shared_ptr<const security::KeySet> keys() const;
  bool revoked(const security::Claims& claims) const;
  const JwtConfig config_;
  const security::Clock& clock_;
  security::VerifyOptions options_;
  std::vector<security::VerifyKey> static_keys_;
  mutable std::mutex keys_mu_;
  std::shared_ptr<const security::KeySet> keys_;
  std::size_t jwks_keys_ = 0;                // guarded by keys_mu_
  std::uint64_t fetches_ok_ = 0;             // guarded by keys_mu_
  std::string last_error_;                   // guarded by keys_mu_
  std::atomic<std::uint64_t> keys_version_;  // unique in the process, new per key set
  std::atomic<std::uint64_t> attempts_{0};
  std::mutex waiters_mu_;
  std::map<std::uint64_t, std::function<void()>> waiters_;
  std::uint64_t next_waiter_ = 1;
  security::VerificationCache cache_;
  std::function<bool()> unknown_kid_hook_;
  mutable std::mutex revoked_mu_;
  std::unordered_map<std::string, std::int64_t> revoked_;  // guarded by revoked_mu_
  std::atomic<std::uint64_t> revoked_version_{0};          // bumped by every set_revoked()
  std::atomic<bool> any_revoked_{false};
};

// Polls auth's revocation feed (jwt.revocations_url) on its own thread: at once on start, then
// every `poll`; sends `Authorization: Bearer <token>` when a token is configured and
// `If-None-Match` with the last ETag (304 keeps the list). A failed poll keeps the last list,
// is reported through `on_error` (not repeated while the error stays the same; "" on recovery)
// and is retried after 1, 2, 4 … s (at most `poll`). Each fetch has a 2 s timeout, so a session
// revoked at auth stops working here within poll + 2 s.
class RevocationPoller {
 public:
  struct Response {
    int status = 0;
    std::string body;
    std::string etag;
  };
  using Fetch =
      std::function<std::optional<Response>(const std::string& url, const std::string& bearer,
                                            const std::string& etag, std::string* error)>;
  // The bearer secret: a fixed value, or a secret file read before each poll (≥ 16 characters;
  // unreadable → that poll fails). Both empty: no Authorization header.
  struct Bearer {
    std::string value;
    std::string file;
    Bearer() = default;
    Bearer(std::string v) : value(std::move(v)) {}  // NOLINT(google-explicit-constructor)
    Bearer(const char* v) : value(v) {}             // NOLINT(google-explicit-constructor)
    static Bearer from_file(std::string path);
  };
  RevocationPoller(std::string url, Bearer bearer, std::chrono::seconds poll, Authenticator& auth,
                   std::function<void(const std::string&)> on_error, Fetch fetch = http_fetch,
                   bool start = true);
  ~RevocationPoller();
  RevocationPoller(const RevocationPoller&) = delete;
  RevocationPoller& operator=(const RevocationPoller&) = delete;

  // One poll on the calling thread; returns an error message or "".
  std::string poll_now();
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // Blocking GET with a 2 s timeout.
  static std::optional<Response> http_fetch(const std::string& url, const std::string& bearer,
                                            const std::string& etag, std::string* error);

 private:
  void loop();
  const std::string url_;
  const Bearer bearer_;
  const std::chrono::seconds poll_;
  Authenticator& auth_;
  std::function<void(const std::string&)> on_error_;
  Fetch fetch_;
  std::string etag_;  // used by the polling thread only
  std::atomic<std::uint64_t> failures_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

// Fetches a JWKS URL (http:// only, inside the platform network) on its own thread.
// Schedule: at once on start; after a failure, again after 1, 2, 4 … s (capped at
// `min_interval`); after a success, every `refresh_interval` (so keys removed from the JWKS
// stop being accepted). request() (an unknown kid) asks for an earlier fetch, granted when the
// last attempt failed or no fetch succeeded yet (at most one per `retry_min`), or when the last
// success is older than `min_interval`; requests arriving meanwhile are coalesced.
class JwksRefresher {
 public:
  using Fetch =
      std::function<std::optional<std::string>(const std::string& url, std::string* error)>;
  struct Schedule {
    std::chrono::seconds min_interval{30};
    std::chrono::seconds refresh_interval{300};
    std::chrono::milliseconds retry_min{1000};
  };
  // With start = false no background thread runs (tests drive refresh_now() themselves).
  JwksRefresher(std::string url, Authenticator& auth, Schedule schedule,
                std::function<void(const std::string&)> on_error, Fetch fetch = http_get,
                bool start = true);
  ~JwksRefresher();
  JwksRefresher(const JwksRefresher&) = delete;
  JwksRefresher& operator=(const JwksRefresher&) = delete;

  // Asks for a refetch; true when one starts at once (not rate limited). Thread-safe; the
  // returned function does the same and stays safe to call after the refresher is gone.
  bool request() const;
  std::function<bool()> requester() const;
  // Fetches and installs the keys now, on the calling thread. Returns an error message or "".
  std::string refresh_now();
  // Blocking GET with a 5 s timeout; returns the body of a 200 response.
  static std::optional<std::string> http_get(const std::string& url, std::string* error);

  struct State;  // shared with requester()

 private:
  void loop();
  std::string fetch_and_install();
  void record(const std::string& err);  // schedule bookkeeping, then the Authenticator's waiters
  std::string url_;
  Authenticator& auth_;
  std::function<void(const std::string&)> on_error_;
  Fetch fetch_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// All verifiers of the gateway, keyed by their substituted settings (see the contract above).
class Verifiers {
 public:
  struct Options {
    const security::Clock* clock = &security::SystemClock::instance();
    JwksRefresher::Fetch fetch = JwksRefresher::http_get;
    // Called from a refresher thread on a failed fetch (not repeated while the error stays the
    // same) and on the recovery after one ("" as error).
    std::function<void(const std::string& url, const std::string& error)> on_fetch_state;
    // The revocation feed's fetch (tests replace it); failures go to on_fetch_state too.
    RevocationPoller::Fetch revocation_fetch = RevocationPoller::http_fetch;
  };
  Verifiers() : Verifiers(Options{}) {}
  explicit Verifiers(Options options);
  ~Verifiers();
  Verifiers(const Verifiers&) = delete;
  Verifiers& operator=(const Verifiers&) = delete;

  // Gives each stage of `g` (when jwt is configured) its Authenticator: the one already
  // serving identical settings, or a new one whose refresher starts fetching at once. Retires
  // the verifiers no stage of `g` uses (their refresher stops; generations still holding them
  // keep verifying with the keys they have). Returns an error, and changes nothing, when a
  // setting is unusable (e.g. a too-short HS256 secret). Not thread-safe (GatewayState
  // serialises it).
  std::optional<std::string> attach(Generation& g);
  // Fetches every verifier's keys now on the calling thread; returns the first error or "".
  std::string refresh_all_now();
  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<Authenticator> auth;
    std::unique_ptr<JwksRefresher> refresher;
    std::unique_ptr<RevocationPoller> revocations;
  };
  Options options_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // key: the substituted settings
};

}  // namespace enkisys::gateway
