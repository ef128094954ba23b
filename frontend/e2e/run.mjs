#!/usr/bin/env node
// Browser end-to-end test of the web app through a running stage's gateway.
//
//   node frontend/e2e/run.mjs --base-url http://127.0.0.1:PORT/dev/ [--screenshots DIR] [--turns N]
//                             [--admin-email E --admin-password P]
//
// Sign up → log in → create a collection, upload a Markdown document, wait until ready → new
// conversation with that collection → a question about it: streamed answer with a citation,
// open it, see the passage → "what is 12*7?": the calculator step → axe on every screen (no
// serious/critical violation) → screenshots (light/dark) → Spanish → log out. Prints the
// budgets: initial JS gzip bytes, time to interactive of the chat screen, frames dropped while
// scrolling a long conversation. Exits non-zero on any failure. Chromium: $CHROMIUM or
// /usr/bin/chromium (headless, --no-sandbox).
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const baseArg = opt("--base-url");
if (!baseArg) {
  console.error("usage: node e2e/run.mjs --base-url http://127.0.0.1:PORT/dev/ [--screenshots DIR] [--turns N]");
  process.exit(2);
}
const base = baseArg.endsWith("/") ? baseArg : baseArg + "/";
const shots = opt("--screenshots");
const turns = Number(opt("--turns", "1000"));
// Optional: an admin account of the stage, to check the users list (local-stack.sh bootstraps
// admin@example.com with the password "admin password for tests").
const adminEmail = opt("--admin-email", process.env.E2E_ADMIN_EMAIL);
const adminPassword = opt("--admin-password", process.env.E2E_ADMIN_PASSWORD);
const TIMEOUT = 20_000;
const figures = {};
const failures = [];
const axeResults = {};

function log(...a) {
  console.log("e2e:", ...a);
}
function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

// ---- HTTP helpers (node side) ----
async function api(method, path, body, token, headers = {}) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    const e = new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    e.status = res.status;
    e.retryAfter = Number(res.headers.get("retry-after")) || 1;
    throw e;
  }
  return text ? JSON.parse(text) : undefined;
}

async function initialJsGzip() {
  const html = await (await fetch(base)).text();
  const urls = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g), ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]);
  check(!/<script(?![^>]*\ssrc=)[^>]*>/.test(html), "index.html has no inline script");
  check(!/<style/.test(html) && !/\sstyle=/.test(html), "index.html has no inline style");
  check(/<base href="\/[^"]*\/">/.test(html), "base href rewritten to the stage");
  let total = 0;
  for (const u of urls) {
    check(!u.startsWith("/"), `relative URL ${u}`);
    const body = Buffer.from(await (await fetch(new URL(u, base))).arrayBuffer());
    total += gzipSync(body, { level: 9 }).length;
  }
  return { bytes: total, files: urls.length };
}

// ---- browser helpers ----
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

async function axe(page, screen) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const out = await axe.run(document, { resultTypes: ["violations"] });
    return out.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, target: v.nodes[0]?.target }));
  });
  const bad = r.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeResults[screen] = { violations: r.length, seriousOrCritical: bad.length, ids: r.map((v) => `${v.id}(${v.impact})`) };
  if (bad.length) failures.push(`axe ${screen}: ${JSON.stringify(bad)}`);
}

async function setTheme(page, theme) {
  await page.getByLabel(/^(Theme|Tema)$/).selectOption(theme);
}

async function screenshot(page, name) {
  if (!shots) return;
  for (const theme of ["light", "dark"]) {
    await setTheme(page, theme);
    await page.waitForTimeout(50);
    await page.screenshot({ path: join(shots, `${name}-${theme}.png`) });
  }
  await setTheme(page, "system");
}

