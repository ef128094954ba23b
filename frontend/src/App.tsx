import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type MouseEvent } from "react";
import { ApiClient } from "./lib/api";
import { apiUrl } from "./lib/base";
import { translate, type Key, type Lang, type T } from "./lib/i18n";
import { applyTheme, initialLang, initialTheme, saveLang, type Theme } from "./lib/prefs";
import { currentRoute, hrefOf } from "./lib/router";
import { AppContext, type AppState, type User } from "./context";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Loading } from "./components/ui";
import { AuthScreen } from "./screens/Auth";
import { Chat } from "./screens/Chat";

const Documents = lazy(() => import("./screens/Documents"));
const Tools = lazy(() => import("./screens/Tools"));
const Status = lazy(() => import("./screens/Status"));

const client = new ApiClient({ url: apiUrl });

type Phase = "restoring" | "anonymous" | "signed-in";

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [phase, setPhase] = useState<Phase>("restoring");
  const [user, setUser] = useState<User | null>(null);
  const [notice, setNotice] = useState<Key | null>(null);
  const [route, setRoute] = useState(currentRoute);
  const t: T = useCallback((k, v) => translate(lang, k, v), [lang]);

  useEffect(() => saveLang(lang), [lang]);
  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => {
    const onPop = () => setRoute(currentRoute());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const enter = useCallback(async () => {
    const me = await client.get<User>("api/auth/me");
    setUser(me);
    setNotice(null);
    setPhase("signed-in");
  }, []);

  useEffect(() => {
    client.onSessionEnded = () => {
      setUser(null);
      setNotice("auth.sessionEnded");
      setPhase("anonymous");
    };
    // Restore a session from the refresh cookie, if any.
    client
      .refresh()
      .then((ok) => (ok ? enter() : setPhase("anonymous")))
      .catch(() => setPhase("anonymous"));
  }, [enter]);

  const navigate = useCallback((path: string) => {
    const href = hrefOf(path);
    if (href !== window.location.pathname) window.history.pushState(null, "", href);
    setRoute(currentRoute());
  }, []);

  const logout = useCallback(async () => {
    await client.logout().catch(() => undefined);
    setUser(null);
    setNotice(null);
    setPhase("anonymous");
  }, []);

  const state: AppState | null = useMemo(
    () => (user ? { client, t, lang, user, route, navigate } : null),
    [user, t, lang, route, navigate],
  );

  const prefs = (
    <div className="prefs">
      <label>
        <span className="sr-only">{t("lang.label")}</span>
        <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} aria-label={t("lang.label")}>
          <option value="en">English</option>
          <option value="es">Español</option>
        </select>
      </label>
      <label>
        <span className="sr-only">{t("theme.label")}</span>
        <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)} aria-label={t("theme.label")}>
          <option value="system">{t("theme.system")}</option>
          <option value="light">{t("theme.light")}</option>
          <option value="dark">{t("theme.dark")}</option>
        </select>
      </label>
    </div>
  );

  if (phase === "restoring") {
    return (
      <main className="center">
        <p role="status">{t("auth.restoring")}</p>
      </main>
    );
  }
  if (phase === "anonymous" || !state) {
    return (
      <ErrorBoundary message={t("error.boundary")} reload={t("error.reload")}>
        <AuthScreen client={client} t={t} notice={notice ? t(notice) : null} onIn={enter} prefs={prefs} />
      </ErrorBoundary>
    );
  }

  const section = route.split("/")[0] || "chat";
  const nav: [string, Key][] = [
    ["chat", "nav.chat"],
    ["documents", "nav.documents"],
    ["tools", "nav.tools"],
    ["status", "nav.status"],
  ];
  const follow = (e: MouseEvent<HTMLAnchorElement>, path: string) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(path);
  };

  return (
    <AppContext.Provider value={state}>
      <a className="skip" href="#main">
        {t("nav.skip")}
      </a>
      <header className="top">
        <span className="brand">{t("app.name")}</span>
        <nav aria-label={t("nav.main")}>
          {nav.map(([path, key]) => (
            <a
              key={path}
              href={hrefOf(path)}
              aria-current={section === path ? "page" : undefined}
              onClick={(e) => follow(e, path)}
            >
              {t(key)}
            </a>
          ))}
        </nav>
        {prefs}
        <span className="who muted" title={state.user.email}>
          {state.user.email}
        </span>
        <button type="button" onClick={() => void logout()}>
          {t("auth.logout")}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary key={section} message={t("error.boundary")} reload={t("error.reload")}>
          <Suspense fallback={<Loading />}>
            {section === "documents" ? (
              <Documents />
            ) : section === "tools" ? (
              <Tools />
            ) : section === "status" ? (
              <Status />
            ) : (
              <Chat />
            )}
          </Suspense>
        </ErrorBoundary>
      </main>
    </AppContext.Provider>
  );
}
