import { memo, useMemo, type MouseEvent } from "react";
import { useApp } from "../../context";
import { renderMarkdown } from "../../lib/markdown";
import type { Citation, Item } from "./model";

interface Props {
  item: Item;
  onCite: (c: Citation, item: Item) => void;
  onRetry: (item: Item) => void;
}

// One message: the user's text, or an answer with its tool steps, Markdown, sources and model.
export const MessageView = memo(function MessageView({ item, onCite, onRetry }: Props) {
  const { t } = useApp();
  const cites = useMemo(() => new Set(item.citations.map((c) => c.index)), [item.citations]);
  const html = useMemo(
    () => (item.role === "assistant" ? renderMarkdown(item.content, { copy: t("common.copy"), citations: cites }) : ""),
    [item.role, item.content, cites, t],
  );

  // Event delegation for the buttons inside the rendered Markdown (no inline handlers: CSP).
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const target = e.target as HTMLElement;
    const copy = target.closest<HTMLButtonElement>("button[data-copy]");
    if (copy) {
      const code = copy.parentElement?.querySelector("code")?.textContent ?? "";
      void navigator.clipboard?.writeText(code).then(() => {
        copy.textContent = t("common.copied");
        setTimeout(() => (copy.textContent = t("common.copy")), 1500);
      });
      return;
    }
    const cite = target.closest<HTMLButtonElement>("button[data-cite]");
    if (cite) {
      const c = item.citations.find((x) => String(x.index) === cite.dataset.cite);
      if (c) onCite(c, item);
    }
  };

  if (item.role === "user") {
    return (
      <article className="msg user" aria-label={t("chat.you")}>
        <div className="bubble">{item.content}</div>
      </article>
    );
  }
  return (
    <article className="msg assistant" aria-label={t("chat.assistant")} aria-busy={item.streaming || undefined}>
      {item.steps.map((s) => (
        <details key={s.id} className="step">
          <summary>{t("chat.toolStep", { name: s.name })}</summary>
          <p className="step-label">{t("chat.arguments")}</p>
          <pre>{s.arguments}</pre>
          <p className="step-label">{t("chat.result")}</p>
          <pre className={s.error ? "error" : undefined}>{s.error ?? s.result ?? "…"}</pre>
        </details>
      ))}
      {item.content ? (
        <div className="md" onClick={onClick} dangerouslySetInnerHTML={{ __html: html }} />
      ) : item.streaming ? (
        <p className="muted">{t("chat.thinking")}</p>
      ) : null}
      {item.citations.length > 0 && (
        <div className="sources">
          <span className="muted">{t("chat.sources")}:</span>
          {item.citations.map((c) => (
            <button type="button" key={c.index} className="source" onClick={() => onCite(c, item)}>
              [{c.index}] {c.title}
            </button>
          ))}
        </div>
      )}
      {item.error && (
        <div role="alert" className="error">
          {t("chat.failed", { message: item.error })}{" "}
          <button type="button" onClick={() => onRetry(item)}>
            {t("common.retry")}
          </button>
        </div>
      )}
      <div className="meta muted">
        {item.model && <span className="model">{t("chat.model", { model: item.model })}</span>}
        {item.interrupted && <span> · {t("chat.interrupted")}</span>}
      </div>
    </article>
  );
});
