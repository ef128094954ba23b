import { describe, expect, it } from "vitest";
import { renderMarkdown, safeUrl } from "./markdown";

describe("renderMarkdown", () => {
  it("shows raw HTML from the model as text", () => {
    const html = renderMarkdown('Hi <script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n<div onclick="x()">b</div>');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<div onclick/i);
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("&lt;img src=x onerror=");
  });

  it("makes javascript: and data: links inert", () => {
    for (const src of [
      "[click](javascript:alert(1))",
      "[click](JavaScript:alert(1))",
      "[click]( java\tscript:alert(1))",
      "[click](vbscript:msgbox)",
      "[click](data:text/html,<script>alert(1)</script>)",
      "<javascript:alert(1)>",
      "[click][r]\n\n[r]: javascript:alert(1)",
      "![x](javascript:alert(1))",
    ]) {
      const html = renderMarkdown(src);
      expect(html, src).not.toMatch(/href="\s*(java|vb|data)/i);
      expect(html, src).not.toMatch(/src="\s*(java|vb|data)/i);
    }
  });

  it("keeps http(s) links, opening them safely", () => {
    const html = renderMarkdown("[docs](https://example.com/a?b=1&c=2)");
    expect(html).toContain('href="https://example.com/a?b=1&amp;c=2"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
  });

  it("renders code blocks escaped, with a copy button", () => {
    const html = renderMarkdown("```js\nif (a < b) alert('<b>');\n```", { copy: "Copiar" });
    expect(html).toContain('<button type="button" class="copy" data-copy>Copiar</button>');
    expect(html).toContain("if (a &lt; b) alert(&#39;&lt;b&gt;&#39;);");
    expect(html).toContain('class="language-js"');
  });

  it("turns known [n] markers into citation buttons, not inside code", () => {
    const html = renderMarkdown("Paris [1] and [7], `a[1]`.\n\n```\nx[1]\n```", { citations: new Set([1]) });
    expect(html.match(/data-cite/g)).toHaveLength(1);
    expect(html).toContain("<code>a[1]</code>");
    expect(html).toContain('data-cite="1"');
    expect(html).toContain("[7]");
    expect(html).toContain("x[1]");
  });

  it("safeUrl accepts only http, https, mailto and relative URLs", () => {
    expect(safeUrl("https://a.b")).toBe("https://a.b");
    expect(safeUrl("/x")).toBe("/x");
    expect(safeUrl("mailto:a@b.c")).toBe("mailto:a@b.c");
    expect(safeUrl("javascript:x")).toBeNull();
    expect(safeUrl("\u0001javascript:x")).toBeNull();
  });
});
