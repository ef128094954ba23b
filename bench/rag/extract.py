#!/usr/bin/python3
"""Extracts the retrieval corpora from installed Debian documentation packages as JSON lines.

  extract.py en OUT.jsonl   postgresql-doc-15: one document per HTML page
  extract.py es OUT.jsonl   debian-reference-es: one document per section of the guide

Each line is {"id","title","text","source"}. HTML becomes plain text: headings are kept as
Markdown-style lines ("## 5.1. Title"), block elements end a line, <pre> keeps its layout,
navigation headers/footers are dropped. Output is deterministic: files are read in sorted
order, ids are stable names (page file name without ".html"; section anchor for Spanish),
lines are written in id order with sorted keys.
"""
import glob
import json
import os
import re
import sys

import lxml.html

PG_HTML = "/usr/share/doc/postgresql-doc-15/html"
DEBREF = "/usr/share/debian-reference"

BLOCK = {
    "p", "div", "pre", "table", "tr", "ul", "ol", "li", "dl", "dt", "dd", "blockquote",
    "br", "hr", "section", "figure", "caption", "thead", "tbody", "title",
}
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
PRE_START, PRE_END = "\x02", "\x03"  # marks <pre> text, whose indentation is kept
DROP_CLASSES = {"navheader", "navfooter", "list-of-tables", "list-of-figures",
                "list-of-examples"}


def _classes(el):
    return set((el.get("class") or "").split())


def render(el, out, pre=False):
    """Appends the text of el to out (a list of strings), keeping headings and blocks."""
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in ("script", "style", "head") or _classes(el) & DROP_CLASSES:
        if el.tail:
            out.append(el.tail if pre else re.sub(r"\s+", " ", el.tail))
        return
    level = HEADINGS.get(tag)
    if level:
        text = re.sub(r"\s+", " ", el.text_content()).strip()
        if text:
            out.append("\n\n" + "#" * level + " " + text + "\n")
    else:
        in_pre = pre or tag == "pre"
        if tag in BLOCK:
            out.append("\n")
        if tag == "pre" and not pre:
            out.append(PRE_START)
        if el.text:
            out.append(el.text if in_pre else re.sub(r"\s+", " ", el.text))
        for child in el:
            render(child, out, in_pre)
        if tag == "pre" and not pre:
            out.append(PRE_END)
        if tag in BLOCK:
            out.append("\n")
    if el.tail:
        out.append(el.tail if pre else re.sub(r"\s+", " ", el.tail))


def to_text(el):
    out = []
    render(el, out)
    text, blank, in_pre = [], 0, False
    for ln in "".join(out).split("\n"):  # bounded by the number of lines
        starts, ends = PRE_START in ln, PRE_END in ln
        ln = ln.replace(PRE_START, "").replace(PRE_END, "").rstrip()
        keep_indent = in_pre or starts
        in_pre = (in_pre or starts) and not ends
        if ln.strip():
            text.append(ln if keep_indent else ln.strip())
            blank = 0
        else:
            blank += 1
            if blank == 1 and text:
                text.append("")
    return "\n".join(text).strip() + "\n"


def english():
    for path in sorted(glob.glob(os.path.join(PG_HTML, "*.html"))):
        root = lxml.html.parse(path).getroot()
        title = re.sub(r"\s+", " ", root.findtext(".//title") or "").strip()
        body = root.find("body")
        yield {
            "id": os.path.basename(path)[: -len(".html")],
            "title": title,
            "text": to_text(body if body is not None else root),
            "source": "postgresql-doc-15:" + os.path.relpath(path, "/"),
        }


def spanish():
    files = sorted(glob.glob(os.path.join(DEBREF, "ch*.es.html"))) + sorted(
        glob.glob(os.path.join(DEBREF, "ap*.es.html")))
    for path in files:
        root = lxml.html.parse(path).getroot()
        for sec in root.iterfind(".//div[@class='section']"):
            heading = sec.find("./div[@class='titlepage']")
            anchor = sec.xpath("./div[@class='titlepage']//h2/a/@id | "
                               "./div[@class='titlepage']//h3/a/@id | "
                               "./div[@class='titlepage']//h4/a/@id | "
                               "./div[@class='titlepage']//h5/a/@id")
            if heading is None or not anchor:
                continue
            title = re.sub(r"\s+", " ", heading.text_content()).strip()
            # A section's document is its own text; its subsections are documents of their own.
            own = lxml.html.fromstring(lxml.html.tostring(sec))
            for sub in own.xpath("./div[@class='section']"):
                sub.drop_tree()
            text = to_text(own)
            if len(text) < 40:
                continue
            yield {
                "id": anchor[0],
                "title": title,
                "text": text,
                "source": "debian-reference-es:" + os.path.relpath(path, "/") + "#" + anchor[0],
            }


def main(argv):
    if len(argv) != 3 or argv[1] not in ("en", "es"):
        sys.exit(__doc__)
    docs = list(english() if argv[1] == "en" else spanish())
    ids = [d["id"] for d in docs]
    if len(set(ids)) != len(ids):
        sys.exit("extract.py: duplicate document ids")
    docs.sort(key=lambda d: d["id"])
    tmp = argv[2] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, argv[2])
    print(f"extract.py: {len(docs)} {argv[1]} documents -> {argv[2]}")


if __name__ == "__main__":
    main(sys.argv)
