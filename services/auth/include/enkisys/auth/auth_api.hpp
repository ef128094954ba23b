// The auth service's HTTP API under /api/auth (contract: ARCHITECTURE.md §2; README.md).
//
//   POST   /api/auth/signup                  {"email","password"} → 201 user
//   POST   /api/auth/login                   {"email","password"} → token pair | 401 | 403 | 429
//   POST   /api/auth/refresh                 {"refresh_token"} → new token pair | 401
//   POST   /api/auth/logout                  {"refresh_token"} or Bearer → 204
//   GET    /api/auth/me                      Bearer → user
//   POST   /api/auth/password                Bearer {"current_password","new_password"}
//   GET    /api/auth/.well-known/jwks.json   public signing keys
//   POST   /api/auth/introspect              {"token"} → {"active",...} (gateway)
//   GET    /api/auth/revocations             revoked sessions (gateway; ETag / 304)
//   admin (Bearer with role admin):
//   GET    /api/auth/users?limit=&offset=    POST /api/auth/users/{id}/disable|enable
//   GET    /api/auth/audit?limit=&before=&event=
//   GET    /api/auth/keys                    POST /api/auth/keys/rotate
//   GET    /api/auth/api-keys                POST /api/auth/api-keys   DELETE
//   /api/auth/api-keys/{id}
//
// Contract: handlers validate input on the I/O thread (strict fields, sizes, UTF-8) and run
// every database, hashing and key-file step through RequestContext::blocking(). Errors are
// core::Error values of the service thrown as core::ApiError (core::value_or_throw) and
// answered by api::error_reply(). Responses carrying tokens or keys, and every error, are
// Cache-Control: no-store. Thread-safe after add_routes().
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include "enkisys/auth/auth_service.hpp"
#include "enkisys/core/metrics.hpp"
#include "enkisys/core/router.hpp"
#include "enkisys/core/server.hpp"

namespace enkisys::auth {

class AuthApi {
 public:
  AuthApi(AuthService& service, core::MetricsRegistry& metrics,
          std::chrono::seconds jwks_max_age = std::chrono::seconds(300));
  void add_routes(core::Router& router);

 private:
  void add_admin_routes(core::Router& router);  // auth_api_admin.cpp
  // The authenticated caller of a request; throws ApiError 401/403 otherwise.
  boost::asio::awaitable<Principal> principal(core::Request& req, core::RequestContext& ctx,
                                              bool admin);
  Caller caller(const core::Request& req, const core::RequestContext& ctx) const;
  // Throws ApiError 401 unless the request carries the AUTH_INTROSPECT_TOKEN_FILE secret (when
  // one is configured): the gateway's routes, introspection and the revocation feed.
  void require_gateway_secret(const core::Request& req) const;
  // The revocation feed's body and strong ETag. The body is rebuilt only when the list
  // changes, so within a process one ETag always names the same bytes.
  std::pair<std::string, std::string> revocation_feed(const RevokedSessions& list);

  AuthService& service_;
  std::chrono::seconds jwks_max_age_;
  core::Family<core::Counter>& logins_;
  core::Family<core::Counter>& refreshes_;
  std::mutex feed_mu_;
  std::string feed_list_, feed_body_, feed_etag_;  // guarded by feed_mu_
};

}  // namespace enkisys::auth
