// Edge JWT verification for routes with `jwt: true`.
//
// Contract:
//  * authenticate() is thread-safe and never throws on untrusted input. Cache hits (the
//    security library's VerificationCache, keyed by a keyed hash of the token) cost a hash
//    and a claims re-check; misses run the full signature verification.
//  * Keys: the HS256 secret from the config, and/or a JWKS document fetched from `jwks_url`
//    by JwksRefresher. A token whose kid is unknown triggers a refetch, rate limited to one per
//    `min_refetch_interval`; that request itself is refused (401).
//  * The key set is swapped atomically; in-flight verifications keep their snapshot.
//  * TokenMemo: a connection's memo of its last accepted Authorization header. When the next
//    request on that connection sends byte-identical credentials and the key set has not changed,
//    authenticate(.., memo, ..) skips the hash and the shared cache and only re-checks the claims
//    (exp/nbf/iss/aud) against the current time. A memo belongs to one connection (not
//    thread-safe) and must not outlive the Authenticator.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "enkisys/gateway/config.hpp"
#include "enkisys/security/jwt.hpp"
#include "enkisys/security/key_set.hpp"
#include "enkisys/security/verification_cache.hpp"

namespace enkisys::gateway {

// The last accepted credentials of one client connection (see the contract above).
struct TokenMemo {
  std::string authorization;  // header value as received
  std::shared_ptr<const security::Claims> claims;
  std::string roles;  // claims->roles joined with ','
  std::uint64_t keys_version = 0;
};

class Authenticator {
 public:
  explicit Authenticator(const JwtConfig& config,
                         const security::Clock& clock = security::SystemClock::instance());

  // `authorization` is the Authorization header value ("Bearer <jwt>"). On failure returns
  // nullptr and sets *error to a short static reason ("missing_token", "expired", ...).
  std::shared_ptr<const security::Claims> authenticate(std::string_view authorization,
                                                       const char** error);
  // Same decision, remembered per connection: returns the memo's claims (valid until the next
  // call with this memo) or nullptr with *error set. A refusal clears the memo.
  const security::Claims* authenticate(std::string_view authorization, TokenMemo& memo,
                                       const char** error);

  // Replaces the asymmetric keys (JWKS); the HS256 secret, if configured, stays.
  void set_jwks_keys(const security::KeySet& keys);
  // Called (from a request thread) when a token names an unknown kid.
  void set_unknown_kid_hook(std::function<void()> hook) { unknown_kid_hook_ = std::move(hook); }
  const security::VerificationCache& cache() const { return cache_; }

 private:
  std::shared_ptr<const security::KeySet> keys() const;
  const security::Clock& clock_;
  security::VerifyOptions options_;
  std::vector<security::VerifyKey> static_keys_;
  mutable std::mutex keys_mu_;
  std::shared_ptr<const security::KeySet> keys_;
  std::atomic<std::uint64_t> keys_version_{1};  // bumped by set_jwks_keys()
  security::VerificationCache cache_;
  std::function<void()> unknown_kid_hook_;
};

// Fetches a JWKS URL (http:// only, inside the platform network) on its own thread: once at
// start, then whenever request() is called but at most once per `min_interval`.
class JwksRefresher {
 public:
  using Fetch =
      std::function<std::optional<std::string>(const std::string& url, std::string* error)>;
  // With start = false no background thread runs (tests drive refresh_now() themselves).
  JwksRefresher(std::string url, Authenticator& auth, std::chrono::seconds min_interval,
                std::function<void(const std::string&)> on_error, Fetch fetch = http_get,
                bool start = true);
  ~JwksRefresher();
  // Asks the background thread for a refetch (coalesced, at most one per min_interval).
  void request();
  // Fetches and installs the keys now, on the calling thread. Returns an error message or "".
  std::string refresh_now();
  // Blocking GET with a 5 s timeout; returns the body of a 200 response.
  static std::optional<std::string> http_get(const std::string& url, std::string* error);

 private:
  void loop();
  std::string url_;
  Authenticator& auth_;
  std::chrono::seconds min_interval_;
  std::function<void(const std::string&)> on_error_;
  Fetch fetch_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = true, stop_ = false;
  std::thread thread_;
};

}  // namespace enkisys::gateway
