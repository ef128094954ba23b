// Browser sign-in for the status page (the gateway strips `/monitoring`; these are public routes
// of the gateway's `monitoring` stage, everything else there needs an admin token):
//   GET  /login?next=/monitoring/...  the form (server-rendered, no script, CSP)
//   GET  /login/app.css               its stylesheet
//   POST /login   email, password, next (application/x-www-form-urlencoded) → the jwt stage's
//                 auth (POST /api/auth/login); success: 303 to `next` with
//                 Set-Cookie enkisys_monitoring=<access token>; HttpOnly; SameSite=Strict;
//                 Path=<prefix>; Max-Age=<expires_in> (+ Secure behind https); wrong
//                 credentials: the form again with an error (401)
//   POST /logout  clears the cookie, 303 to the form
// The gateway reads that cookie (route option jwt_cookie) and checks the token and its roles
// exactly as a bearer token: this module never decides who is an admin.
//
// Contract:
//  * CSRF: the cookie is SameSite=Strict, and both POSTs need an Origin header equal to the
//    page's own origin (X-Forwarded-Proto or http, X-Forwarded-Host or Host): 403 otherwise.
//  * `next` is only ever a path under the page's prefix (safe_next): never another site.
//  * Neither the password nor the token is logged.
//  * Thread-safe: handlers may run concurrently; `auth_url` is called once per POST /login.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "enkisys/core/client.hpp"
#include "enkisys/core/router.hpp"

namespace enkisys::monitoring {

inline constexpr std::string_view kSessionCookie = "enkisys_monitoring";

struct LoginOptions {
  // Base URL of the auth service whose tokens the gateway takes for this page (the jwt stage's,
  // "http://auth.prod-blue:5002"); "" = unknown (the form then says sign-in is unavailable).
  std::function<std::string()> auth_url;
  std::chrono::milliseconds timeout{5'000};  // the whole login request to auth
};

// REQUIRES: `http` outlives the router's use.
void add_login_routes(core::Router& router, core::HttpSender& http, LoginOptions options);

// `next` when it is a path under `prefix` + "/" (no "//", no '\\', printable ASCII only), else
// `prefix` + "/" (`prefix`: "/monitoring" or "").
std::string safe_next(std::string_view next, std::string_view prefix);

}  // namespace enkisys::monitoring
