import { useCallback, useEffect, useState, type FormEvent } from "react";
import { useApp } from "../context";
import { ErrorText, Loading } from "../components/ui";
import type { Key } from "../lib/i18n";

interface Collection {
  id: string | number;
  name: string;
  description?: string;
  visibility: "private" | "shared";
}
interface Doc {
  id: string | number;
  title: string;
  filename?: string;
  status: "queued" | "processing" | "ready" | "failed";
  error?: { code?: string; message?: string };
  chunks?: number;
  progress?: number;
}

export default function Documents() {
  const { client, t, route, navigate } = useApp();
  const selected = route.split("/")[1] ?? "";
  const [list, setList] = useState<Collection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [visibility, setVisibility] = useState<"private" | "shared">("private");

  const load = useCallback(async () => {
    try {
      const r = await client.get<{ collections: Collection[] }>("api/rag/collections");
      setList(r.collections);
      setError(null);
    } catch (e) {
      setError(e);
      setList((l) => l ?? []);
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const c = await client.json<Collection>("POST", "api/rag/collections", { name: name.trim(), description, visibility });
      setName("");
      setDescription("");
      await load();
      navigate(`documents/${c.id}`);
    } catch (err) {
      setError(err);
    }
  };
  const remove = async (c: Collection) => {
    if (!window.confirm(t("common.confirmDelete", { name: c.name }))) return;
    try {
      await client.json("DELETE", `api/rag/collections/${c.id}`);
      if (String(c.id) === selected) navigate("documents");
      await load();
    } catch (err) {
      setError(err);
    }
  };

  const current = list?.find((c) => String(c.id) === selected);
  return (
    <div className="split">
      <aside className="sidebar" aria-label={t("docs.collections")}>
        <h1>{t("docs.collections")}</h1>
        <form className="panel" onSubmit={(e) => void create(e)}>
          <h2>{t("docs.newCollection")}</h2>
          <label>
            {t("common.name")}
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label>
            {t("common.description")}
            <input value={description} onChange={(e) => setDescription(e.target.value)} />
          </label>
          <label>
            {t("docs.visibility")}
            <select value={visibility} onChange={(e) => setVisibility(e.target.value as "private" | "shared")}>
              <option value="private">{t("docs.private")}</option>
              <option value="shared">{t("docs.shared")}</option>
            </select>
          </label>
          <button type="submit" className="primary">
            {t("common.create")}
          </button>
        </form>
        <ErrorText error={error} />
        {list === null ? (
          <Loading />
        ) : list.length === 0 ? (
          <p className="muted">{t("docs.empty")}</p>
        ) : (
          <ul className="convs">
            {list.map((c) => (
              <li key={c.id} className={String(c.id) === selected ? "current" : undefined}>
                <a
                  href={`documents/${c.id}`}
                  aria-current={String(c.id) === selected ? "page" : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`documents/${c.id}`);
                  }}
                >
                  {c.name} <span className="badge">{t(c.visibility === "shared" ? "docs.shared" : "docs.private")}</span>
                </a>
                <button type="button" className="icon" onClick={() => void remove(c)} aria-label={`${t("common.delete")}: ${c.name}`}>
                  ✕
                </button>
              </li>
            ))}
          </ul>
        )}
      </aside>
      <section className="content">
        {current ? <CollectionView key={String(current.id)} collection={current} /> : <p className="muted empty">{t("docs.pick")}</p>}
      </section>
    </div>
  );
}

function CollectionView({ collection }: { collection: Collection }) {
  const { client, t } = useApp();
  const base = `api/rag/collections/${collection.id}/documents`;
  const [docs, setDocs] = useState<Doc[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [upload, setUpload] = useState<{ name: string; fraction: number } | null>(null);

  const load = useCallback(async () => {
    try {
      const r = await client.get<{ documents: Doc[] }>(base);
      setDocs(r.documents);
      setError(null);
      return r.documents;
    } catch (e) {
      setError(e);
      setDocs((d) => d ?? []);
      return [];
    }
  }, [client, base]);

  // Poll while any document is still being ingested.
  const pending = (docs ?? []).some((d) => d.status === "queued" || d.status === "processing");
  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (!pending) return;
    const id = setInterval(() => void load(), 1000);
    return () => clearInterval(id);
  }, [pending, load]);

  const send = async (file: File) => {
    const form = new FormData();
    form.append("file", file, file.name);
    setUpload({ name: file.name, fraction: 0 });
    try {
      await client.upload(base, form, (fraction) => setUpload({ name: file.name, fraction }));
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setUpload(null);
    }
  };
  const remove = async (d: Doc) => {
    if (!window.confirm(t("common.confirmDelete", { name: d.title || d.filename || String(d.id) }))) return;
    try {
      await client.json("DELETE", `${base}/${d.id}`);
      await load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div>
      <h2>{collection.name}</h2>
      {collection.description && <p className="muted">{collection.description}</p>}
      <label className="upload">
        {t("docs.upload")}
        <input
          type="file"
          accept=".txt,.md,.markdown,.html,.htm,.pdf,.docx,text/*"
          disabled={upload !== null}
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = "";
            if (f) void send(f);
          }}
        />
      </label>
      {upload && (
        <div className="progress-row">
          <span>{t("docs.uploading", { name: upload.name })}</span>
          <progress max={1} value={upload.fraction} aria-label={t("docs.uploading", { name: upload.name })} />
        </div>
      )}
      <ErrorText error={error} />
      {docs === null ? (
        <Loading />
      ) : docs.length === 0 ? (
        <p className="muted">{t("docs.noDocs")}</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t("common.name")}</th>
              <th scope="col">{t("docs.status")}</th>
              <th scope="col">
                <span className="sr-only">{t("common.delete")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {docs.map((d) => (
              <tr key={d.id} data-status={d.status}>
                <td>{d.title || d.filename}</td>
                <td>
                  <span className={`status ${d.status}`}>{t(`docs.status.${d.status}` as Key)}</span>
                  {d.status === "ready" && d.chunks !== undefined && <span className="muted"> · {t("docs.chunks", { n: d.chunks })}</span>}
                  {d.status === "failed" && d.error?.message && <span className="error"> · {d.error.message}</span>}
                </td>
                <td>
                  <button type="button" className="icon" onClick={() => void remove(d)} aria-label={`${t("common.delete")}: ${d.title}`}>
                    ✕
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
