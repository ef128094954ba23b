// Markdown → HTML that is safe to insert: raw HTML from the model is shown as text, links and
// images only with http(s)/mailto/relative URLs (others become plain text), code blocks get a
// copy button (handled by event delegation: no inline script under the CSP), and `[n]` citation
// markers become buttons.
import { Marked, type Tokens } from "marked";

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}

// A URL that is safe in href/src, or null.
export function safeUrl(href: string | null | undefined): string | null {
  if (!href) return null;
  // Strip what browsers ignore before the scheme (controls, whitespace).
  // eslint-disable-next-line no-control-regex
  const cleaned = href.replace(/[\u0000-\u0020\u007f-\u009f]/g, "");
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(cleaned);
  if (m) {
    const scheme = (m[1] ?? "").toLowerCase();
    if (scheme !== "http" && scheme !== "https" && scheme !== "mailto") return null;
  }
  return href;
}

function make(labels: { copy: string }): Marked {
  const m = new Marked({ gfm: true, breaks: false, async: false });
  m.use({
    renderer: {
      html({ text }: Tokens.HTML | Tokens.Tag) {
        return escapeHtml(text);
      },
      link({ href, title, tokens }: Tokens.Link) {
        const inner = this.parser.parseInline(tokens);
        const url = safeUrl(href);
        if (!url) return inner;
        const t = title ? ` title="${escapeHtml(title)}"` : "";
        return `<a href="${escapeHtml(url)}"${t} rel="noopener noreferrer nofollow" target="_blank">${inner}</a>`;
      },
      image({ href, title, text }: Tokens.Image) {
        const url = safeUrl(href);
        if (!url || !/^https?:/i.test(url)) return escapeHtml(text);
        const t = title ? ` title="${escapeHtml(title)}"` : "";
        return `<img src="${escapeHtml(url)}" alt="${escapeHtml(text)}"${t} loading="lazy">`;
      },
      code({ text, lang }: Tokens.Code) {
        const language = (lang ?? "").match(/^[\w+-]*/)?.[0] ?? "";
        const cls = language ? ` class="language-${escapeHtml(language)}"` : "";
        return `<div class="code"><button type="button" class="copy" data-copy>${escapeHtml(labels.copy)}</button><pre><code${cls}>${escapeHtml(text)}</code></pre></div>`;
      },
    },
  });
  return m;
}

const cache = new Map<string, Marked>();

// HTML of `text`, with `[n]` markers as citation buttons when `citations` has that n.
export function renderMarkdown(text: string, opts: { copy?: string; citations?: Set<number> } = {}): string {
  const copy = opts.copy ?? "Copy";
  let m = cache.get(copy);
  if (!m) {
    m = make({ copy });
    cache.set(copy, m);
  }
  let html = m.parse(text) as string;
  const cites = opts.citations;
  if (cites && cites.size) {
    // Outside tags and code only: skip tags, <pre> blocks and inline <code>.
    html = html.replace(/(<pre[\s\S]*?<\/pre>|<code[\s\S]*?<\/code>|<[^>]*>)|\[(\d{1,3})\]/g, (all, tag: string | undefined, n: string | undefined) => {
      if (tag) return tag;
      const i = Number(n);
      return cites.has(i)
        ? `<button type="button" class="cite" data-cite="${i}" aria-label="[${i}]">${i}</button>`
        : all;
    });
  }
  return html;
}
