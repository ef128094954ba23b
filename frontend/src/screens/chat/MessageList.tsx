import { useEffect, useRef } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useApp } from "../../context";
import { MessageView } from "./Answer";
import type { Citation, Item } from "./model";

interface Props {
  items: Item[];
  onCite: (c: Citation, item: Item) => void;
  onRetry: (item: Item) => void;
}

// The conversation, virtualised: only the visible messages are in the DOM, each measured.
export function MessageList({ items, onCite, onRetry }: Props) {
  const { t } = useApp();
  const parent = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({
    count: items.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 96,
    overscan: 6,
    getItemKey: (i) => items[i]?.key ?? i,
  });
  const last = items[items.length - 1];
  // Follow the newest message (new turn or streamed text).
  useEffect(() => {
    if (items.length) v.scrollToIndex(items.length - 1, { align: "end" });
  }, [items.length, last?.content, last?.steps.length, v]);

  if (!items.length) return <p className="muted empty">{t("chat.noMessages")}</p>;
  return (
    <div ref={parent} className="messages" data-testid="messages" role="log" aria-label={t("chat.messages")} tabIndex={0}>
      <div className="vlist" style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((row) => {
          const item = items[row.index];
          if (!item) return null;
          return (
            <div
              key={row.key}
              data-index={row.index}
              ref={v.measureElement}
              className="vrow"
              style={{ transform: `translateY(${row.start}px)` }}
            >
              <MessageView item={item} onCite={onCite} onRetry={onRetry} />
            </div>
          );
        })}
      </div>
    </div>
  );
}
