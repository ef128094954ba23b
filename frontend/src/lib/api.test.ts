import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, describeError } from "./api";
import { translate } from "./i18n";

type Call = { url: string; init: RequestInit };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

// A client over a scripted fetch: each call takes the next answer.
function client(answers: (Response | Error)[]) {
  const calls: Call[] = [];
  const c = new ApiClient({
    url: (p) => `http://h/dev/${p}`,
    schedule: () => () => {},
    fetch: async (input, init) => {
      calls.push({ url: String(input), init: init ?? {} });
      const a = answers.shift();
      if (!a) throw new Error("unexpected call " + String(input));
      if (a instanceof Error) throw a;
      return a;
    },
  });
  return { c, calls };
}

const header = (call: Call | undefined, name: string) => new Headers(call?.init.headers).get(name);
const t = (k: Parameters<typeof translate>[1], v?: Record<string, string | number>) => translate("en", k, v);

describe("ApiClient", () => {
  it("logs in in web mode and sends the access token as a Bearer header", async () => {
    const { c, calls } = client([json(200, { access_token: "A1", expires_in: 900 }), json(200, { conversations: [] })]);
    await c.login("a@b.c", "pw");
    expect(header(calls[0], "X-Enkisys-Client")).toBe("web");
    expect(calls[0]?.init.credentials).toBe("same-origin");
    await c.get("api/chat/conversations");
    expect(calls[1]?.url).toBe("http://h/dev/api/chat/conversations");
    expect(header(calls[1], "Authorization")).toBe("Bearer A1");
  });

  it("refreshes once on a 401 and retries with the new token", async () => {
    const { c, calls } = client([
      json(200, { access_token: "A1", expires_in: 900 }),
      json(401, { error: { code: "invalid_token", message: "expired" } }),
      json(200, { access_token: "A2", expires_in: 900 }),
      json(200, { ok: true }),
    ]);
    await c.login("a@b.c", "pw");
    await expect(c.get("api/tools")).resolves.toEqual({ ok: true });
    expect(calls[2]?.url).toBe("http://h/dev/api/auth/refresh");
    expect(calls[2]?.init.body).toBeUndefined();
    expect(header(calls[2], "X-Enkisys-Client")).toBe("web");
    expect(header(calls[3], "Authorization")).toBe("Bearer A2");
    expect(calls).toHaveLength(4);
  });

  it("does not loop: a second 401 is the caller's error, and a failed refresh ends the session", async () => {
    const { c, calls } = client([
      json(200, { access_token: "A1", expires_in: 900 }),
      json(401, { error: { code: "invalid_token", message: "expired" } }),
      json(401, { error: { code: "invalid_token", message: "refresh token reused" } }),
    ]);
    let ended = 0;
    c.onSessionEnded = () => ended++;
    await c.login("a@b.c", "pw");
    const e = await c.get("api/tools").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(401);
    expect(ended).toBe(1);
    expect(c.accessToken).toBeNull();
    expect(calls).toHaveLength(3);
  });

  it("shares one refresh between concurrent 401s", async () => {
    const { c, calls } = client([
      json(401, {}),
      json(401, {}),
      json(200, { access_token: "A2", expires_in: 900 }),
      json(200, 1),
      json(200, 2),
    ]);
    const r = await Promise.all([c.get("api/rag/collections"), c.get("api/tools")]);
    expect(r.sort()).toEqual([1, 2]);
    expect(calls.filter((x) => x.url.endsWith("api/auth/refresh"))).toHaveLength(1);
  });

  it("turns an error JSON into a message, and a 502/503/504 or network error into one naming the service", async () => {
    const { c } = client([
      json(404, { error: { code: "not_found", message: "no such conversation", request_id: "r1" } }),
      json(502, { error: { code: "bad_gateway", message: "upstream agent failed" } }),
      new Response("<html>", { status: 504 }),
      new TypeError("Failed to fetch"),
      json(503, {}),
    ]);
    const e1 = (await c.get("api/chat/conversations/9").catch((x: unknown) => x)) as ApiError;
    expect([e1.status, e1.code, e1.requestId, e1.service]).toEqual([404, "not_found", "r1", "agent"]);
    expect(describeError(e1, t)).toBe("no such conversation");
    const e2 = await c.get("api/chat/conversations").catch((x: unknown) => x);
    expect(describeError(e2, t)).toBe("The conversation service (agent) is unavailable");
    const e3 = await c.get("api/rag/collections").catch((x: unknown) => x);
    expect(describeError(e3, t)).toBe("The document service (rag) is unavailable");
    const e4 = await c.get("api/tools").catch((x: unknown) => x);
    expect(describeError(e4, t)).toBe("The tool service (tools) is unavailable");
    const e5 = await c.get("api/chat/models").catch((x: unknown) => x);
    expect(describeError(e5, (k, v) => translate("es", k, v))).toBe(
      "El servicio de conversaciones (agent) no está disponible",
    );
  });

  it("logout sends the token in web mode and forgets it", async () => {
    const { c, calls } = client([json(200, { access_token: "A1", expires_in: 900 }), new Response(null, { status: 204 })]);
    await c.login("a@b.c", "pw");
    await c.logout();
    expect(header(calls[1], "Authorization")).toBe("Bearer A1");
    expect(header(calls[1], "X-Enkisys-Client")).toBe("web");
    expect(c.accessToken).toBeNull();
  });

  it("schedules the silent refresh before expiry", async () => {
    const scheduled: number[] = [];
    const c = new ApiClient({
      schedule: (_fn, ms) => {
        scheduled.push(ms);
        return () => {};
      },
      fetch: async () => json(200, { access_token: "A", expires_in: 900 }),
    });
    await c.login("a", "b");
    expect(scheduled).toEqual([840_000]);
  });
});
