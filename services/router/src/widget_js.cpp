// widget.js: the embeddable chat of the web channel. One tag on a page:
//   <script src="https://HOST/{stage}/channels/web/widget.js" data-site="PUBLIC_KEY"
//   defer></script>
// It builds its DOM in a closed shadow root (the page's CSS does not leak in, its own does not
// leak out), writes every text with textContent (never HTML), keeps the visitor token in
// sessionStorage, and polls for replies while the panel is open. Its requests are CORS "simple"
// (POST text/plain, the token in the body): no preflight. No inline script or style
// attribute is needed by the host page, so a strict CSP (script-src naming this host) works.
#include <string_view>

#include "enkisys/router/web.hpp"

namespace enkisys::router {

std::string_view widget_js() {
  static constexpr std::string_view kJs = R"JS((function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var site = script.getAttribute("data-site") || "";
  var base = script.src.replace(/\/widget\.js(\?.*)?$/, "") + "/" + encodeURIComponent(site);
  var key = "enkisys-widget:" + site;
  var host = document.createElement("div");
  var root = host.attachShadow({ mode: "closed" });
  var style = document.createElement("style");
  style.textContent =
    ".btn{position:fixed;right:20px;bottom:20px;border:0;border-radius:24px;padding:12px 18px;" +
    "background:#1f6feb;color:#fff;font:14px system-ui,sans-serif;cursor:pointer;z-index:2147483000}" +
    ".panel{position:fixed;right:20px;bottom:72px;width:320px;height:420px;display:none;" +
    "flex-direction:column;background:#fff;border:1px solid #ccd;border-radius:10px;" +
    "box-shadow:0 6px 24px rgba(0,0,0,.18);font:14px system-ui,sans-serif;z-index:2147483000}" +
    ".open{display:flex}.log{flex:1;overflow-y:auto;padding:10px}" +
    ".msg{margin:6px 0;padding:8px 10px;border-radius:8px;white-space:pre-wrap;word-wrap:break-word}" +
    ".user{background:#e7f0ff;margin-left:40px}.assistant{background:#f2f2f2;margin-right:40px}" +
    ".err{color:#b00;font-size:12px;padding:0 10px}" +
    "form{display:flex;border-top:1px solid #dde}input{flex:1;border:0;padding:10px;font:inherit}" +
    "button.send{border:0;background:none;color:#1f6feb;padding:0 12px;cursor:pointer}";
  var button = document.createElement("button");
  button.className = "btn";
  button.type = "button";
  button.textContent = "Chat";
  var panel = document.createElement("div");
  panel.className = "panel";
  var log = document.createElement("div");
  log.className = "log";
  var error = document.createElement("div");
  error.className = "err";
  var form = document.createElement("form");
  var input = document.createElement("input");
  input.maxLength = 4000;
  input.placeholder = "Type a message";
  var send = document.createElement("button");
  send.className = "send";
  send.type = "submit";
  send.textContent = "Send";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(log);
  panel.appendChild(error);
  panel.appendChild(form);
  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(button);
  document.body.appendChild(host);

  var state = { token: null, after: 0, timer: null, seen: {} };
  try { state.token = sessionStorage.getItem(key); } catch (e) { state.token = null; }

  function show(line) {
    if (state.seen[line.id]) return;
    state.seen[line.id] = true;
    var div = document.createElement("div");
    div.className = "msg " + (line.role === "user" ? "user" : "assistant");
    div.textContent = line.text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }
  // Only CORS "simple requests" (POST, text/plain, no custom header): no preflight, so the
  // stage gateway's own CORS policy never stands between the page and the router.
  function call(path, body) {
    body = body || {};
    if (state.token) body.token = state.token;
    return fetch(base + path, { method: "POST", mode: "cors", credentials: "omit",
                                headers: { "Content-Type": "text/plain;charset=UTF-8" },
                                body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.status === 401) {  // a forgotten session: start a new one on the next call
            state.token = null;
            try { sessionStorage.removeItem(key); } catch (e) { /* private mode */ }
          }
          if (!r.ok) throw new Error((j.error && j.error.message) || ("HTTP " + r.status));
          return j;
        });
      });
  }
  function session() {
    if (state.token) return Promise.resolve();
    return call("/sessions").then(function (j) {
      state.token = j.token;
      try { sessionStorage.setItem(key, j.token); } catch (e) { /* private mode */ }
    });
  }
  function poll() {
    if (!state.token) return;
    call("/poll", { after: state.after }).then(function (j) {
      (j.messages || []).forEach(show);
      state.after = j.after || state.after;
      error.textContent = "";
    }).catch(function (e) { error.textContent = e.message; });
  }
  button.addEventListener("click", function () {
    var open = panel.classList.toggle("open");
    if (open) {
      session().then(poll).catch(function (e) { error.textContent = e.message; });
      state.timer = setInterval(poll, 2000);
      input.focus();
    } else if (state.timer) {
      clearInterval(state.timer);
      state.timer = null;
    }
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    session().then(function () { return call("/messages", { text: text, id: id }); })
      .then(poll).catch(function (e) { error.textContent = e.message; });
  });
})();
)JS";
  return kJs;
}

}  // namespace enkisys::router
