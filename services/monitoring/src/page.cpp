#include "page.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

namespace enkisys::monitoring {

namespace json = boost::json;

namespace {

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string str(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

double num(const json::value* v, double fallback) {
  if (!v) return fallback;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return fallback;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string ms(const json::value* v) {
  return v && !v->is_null() ? fmt("%.1f ms", num(v, 0)) : "–";
}
std::string pct(const json::value* v) {
  return v ? fmt("%.2f %%", num(v, 0) * 100) : "–";
}

// An alert's text without the chat markup it carries for Slack (a leading ":red_circle: ").
std::string plain(std::string text) {
  if (text.size() > 2 && text.front() == ':') {
    const auto end = text.find(": ", 1);
    if (end != std::string::npos &&
        text.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", 1) == end) {
      text.erase(0, end + 2);
    }
  }
  return text;
}

std::vector<double> numbers(const json::object& history, std::string_view key) {
  std::vector<double> out;
  if (const auto* a = history.if_contains(key); a && a->is_array()) {
    for (const auto& x : a->as_array()) out.push_back(num(&x, 0));
  }
  return out;
}

constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330}
h1{font-size:1.3em;margin:0 0 .3em}
#logout{float:right}
form.login{max-width:22em;display:grid;gap:.5em;margin-top:1em}
p.error{color:#b3261e;font-weight:600}
table{border-collapse:collapse;width:100%}
th,td{padding:.3em .5em;border-bottom:1px solid #e3e6ec;text-align:left;white-space:nowrap}
tr.stage th{background:#f3f5f9;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.state{white-space:normal;min-width:6em;max-width:16em;overflow-wrap:anywhere}
.dot{display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.4em;background:#9aa3b2}
tr.st-up .dot{background:#1f9d55} tr.st-down .dot{background:#d64545} tr.st-degraded .dot{background:#e6a100}
tr.st-down td.state{color:#b42318;font-weight:600} tr.st-degraded td.state{color:#8a5a00;font-weight:600}
svg.spark{width:120px;height:24px} svg.spark path{fill:none;stroke:#3b6fd8;stroke-width:1.2}
svg.spark.err path{stroke:#d64545}
#timeline li{margin:.15em 0} #timeline time{color:#5b6475;margin-right:.5em}
)";

}  // namespace

std::string html_escape(std::string_view s) {
  return esc(s);
}

std::string safe_prefix(std::string_view p) {
  if (p.empty() || p.size() > 64 || p.front() != '/') return "";
  for (char c : p) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
          c == '-' || c == '_'))
      return "";
  }
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return p == "/" ? "" : std::string(p);
}

std::string spark_path(const std::vector<double>& values, int w, int h) {
  if (values.empty()) return "";
  const double top = std::max(*std::max_element(values.begin(), values.end()), 1e-9);
  const double step =
      values.size() > 1 ? static_cast<double>(w) / static_cast<double>(values.size() - 1) : 0;
  std::string d;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double x = step * static_cast<double>(i);
    const double y = h - 1 - (h - 2) * (values[i] / top);
    d += (i == 0 ? "M" : " L") + fmt("%.1f", x) + "," + fmt("%.1f", y);
  }
  return d;
}

std::string render_page(const json::object& status, std::string_view base_href) {
  std::string out;
  out.reserve(16 * 1024);
  out += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<title>Enkisys status</title><base href=\"" + esc(base_href) + "/\">";
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  out += "<link rel=\"stylesheet\" href=\"app.css\"><script src=\"app.js\" defer></script>";
  out +=
      "</head><body><form method=\"post\" action=\"logout\" id=\"logout\">"
      "<button type=\"submit\">Sign out</button></form>";
  out += "<h1>Enkisys status</h1><p id=\"generated\">Generated <time>" +
         esc(str(status, "generated_at")) + "</time>, polled every " +
         std::to_string(static_cast<long>(num(status.if_contains("interval_s"), 5))) +
         " s. States: <b>up</b>, <b>degraded</b> (error rate or p99 above threshold), "
         "<b>down</b>, <b>unknown</b>.</p>\n";
  out +=
      "<table id=\"status\"><thead><tr><th>stage</th><th>service</th><th>state</th>"
      "<th>color</th><th>version</th><th>req/s</th><th>errors</th><th>p50</th><th>p99</th>"
      "<th>uptime 1 h</th><th>24 h</th><th>7 d</th><th>p99, last hours</th>"
      "<th>errors, last hours</th></tr></thead>\n<tbody>\n";
  if (const auto* stages = status.if_contains("stages"); stages && stages->is_array()) {
    for (const auto& sv : stages->as_array()) {
      const auto& st = sv.as_object();
      const auto stage = str(st, "stage");
      std::string head = esc(stage) + " — color <span class=\"scolor\">" +
                         esc(str(st, "color").empty() ? "?" : str(st, "color")) +
                         "</span>, version <span class=\"sversion\">" +
                         esc(str(st, "version").empty() ? "?" : str(st, "version")) + "</span>";
      if (const auto* s = st.if_contains("silenced_until"); s && s->is_string())
        head += " — alerts silenced until " + esc(std::string(s->as_string()));
      out += "<tr class=\"stage\" data-stage=\"" + esc(stage) + "\"><th colspan=\"14\">" + head +
             "</th></tr>\n";
      const auto* services = st.if_contains("services");
      if (!services || !services->is_array()) continue;
      for (const auto& v : services->as_array()) {
        const auto& s = v.as_object();
        const auto state = str(s, "state");
        const json::object empty;
        const auto* up = s.if_contains("uptime");
        const auto& uptime = up && up->is_object() ? up->as_object() : empty;
        const auto* hi = s.if_contains("history");
        const auto& history = hi && hi->is_object() ? hi->as_object() : empty;
        std::string state_text = state;
        if (state != "up" && !str(s, "error").empty()) state_text += " (" + str(s, "error") + ")";
        out += "<tr data-row=\"" + esc(stage) + "/" + esc(str(s, "service")) + "\" data-state=\"" +
               esc(state) + "\" class=\"st-" + esc(state) + "\">";
        out += "<td>" + esc(stage) + "</td><td>" + esc(str(s, "service")) + "</td>";
        out += "<td class=\"state\"><span class=\"dot\"></span><span class=\"txt\">" +
               esc(state_text) + "</span></td>";
        out += "<td data-k=\"color\">" + esc(str(s, "color")) + "</td>";
        out += "<td data-k=\"version\">" + esc(str(s, "version")) + "</td>";
        out += "<td class=\"num\" data-k=\"req\">" +
               fmt("%.2f", num(s.if_contains("req_per_s"), 0)) + "</td>";
        out += "<td class=\"num\" data-k=\"err\">" + pct(s.if_contains("error_ratio")) + "</td>";
        out += "<td class=\"num\" data-k=\"p50\">" + ms(s.if_contains("p50_ms")) + "</td>";
        out += "<td class=\"num\" data-k=\"p99\">" + ms(s.if_contains("p99_ms")) + "</td>";
        out += "<td class=\"num\" data-k=\"u1h\">" + pct(uptime.if_contains("1h")) + "</td>";
        out += "<td class=\"num\" data-k=\"u24h\">" + pct(uptime.if_contains("24h")) + "</td>";
        out += "<td class=\"num\" data-k=\"u7d\">" + pct(uptime.if_contains("7d")) + "</td>";
        out +=
            "<td><svg class=\"spark\" viewBox=\"0 0 120 24\" role=\"img\" aria-label=\"p99\">"
            "<path data-k=\"sp99\" d=\"" +
            spark_path(numbers(history, "p99_ms"), 120, 24) + "\"/></svg></td>";
        out +=
            "<td><svg class=\"spark err\" viewBox=\"0 0 120 24\" role=\"img\" "
            "aria-label=\"errors\"><path data-k=\"serr\" d=\"" +
            spark_path(numbers(history, "error_ratio"), 120, 24) + "\"/></svg></td></tr>\n";
      }
    }
  }
  out += "</tbody></table>\n<h2>Deploys, rollbacks and incidents</h2><ul id=\"timeline\">";
  if (const auto* tl = status.if_contains("timeline"); tl && tl->is_array()) {
    for (const auto& v : tl->as_array()) {
      const auto& e = v.as_object();
      out += "<li><time>" + esc(str(e, "at")) + "</time><b>" + esc(str(e, "stage")) + "</b> " +
             esc(str(e, "kind")) + ": " + esc(plain(str(e, "text"))) + "</li>";
    }
  }
  out += "</ul></body></html>\n";
  return out;
}

std::string_view app_css() {
  return kStyle;
}

std::string_view app_js() {
  return R"JS(// Refreshes the status table in place from api/status (no full reload).
"use strict";
(function () {
  function fmt(v, d) { return v === null || v === undefined ? "\u2013" : Number(v).toFixed(d); }
  function pct(v) { return v === null || v === undefined ? "\u2013" : (v * 100).toFixed(2) + " %"; }
  function ms(v) { return v === null || v === undefined ? "\u2013" : v.toFixed(1) + " ms"; }
  function spark(values, w, h) {
    if (!values || !values.length) return "";
    var top = Math.max.apply(null, values.concat([1e-9]));
    var step = values.length > 1 ? w / (values.length - 1) : 0, d = "";
    for (var i = 0; i < values.length; i++) {
      d += (i ? " L" : "M") + (step * i).toFixed(1) + "," + (h - 1 - (h - 2) * (values[i] / top)).toFixed(1);
    }
    return d;
  }
  function set(row, key, text) {
    var el = row.querySelector('[data-k="' + key + '"]');
    if (el && el.textContent !== text) el.textContent = text;
  }
  function apply(status) {
    document.querySelector("#generated time").textContent = status.generated_at;
    status.stages.forEach(function (st) {
      st.services.forEach(function (s) {
        var row = document.querySelector('tr[data-row="' + st.stage + "/" + s.service + '"]');
        if (!row) return;
        row.className = "st-" + s.state;
        row.setAttribute("data-state", s.state);
        var txt = s.state + (s.state !== "up" && s.error ? " (" + s.error + ")" : "");
        row.querySelector(".txt").textContent = txt;
        set(row, "color", s.color); set(row, "version", s.version);
        set(row, "req", fmt(s.req_per_s, 2)); set(row, "err", pct(s.error_ratio));
        set(row, "p50", ms(s.p50_ms)); set(row, "p99", ms(s.p99_ms));
        set(row, "u1h", pct(s.uptime["1h"])); set(row, "u24h", pct(s.uptime["24h"]));
        set(row, "u7d", pct(s.uptime["7d"]));
        var h = s.history || {};
        row.querySelector('[data-k="sp99"]').setAttribute("d", spark(h.p99_ms, 120, 24));
        row.querySelector('[data-k="serr"]').setAttribute("d", spark(h.error_ratio, 120, 24));
      });
    });
  }
  // The session is the HttpOnly cookie the login page set (the gateway reads it); when it has
  // expired, a reload lets the gateway send the browser to the login page.
  function refresh() {
    fetch("api/status", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (s) { if (s) apply(s); })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
)JS";
}

}  // namespace enkisys::monitoring
