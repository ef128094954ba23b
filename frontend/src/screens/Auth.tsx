import { useState, type FormEvent, type ReactNode } from "react";
import { describeError, type ApiClient } from "../lib/api";
import type { T } from "../lib/i18n";

interface Props {
  client: ApiClient;
  t: T;
  notice: string | null;
  onIn: () => Promise<void>;
  prefs: ReactNode;
}

export function AuthScreen({ client, t, notice, onIn, prefs }: Props) {
  const [mode, setMode] = useState<"login" | "signup">("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(notice);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "signup") {
        await client.signup(email, password);
        setInfo(t("auth.signedUp"));
        setMode("login");
      } else {
        await client.login(email, password);
        await onIn();
      }
    } catch (err) {
      setError(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  const title = mode === "login" ? t("auth.login") : t("auth.signup");
  return (
    <main className="center" id="main">
      <div className="auth panel">
        <div className="auth-head">
          <span className="brand">{t("app.name")}</span>
          {prefs}
        </div>
        <h1>{title}</h1>
        {info && (
          <p role="status" className="notice">
            {info}
          </p>
        )}
        <form onSubmit={(e) => void submit(e)}>
          <label>
            {t("auth.email")}
            <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            {t("auth.password")}
            <input
              type="password"
              autoComplete={mode === "login" ? "current-password" : "new-password"}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" className="primary" disabled={busy}>
            {title}
          </button>
        </form>
        <button
          type="button"
          className="link"
          onClick={() => {
            setMode(mode === "login" ? "signup" : "login");
            setError(null);
          }}
        >
          {mode === "login" ? t("auth.noAccount") : t("auth.haveAccount")}
        </button>
      </div>
    </main>
  );
}
