// The API client: access token in memory only, refresh through the HttpOnly cookie of auth's
// web mode (X-Enkisys-Client: web), one refresh-and-retry on a 401, errors naming the service.
import { serviceOf, type ServiceName } from "./services";
import type { T } from "./i18n";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly service: ServiceName,
    readonly code = "",
    readonly requestId = "",
  ) {
    super(message);
    this.name = "ApiError";
  }
  // The service did not answer (network error) or the gateway could not reach it.
  get unavailable(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException ? e.name === "AbortError" : (e as Error)?.name === "AbortError";
}

// A user-facing sentence for an error: the service named when it is down.
export function describeError(e: unknown, t: T): string {
  if (e instanceof ApiError) {
    if (e.unavailable) return t("error.unavailable", { service: t(`service.${e.service}`) });
    return e.message;
  }
  return t("error.generic", { message: e instanceof Error ? e.message : String(e) });
}

// The ApiError of a failed response, from its JSON error body when it has one.
export async function errorOf(res: Response, path: string): Promise<ApiError> {
  let code = "";
  let message = res.statusText || `HTTP ${res.status}`;
  let requestId = res.headers.get("x-request-id") ?? "";
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; request_id?: string } };
    if (body.error) {
      code = body.error.code ?? "";
      message = body.error.message ?? message;
      requestId = body.error.request_id ?? requestId;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, res.status, serviceOf(path), code, requestId);
}

interface TokenAnswer {
  access_token: string;
  expires_in: number;
}

export interface ClientOptions {
  fetch?: typeof fetch;
  url?: (path: string) => string;
  // Schedules the silent refresh (tests pass a no-op).
  schedule?: (fn: () => void, ms: number) => () => void;
}

const WEB = { "X-Enkisys-Client": "web" };

export class ApiClient {
  private token: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private cancelTimer: (() => void) | null = null;
  private readonly fetchFn: typeof fetch;
  private readonly url: (path: string) => string;
  private readonly schedule: (fn: () => void, ms: number) => () => void;
  // Called when a refresh fails while a session was open: the session ended.
  onSessionEnded: (() => void) | null = null;

  constructor(opts: ClientOptions = {}) {
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.url = opts.url ?? ((p) => p);
    this.schedule =
      opts.schedule ??
      ((fn, ms) => {
        const id = setTimeout(fn, ms);
        return () => clearTimeout(id);
      });
  }

  get accessToken(): string | null {
    return this.token;
  }

  private setToken(t: TokenAnswer | null): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.token = t?.access_token ?? null;
    if (t) {
      // Refresh a minute before expiry (or at half the lifetime for short ones).
      const lead = Math.min(60, t.expires_in / 2);
      this.cancelTimer = this.schedule(() => void this.refresh(), Math.max(1, t.expires_in - lead) * 1000);
    }
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(this.url(path), init);
    } catch (e) {
      if (isAbort(e)) throw e;
      throw new ApiError(e instanceof Error ? e.message : String(e), 0, serviceOf(path));
    }
  }

  async signup(email: string, password: string): Promise<void> {
    await this.json("POST", "api/auth/signup", { email, password }, { anonymous: true });
  }

  async login(email: string, password: string): Promise<void> {
    const res = await this.send("api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...WEB },
      body: JSON.stringify({ email, password }),
      credentials: "same-origin",
    });
    if (!res.ok) throw await errorOf(res, "api/auth/login");
    this.setToken((await res.json()) as TokenAnswer);
  }

  // A new access token from the refresh cookie; false when there is no valid session. Concurrent
  // callers share one request (the refresh token rotates).
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      const hadSession = this.token !== null;
      this.refreshing = (async () => {
        try {
          const res = await this.send("api/auth/refresh", {
            method: "POST",
            headers: WEB,
            credentials: "same-origin",
          });
          if (!res.ok) {
            if (res.status === 401 || res.status === 400 || res.status === 403) {
              this.setToken(null);
              if (hadSession) this.onSessionEnded?.();
              return false;
            }
            throw await errorOf(res, "api/auth/refresh");
          }
          this.setToken((await res.json()) as TokenAnswer);
          return true;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  async logout(): Promise<void> {
    const headers: Record<string, string> = { ...WEB };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    try {
      await this.send("api/auth/logout", { method: "POST", headers, credentials: "same-origin" });
    } finally {
      this.setToken(null);
    }
  }

  // fetch() of a stage path with the access token; on a 401 refreshes once and retries.
  async fetch(path: string, init: RequestInit = {}, anonymous = false): Promise<Response> {
    const attempt = () => {
      const headers = new Headers(init.headers);
      if (!anonymous && this.token) headers.set("Authorization", `Bearer ${this.token}`);
      return this.send(path, { ...init, headers });
    };
    let res = await attempt();
    if (res.status === 401 && !anonymous && (await this.refresh())) res = await attempt();
    return res;
  }

  // A JSON request: the parsed answer (undefined for 204), or an ApiError.
  async json<R>(
    method: string,
    path: string,
    body?: unknown,
    opts: { signal?: AbortSignal; anonymous?: boolean } = {},
  ): Promise<R> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await this.fetch(
      path,
      { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: opts.signal },
      opts.anonymous,
    );
    if (!res.ok) throw await errorOf(res, path);
    if (res.status === 204) return undefined as R;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as R;
  }

  get<R>(path: string, signal?: AbortSignal): Promise<R> {
    return this.json<R>("GET", path, undefined, { signal });
  }

  // A multipart upload with progress (XMLHttpRequest: fetch has no upload progress).
  upload<R>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<R> {
    const once = () =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", this.url(path));
        if (this.token) xhr.setRequestHeader("Authorization", `Bearer ${this.token}`);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable) onProgress(e.loaded / e.total);
        };
        xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
        xhr.onerror = () => reject(new ApiError("network error", 0, serviceOf(path)));
        xhr.send(form);
      });
    return (async () => {
      let r = await once();
      if (r.status === 401 && (await this.refresh())) r = await once();
      if (r.status < 200 || r.status >= 300) {
        throw await errorOf(new Response(r.text, { status: r.status }), path);
      }
      onProgress(1);
      return JSON.parse(r.text) as R;
    })();
  }
}
