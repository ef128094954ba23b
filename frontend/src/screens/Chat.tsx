import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useApp } from "../context";
import { ErrorText, Loading } from "../components/ui";
import { describeError, isAbort } from "../lib/api";
import { hrefOf } from "../lib/router";
import { MessageList } from "./chat/MessageList";
import { PassageDialog } from "./chat/PassageDialog";
import { applyEvent, streamTurn, toItems, type Citation, type Conversation, type Id, type Item } from "./chat/model";

interface Collection {
  id: Id;
  name: string;
}

export function Chat() {
  const { client, t, route, navigate } = useApp();
  const selected = route.split("/")[1] ?? "";
  const [list, setList] = useState<Conversation[] | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [filter, setFilter] = useState("");
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    try {
      const r = await client.get<{ conversations: Conversation[] }>("api/chat/conversations?limit=100");
      setList(r.conversations);
      setListError(null);
    } catch (e) {
      setListError(e);
      setList((l) => l ?? []);
    }
  }, [client]);
  useEffect(() => void load(), [load]);

  const rename = async (c: Conversation) => {
    const title = window.prompt(t("chat.rename"), c.title);
    if (title === null || !title.trim()) return;
    try {
      await client.json("PATCH", `api/chat/conversations/${c.id}`, { title: title.trim() });
      await load();
    } catch (e) {
      setListError(e);
    }
  };
  const remove = async (c: Conversation) => {
    if (!window.confirm(t("common.confirmDelete", { name: c.title || t("chat.untitled") }))) return;
    try {
      await client.json("DELETE", `api/chat/conversations/${c.id}`);
      if (String(c.id) === selected) navigate("chat");
      await load();
    } catch (e) {
      setListError(e);
    }
  };

  const shown = (list ?? []).filter((c) => c.title.toLowerCase().includes(filter.trim().toLowerCase()));
  return (
    <div className="chat">
      <aside className="sidebar" aria-label={t("chat.conversations")}>
        <h1 className="sidebar-title">{t("chat.conversations")}</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          {t("chat.new")}
        </button>
        <label className="search">
          <span className="sr-only">{t("chat.search")}</span>
          <input type="search" placeholder={t("chat.search")} value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
        <ErrorText error={listError} />
        {list === null ? (
          <Loading />
        ) : shown.length === 0 ? (
          <p className="muted">{t("chat.empty")}</p>
        ) : (
          <ul className="convs">
            {shown.map((c) => (
              <li key={c.id} className={String(c.id) === selected ? "current" : undefined}>
                <a
                  href={hrefOf(`chat/${c.id}`)}
                  aria-current={String(c.id) === selected ? "page" : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`chat/${c.id}`);
                  }}
                >
                  {c.title || t("chat.untitled")}
                </a>
                <span className="row-actions">
                  <button type="button" className="icon" onClick={() => void rename(c)} aria-label={`${t("chat.rename")}: ${c.title}`}>
                    ✎
                  </button>
                  <button type="button" className="icon" onClick={() => void remove(c)} aria-label={`${t("common.delete")}: ${c.title}`}>
                    ✕
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
      </aside>
      <section className="conversation">
        {creating ? (
          <NewConversation
            onCancel={() => setCreating(false)}
            onCreated={(c) => {
              setCreating(false);
              void load();
              navigate(`chat/${c.id}`);
            }}
          />
        ) : selected ? (
          <ConversationView key={selected} id={selected} onActivity={load} />
        ) : (
          <p className="muted empty">{t("chat.pick")}</p>
        )}
      </section>
    </div>
  );
}

function NewConversation({ onCancel, onCreated }: { onCancel: () => void; onCreated: (c: Conversation) => void }) {
  const { client, t } = useApp();
  const [title, setTitle] = useState("");
  const [collections, setCollections] = useState<Collection[] | null>(null);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    client
      .get<{ collections: Collection[] }>("api/rag/collections")
      .then((r) => setCollections(r.collections))
      .catch((e: unknown) => {
        setError(e);
        setCollections([]);
      });
  }, [client]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const ids = (collections ?? []).filter((c) => picked.has(String(c.id))).map((c) => c.id);
      const c = await client.json<Conversation>("POST", "api/chat/conversations", {
        title: title.trim() || t("chat.untitled"),
        collections: ids,
        tools: "all",
      });
      onCreated(c);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="panel new-conv" onSubmit={(e) => void submit(e)}>
      <h2>{t("chat.new")}</h2>
      <label>
        {t("chat.title")}
        <input value={title} onChange={(e) => setTitle(e.target.value)} autoFocus />
      </label>
      <fieldset>
        <legend>{t("chat.collections")}</legend>
        {collections === null ? (
          <Loading />
        ) : collections.length === 0 ? (
          <p className="muted">{t("chat.noCollections")}</p>
        ) : (
          collections.map((c) => (
            <label key={c.id} className="check">
              <input
                type="checkbox"
                checked={picked.has(String(c.id))}
                onChange={(e) => {
                  const next = new Set(picked);
                  if (e.target.checked) next.add(String(c.id));
                  else next.delete(String(c.id));
                  setPicked(next);
                }}
              />
              {c.name}
            </label>
          ))
        )}
      </fieldset>
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

function ConversationView({ id, onActivity }: { id: string; onActivity: () => void }) {
  const { client, t } = useApp();
  const [conv, setConv] = useState<Conversation | null>(null);
  const [items, setItems] = useState<Item[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [cited, setCited] = useState<{ c: Citation; q: string } | null>(null);
  const abort = useRef<AbortController | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const ctl = new AbortController();
    client
      .get<Conversation>(`api/chat/conversations/${id}`, ctl.signal)
      .then((c) => {
        setConv(c);
        setItems(toItems(c.messages ?? []));
        setError(null);
      })
      .catch((e: unknown) => !isAbort(e) && setError(e));
    return () => {
      ctl.abort();
      abort.current?.abort();
    };
  }, [client, id]);

  const send = useCallback(
    async (content: string, replaceKey?: string) => {
      const stamp = Date.now();
      const user: Item = { key: `u${stamp}`, role: "user", content, citations: [], steps: [] };
      const answerKey = `a${stamp}`;
      const answer: Item = { key: answerKey, role: "assistant", content: "", citations: [], steps: [], streaming: true, question: content };
      setItems((xs) => [...xs.filter((x) => x.key !== replaceKey), ...(replaceKey ? [] : [user]), answer]);
      const update = (f: (i: Item) => Item) => setItems((xs) => xs.map((x) => (x.key === answerKey ? f(x) : x)));
      const ctl = new AbortController();
      abort.current = ctl;
      setBusy(true);
      try {
        await streamTurn(client, id, content, ctl.signal, (ev) => update((i) => applyEvent(i, ev)));
        update((i) => (i.streaming ? { ...i, streaming: false } : i));
      } catch (e) {
        if (isAbort(e)) update((i) => ({ ...i, streaming: false, interrupted: true }));
        else update((i) => ({ ...i, streaming: false, error: describeError(e, t) }));
      } finally {
        setBusy(false);
        abort.current = null;
        onActivity();
      }
    },
    [client, id, t, onActivity],
  );

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const content = draft.trim();
    if (!content || busy) return;
    setDraft("");
    void send(content);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) submit(e as unknown as FormEvent);
  };
  const onRetry = useCallback((item: Item) => item.question && void send(item.question, item.key), [send]);
  const onCite = useCallback((c: Citation, item: Item) => setCited({ c, q: item.question ?? "" }), []);

  if (error) return <ErrorText error={error} />;
  if (!conv) return <Loading />;
  return (
    <div className="conv">
      <h2 className="conv-title">{conv.title || t("chat.untitled")}</h2>
      <MessageList items={items} onCite={onCite} onRetry={onRetry} />
      <form className="composer" onSubmit={submit}>
        <label className="sr-only" htmlFor="composer">
          {t("chat.message")}
        </label>
        <textarea
          id="composer"
          ref={input}
          rows={2}
          value={draft}
          placeholder={t("chat.placeholder")}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
        />
        {busy ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            {t("chat.stop")}
          </button>
        ) : (
          <button type="submit" className="primary" disabled={!draft.trim()}>
            {t("chat.send")}
          </button>
        )}
      </form>
      {cited && <PassageDialog citation={cited.c} question={cited.q} onClose={() => setCited(null)} />}
    </div>
  );
}