async function main() {
  if (shots) mkdirSync(shots, { recursive: true });
  const js = await initialJsGzip();
  figures.initial_js_gzip_bytes = js.bytes;
  log(`initial JS: ${js.files} file(s), ${js.bytes} bytes gzip`);
  if (js.bytes > 150 * 1024) failures.push(`initial JS ${js.bytes} B gzip > 150 kB`);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light", locale: "en-US" });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push("pageerror: " + e.message));

  const email = `e2e-${Date.now()}@example.com`;
  const password = "a long e2e passphrase";
  try {
    // Sign up, log in.
    await page.goto(base);
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await axe(page, "login");
    await page.getByRole("button", { name: /Sign up/ }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.locator("form").getByRole("button", { name: "Sign up" }).click();
    await page.getByText("Account created").waitFor();
    await page.getByLabel("Password").fill(password);
    await page.locator("form").getByRole("button", { name: "Log in" }).click();
    await page.getByRole("button", { name: "New conversation" }).waitFor();
    log("signed up and logged in as", email);

    // Time to interactive of the chat screen (a fresh navigation: session restored from the cookie).
    const ttis = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(base + "chat");
      await page.getByRole("button", { name: "New conversation" }).waitFor();
      await page.getByText(/No conversations yet|Pick a conversation/).first().waitFor();
      ttis.push(await page.evaluate(() => Math.round(performance.now())));
    }
    figures.chat_interactive_ms = Math.min(...ttis);
    log(`chat interactive after navigation: ${ttis.join(", ")} ms`);
    if (figures.chat_interactive_ms > 500) failures.push(`chat interactive ${figures.chat_interactive_ms} ms > 500`);
    await axe(page, "chat-empty");

    // Documents: a collection, an upload, ready.
    await page.getByRole("link", { name: "Documents" }).click();
    await page.getByRole("heading", { name: "New collection" }).waitFor();
    await page.getByLabel("Name").fill("E2E handbook");
    await page.getByLabel("Description").fill("Documents of the end-to-end test");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "E2E handbook" }).waitFor();
    const doc =
      "# Zorblandia handbook\n\n## Geography\n\nThe capital of Zorblandia is Quibbletown, a city of glass bridges.\n\n" +
      "## Food\n\nZorblandians eat purple turnip stew on holidays.\n";
    await page.getByLabel("Upload a document").setInputFiles({ name: "zorblandia.md", mimeType: "text/markdown", buffer: Buffer.from(doc) });
    await page.locator('tr[data-status="ready"]').waitFor({ timeout: 60_000 });
    log("document uploaded and ready");
    await axe(page, "documents");
    await screenshot(page, "documents");

    // Chat with the collection.
    await page.getByRole("link", { name: "Chat" }).click();
    await page.getByRole("button", { name: "New conversation" }).click();
    await page.getByLabel("Title", { exact: true }).fill("About Zorblandia");
    await page.getByLabel("E2E handbook").check();
    await page.getByRole("button", { name: "Create" }).click();
    const composer = page.locator("#composer");
    await composer.fill("What is the capital of Zorblandia?");
    await composer.press("Enter");
    const answer = page.locator("article.msg.assistant").last();
    await answer.locator("button.source").first().waitFor({ timeout: 60_000 });
    const answerText = await answer.locator(".md").innerText();
    check(/Quibbletown/.test(answerText), `the answer names Quibbletown: ${answerText}`);
    check(/Model: /.test(await answer.innerText()), "the answer shows its model");
    log("streamed answer:", answerText.replace(/\s+/g, " ").slice(0, 120));
    await answer.locator("button.source").first().click();
    const passage = page.getByTestId("passage");
    await passage.waitFor();
    check(/Quibbletown/.test(await passage.innerText()), "the cited passage is shown");
    await axe(page, "passage-dialog");
    await page.keyboard.press("Escape");
    await passage.waitFor({ state: "detached" });
    log("citation opened the passage");

    await composer.fill("what is 12*7?");
    await composer.press("Enter");
    const step = page.locator("details.step").filter({ hasText: "calculator" }).last();
    await step.waitFor({ timeout: 60_000 });
    await step.locator("summary").click();
    await page.locator("article.msg.assistant").last().getByText("84").first().waitFor();
    log("calculator tool step shown");
    await axe(page, "chat");
    await screenshot(page, "chat");
    // Responsive down to 360 px: no horizontal overflow.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.waitForTimeout(100);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) failures.push(`chat overflows 360 px by ${overflow} px`);
    if (shots) await page.screenshot({ path: join(shots, "chat-360.png") });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Tools and status.
    await page.getByRole("link", { name: "Tools" }).click();
    await page.getByRole("button", { name: /calculator/ }).click();
    await page.getByRole("heading", { name: "Invoke" }).waitFor();
    await axe(page, "tools");
    await page.getByRole("link", { name: "Status" }).click();
    await page.getByRole("cell", { name: "agent" }).waitFor();
    await axe(page, "status");
    await screenshot(page, "status");

    // A long conversation: N turns through the JSON API, then a programmatic scroll.
    const login = await api("POST", "api/auth/login", { email, password });
    const token = login.access_token;
    const conv = await api("POST", "api/chat/conversations", { title: "Long conversation", collections: [], tools: [] }, token);
    const t0 = Date.now();
    let done = 0;
    let stopped = "";
    // The stage's rate limits (the gateway's per-address limit, the agent's per-user turns)
    // answer 429 with Retry-After: wait that long and go on, within the time budget.
    let waits = 0;
    while (done < turns) {
      if (Date.now() - t0 > 240_000) {
        stopped = "time budget of 240 s";
        break;
      }
      try {
        await api("POST", `api/chat/conversations/${conv.id}/messages`, { content: `Message number ${done}: tell me about item ${done}.` }, token);
        done++;
      } catch (e) {
        if (e.status !== 429) throw e;
        waits++;
        await new Promise((r) => setTimeout(r, Math.min(e.retryAfter, 5) * 1000));
      }
    }
    if (waits > 0) log(`long conversation: waited ${waits} time(s) on the stage's rate limits (429, Retry-After)`);
    figures.long_conversation = { turns: done, messages: done * 2, seconds: Math.round((Date.now() - t0) / 100) / 10, stopped_by: stopped || undefined };
    log(`long conversation: ${done} turns (${done * 2} messages) in ${figures.long_conversation.seconds} s${stopped ? `, stopped early by ${stopped}` : ""}`);
    // Let the stage's rate-limit bucket refill before the page makes its own calls.
    for (let i = 0; i < 20; i++) {
      try {
        await api("GET", `api/chat/conversations/${conv.id}`, undefined, token);
        break;
      } catch (e) {
        if (e.status !== 429) throw e;
        await new Promise((r) => setTimeout(r, Math.min(e.retryAfter, 5) * 1000));
      }
    }
    await new Promise((r) => setTimeout(r, 2000));
    await page.goto(base + `chat/${conv.id}`);
    const list = page.getByTestId("messages");
    await list.waitFor();
    await page.waitForTimeout(300);
    const scroll = await page.evaluate(async () => {
      const el = document.querySelector('[data-testid="messages"]');
      el.scrollTop = 0;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const deltas = [];
      let last = performance.now();
      const step = 120; // px per frame: a brisk wheel scroll
      const started = last;
      await new Promise((resolve) => {
        const tick = (now) => {
          deltas.push(now - last);
          last = now;
          el.scrollTop += step;
          if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1 || now - started > 8000) resolve();
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      const sorted = [...deltas].sort((a, b) => a - b);
      const frame = sorted[Math.floor(sorted.length / 2)] || 16.7; // the display's frame time
      const dropped = deltas.reduce((n, d) => n + Math.max(0, Math.round(d / frame) - 1), 0);
      return {
        frames: deltas.length,
        dropped,
        frame_ms: Math.round(frame * 10) / 10,
        worst_ms: Math.round(Math.max(...deltas)),
        rows_in_dom: el.querySelectorAll(".vrow").length,
        scroll_height: el.scrollHeight,
      };
    });
    figures.scroll = scroll;
    log(`scroll of ${done * 2} messages: ${scroll.frames} frames, ${scroll.dropped} dropped (frame ${scroll.frame_ms} ms, worst ${scroll.worst_ms} ms, ${scroll.rows_in_dom} rows in the DOM)`);

    // Spanish, then log out.
    await page.getByLabel("Language").selectOption("es");
    await page.getByRole("link", { name: "Documentos" }).waitFor();
    check((await page.evaluate(() => document.documentElement.lang)) === "es", "lang attribute is es");
    check((await page.evaluate(() => localStorage.getItem("enkisys.lang"))) === "es", "language persisted");
    await axe(page, "chat-es");
    await page.getByRole("button", { name: "Cerrar sesión" }).click();
    await page.getByRole("heading", { name: "Iniciar sesión" }).waitFor();
    // The session is gone: a reload does not restore it.
    await page.reload();
    await page.getByRole("heading", { name: "Iniciar sesión" }).waitFor();
    log("Spanish, logged out");

    if (adminEmail && adminPassword) {
      await page.getByLabel("Correo electrónico").fill(adminEmail);
      await page.getByLabel("Contraseña").fill(adminPassword);
      await page.locator("form").getByRole("button", { name: "Iniciar sesión" }).click();
      await page.getByRole("link", { name: "Estado" }).click();
      await page.getByRole("heading", { name: "Usuarios" }).waitFor();
      await page.getByRole("cell", { name: email }).waitFor();
      await axe(page, "status-admin-es");
      await page.getByRole("button", { name: "Cerrar sesión" }).click();
      await page.getByRole("heading", { name: "Iniciar sesión" }).waitFor();
      log("admin sees the users list");
    }

    const csp = problems.filter((p) => /Content Security Policy|Refused to/i.test(p));
    if (csp.length) failures.push("CSP violations: " + csp.join(" | "));
  } catch (e) {
    failures.push(e instanceof Error ? e.stack || e.message : String(e));
    if (shots) await page.screenshot({ path: join(shots, "failure.png") }).catch(() => {});
  } finally {
    await browser.close();
  }
  figures.axe = axeResults;
  console.log(JSON.stringify({ figures, failures }, null, 2));
  if (failures.length) {
    console.error(`e2e: FAILED (${failures.length})`);
    process.exit(1);
  }
  console.log("e2e: OK");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
