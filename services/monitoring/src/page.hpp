// The status page: server-rendered HTML from the status object (Monitor::status()), and the
// small script that refreshes it in place. Private to the service.
//
// Contract: pure, thread-safe. Every value taken from the status object is HTML-escaped; the
// page loads nothing but its own app.js (CSP script-src 'self', no inline script or style
// attribute from data).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace enkisys::monitoring {

std::string html_escape(std::string_view s);      // < > & " ' as entities
std::string iso_time(std::int64_t unix_seconds);  // 2026-11-30T15:20:02Z
std::string render_page(const boost::json::object& status, std::string_view base_href);
// The SVG path of a sparkline of `values` in a w×h box (the script draws the same).
std::string spark_path(const std::vector<double>& values, int w, int h);
std::string_view app_js();
std::string_view app_css();  // the stylesheet (CSP style-src 'self')
// `X-Forwarded-Prefix` when it is a plain path ("/monitoring"), else "".
std::string safe_prefix(std::string_view forwarded_prefix);

}  // namespace enkisys::monitoring
