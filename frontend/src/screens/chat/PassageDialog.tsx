import { useEffect, useState } from "react";
import { useApp } from "../../context";
import { Modal } from "../../components/ui";
import type { Citation } from "./model";

interface SearchResult {
  chunk_id: string | number;
  text: string;
}

// The cited passage: its text (carried by the citation; for answers stored before citations
// carried it, found again through rag search, which returns chunk texts), document title,
// heading path and page.
export function PassageDialog({ citation, question, onClose }: { citation: Citation; question: string; onClose: () => void }) {
  const { client, t } = useApp();
  const [passage, setPassage] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (citation.text) {
      setPassage(citation.text);
      return;
    }
    const ctl = new AbortController();
    const queries = [question, [citation.title, ...citation.heading_path].join(" ")].filter(Boolean);
    (async () => {
      for (const query of queries) {
        const r = await client.json<{ results: SearchResult[] }>(
          "POST",
          "api/rag/search",
          { query, collections: [citation.collection_id], k: 50, mode: "bm25" },
          { signal: ctl.signal },
        );
        const hit = r.results.find((x) => String(x.chunk_id) === String(citation.chunk_id));
        if (hit) return hit.text;
      }
      return null;
    })()
      .then(setPassage)
      .catch(() => !ctl.signal.aborted && setPassage(null));
    return () => ctl.abort();
  }, [client, citation, question]);
  const page = citation.location?.page ?? (citation.page && citation.page > 0 ? citation.page : null);
  return (
    <Modal title={`${t("chat.passage")} [${citation.index}]`} onClose={onClose}>
      <dl className="passage-meta">
        <dt>{t("chat.document")}</dt>
        <dd>{citation.title}</dd>
        {citation.heading_path.length > 0 && (
          <>
            <dt>{t("chat.headings")}</dt>
            <dd>{citation.heading_path.join(" › ")}</dd>
          </>
        )}
        {page ? (
          <>
            <dt>{t("chat.page")}</dt>
            <dd>{page}</dd>
          </>
        ) : null}
      </dl>
      {passage === undefined ? (
        <p className="muted">{t("common.loading")}</p>
      ) : passage === null ? (
        <p className="muted">{t("chat.passageMissing")}</p>
      ) : (
        <blockquote className="passage" data-testid="passage">
          {passage}
        </blockquote>
      )}
    </Modal>
  );
}
