import { useCallback, useEffect, useState } from "react";
import { useApp, type User } from "../context";
import { ErrorText, Loading } from "../components/ui";
import { errorOf } from "../lib/api";

interface Health {
  status: string;
  stage?: string;
  version?: string;
  services?: Record<string, { status: string; http_status?: number; version?: string }>;
}

export default function Status() {
  const { client, t, user } = useApp();
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      // 503 still carries the per-service view.
      const res = await client.fetch("health", { headers: { Accept: "application/json" } }, true);
      if (!res.ok && res.status !== 503) throw await errorOf(res, "health");
      setHealth((await res.json()) as Health);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  return (
    <div className="page">
      <h1>
        {t("status.title")} {health?.stage && <span className="badge">{health.stage}</span>}
      </h1>
      <button type="button" onClick={() => void load()}>
        {t("status.refresh")}
      </button>
      <ErrorText error={error} />
      {health === null && !error ? (
        <Loading />
      ) : health ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("status.service")}</th>
              <th scope="col">{t("status.state")}</th>
              <th scope="col">{t("status.version")}</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(health.services ?? {}).map(([name, s]) => (
              <tr key={name}>
                <td>{name}</td>
                <td>
                  <span className={`status ${s.status === "ok" ? "ready" : "failed"}`}>
                    {s.status}
                    {s.status !== "ok" && s.http_status ? ` (${s.http_status || "—"})` : ""}
                  </span>
                </td>
                <td>{s.version ?? health.version ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {user.roles.includes("admin") && <Users />}
    </div>
  );
}

function Users() {
  const { client, t, user: me } = useApp();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      const r = await client.get<{ users: User[] }>("api/auth/users?limit=100");
      setUsers(r.users);
    } catch (e) {
      setError(e);
    }
  }, [client]);
  useEffect(() => void load(), [load]);
  const toggle = async (u: User) => {
    try {
      await client.json("POST", `api/auth/users/${u.id}/${u.disabled ? "enable" : "disable"}`);
      await load();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section>
      <h2>{t("status.users")}</h2>
      <ErrorText error={error} />
      {users === null ? (
        !error && <Loading />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("auth.email")}</th>
              <th scope="col">{t("status.role")}</th>
              <th scope="col">{t("status.state")}</th>
              <th scope="col">{t("status.created")}</th>
              <th scope="col">
                <span className="sr-only">{t("status.disable")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.roles.join(", ")}</td>
                <td>{u.disabled ? t("status.disabled") : t("status.active")}</td>
                <td>{u.created_at}</td>
                <td>
                  {u.id !== me.id && (
                    <button type="button" onClick={() => void toggle(u)}>
                      {u.disabled ? t("status.enable") : t("status.disable")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
