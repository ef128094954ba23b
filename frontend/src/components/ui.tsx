import { useEffect, useRef, type ReactNode } from "react";
import { useApp } from "../context";
import { describeError } from "../lib/api";

export function ErrorText({ error }: { error: unknown }) {
  const { t } = useApp();
  if (!error) return null;
  return (
    <p role="alert" className="error">
      {describeError(error, t)}
    </p>
  );
}

export function Loading() {
  const { t } = useApp();
  return (
    <p className="muted" role="status" aria-live="polite">
      {t("common.loading")}
    </p>
  );
}

// A modal <dialog>: focus is trapped by the browser, Escape closes it.
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const { t } = useApp();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} className="modal" aria-labelledby="modal-title" onClose={onClose} onCancel={onClose}>
      <div className="modal-head">
        <h2 id="modal-title">{title}</h2>
        <button type="button" onClick={onClose} aria-label={t("common.close")}>
          ✕
        </button>
      </div>
      {children}
    </dialog>
  );
}
