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
//   admin (Bearer with role admin):
//   GET    /api/auth/users?limit=&offset=    POST /api/auth/users/{id}/disable|enable
//   GET    /api/auth/audit?limit=&before=&event=
//   GET    /api/auth/keys                    POST /api/auth/keys/rotate
//   GET    /api/auth/api-keys                POST /api/auth/api-keys   DELETE
//   /api/auth/api-keys/{id}
//
// Contract: handlers validate input on the I/O thread (strict fields, sizes, UTF-8) and run
// every database, hashing and key-file step through RequestContext::blocking(). Responses
// carrying tokens or keys are Cache-Control: no-store.
#pragma once

#include <chrono>

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
  // The authenticated caller of a request, or the error to answer with.
  boost::asio::awaitable<AuthResult<Principal>> principal(core::Request& req,
                                                          core::RequestContext& ctx, bool admin);
  Caller caller(const core::Request& req, const core::RequestContext& ctx) const;

  AuthService& service_;
  std::chrono::seconds jwks_max_age_;
  core::Family<core::Counter>& logins_;
  core::Family<core::Counter>& refreshes_;
};

}  // namespace enkisys::auth
