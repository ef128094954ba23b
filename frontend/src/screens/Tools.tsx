import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useApp } from "../context";
import { ErrorText, Loading } from "../components/ui";
import { SchemaForm } from "../components/SchemaForm";
import type { JsonSchema } from "../lib/schemaForm";

interface Tool {
  name: string;
  description: string;
  kind: "builtin" | "http";
  parameters: JsonSchema;
}

export default function Tools() {
  const { client, t } = useApp();
  const [tools, setTools] = useState<Tool[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    try {
      const r = await client.get<{ tools: Tool[] } | Tool[]>("api/tools");
      setTools(Array.isArray(r) ? r : r.tools);
      setError(null);
    } catch (e) {
      setError(e);
      setTools((x) => x ?? []);
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  const current = tools?.find((x) => x.name === open);
  return (
    <div className="split">
      <aside className="sidebar" aria-label={t("tools.list")}>
        <h1>{t("tools.list")}</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t("tools.new")}
        </button>
        <ErrorText error={error} />
        {tools === null ? (
          <Loading />
        ) : tools.length === 0 ? (
          <p className="muted">{t("tools.empty")}</p>
        ) : (
          <ul className="convs">
            {tools.map((x) => (
              <li key={x.name} className={x.name === open ? "current" : undefined}>
                <button
                  type="button"
                  className="link"
                  aria-pressed={x.name === open}
                  onClick={() => {
                    setOpen(x.name);
                    setCreating(false);
                  }}
                >
                  {x.name} <span className="badge">{x.kind}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </aside>
      <section className="content">
        {creating ? (
          <NewTool
            onDone={(name) => {
              setCreating(false);
              void load().then(() => setOpen(name));
            }}
            onCancel={() => setCreating(false)}
          />
        ) : current ? (
          <ToolView key={current.name} tool={current} />
        ) : null}
      </section>
    </div>
  );
}

function ToolView({ tool }: { tool: Tool }) {
  const { client, t } = useApp();
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const invoke = async (args: Record<string, unknown>) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await client.json<{ result: unknown }>("POST", `api/tools/${encodeURIComponent(tool.name)}/invoke`, { arguments: args });
      setResult(JSON.stringify(r.result, null, 2));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <h2>{tool.name}</h2>
      <p>{tool.description}</p>
      <details>
        <summary>{t("tools.parameters")}</summary>
        <pre>{JSON.stringify(tool.parameters, null, 2)}</pre>
      </details>
      <h3>{t("tools.invoke")}</h3>
      <SchemaForm schema={tool.parameters} onSubmit={(a) => void invoke(a)} busy={busy} />
      <ErrorText error={error} />
      {result !== null && (
        <>
          <h3>{t("tools.result")}</h3>
          <pre className="result" data-testid="tool-result">
            {result}
          </pre>
        </>
      )}
    </div>
  );
}

const EXAMPLE_PARAMS = '{\n  "type": "object",\n  "properties": {\n    "q": { "type": "string" }\n  },\n  "required": ["q"]\n}';

function NewTool({ onDone, onCancel }: { onDone: (name: string) => void; onCancel: () => void }) {
  const { client, t } = useApp();
  const [mode, setMode] = useState<"form" | "raw">("form");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [method, setMethod] = useState("GET");
  const [url, setUrl] = useState("https://");
  const [params, setParams] = useState(EXAMPLE_PARAMS);
  const [raw, setRaw] = useState("");
  const [error, setError] = useState<unknown>(null);

  const definition = (): Record<string, unknown> => ({
    name,
    description,
    kind: "http",
    parameters: JSON.parse(params) as unknown,
    http: { method, url },
  });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let body: Record<string, unknown>;
    try {
      body = mode === "raw" ? (JSON.parse(raw) as Record<string, unknown>) : definition();
    } catch (err) {
      setError(new Error(t("tools.invalidJson", { message: (err as Error).message })));
      return;
    }
    try {
      await client.json("POST", "api/tools", body);
      onDone(String(body.name ?? ""));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="panel" onSubmit={(e) => void submit(e)}>
      <h2>{t("tools.new")}</h2>
      <div role="radiogroup" className="tabs">
        <label className="check">
          <input type="radio" name="mode" checked={mode === "form"} onChange={() => setMode("form")} />
          {t("tools.form")}
        </label>
        <label className="check">
          <input
            type="radio"
            name="mode"
            checked={mode === "raw"}
            onChange={() => {
              try {
                setRaw(JSON.stringify(definition(), null, 2));
              } catch {
                setRaw("{}");
              }
              setMode("raw");
            }}
          />
          {t("tools.raw")}
        </label>
      </div>
      {mode === "form" ? (
        <>
          <label>
            {t("common.name")}
            <input required pattern="[A-Za-z0-9_\-]{1,64}" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            {t("common.description")}
            <input required value={description} onChange={(e) => setDescription(e.target.value)} />
          </label>
          <label>
            {t("tools.method")}
            <select value={method} onChange={(e) => setMethod(e.target.value)}>
              {["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label>
            {t("tools.url")}
            <input required type="url" value={url} onChange={(e) => setUrl(e.target.value)} />
          </label>
          <label>
            {t("tools.parameters")}
            <textarea rows={8} className="mono" value={params} onChange={(e) => setParams(e.target.value)} />
          </label>
        </>
      ) : (
        <label>
          {t("tools.definition")}
          <textarea rows={16} className="mono" value={raw} onChange={(e) => setRaw(e.target.value)} />
        </label>
      )}
      <ErrorText error={error} />
      <div className="actions">
        <button type="submit" className="primary">
          {t("common.create")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
