#!/usr/bin/env python3
"""Writes the seed corpora of the rag parser fuzzers (run from this folder; output committed)."""
import zipfile, io, pathlib

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
BODY = ('<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Title</w:t></w:r></w:p>'
        '<w:p><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>item</w:t></w:r></w:p>'
        '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc>'
        '<w:tc><w:p><w:r><w:t>b</w:t><w:tab/></w:r></w:p></w:tc></w:tr></w:tbl>'
        '<w:p><w:pPr><w:outlineLvl w:val="2"/></w:pPr><w:r><w:t>x</w:t></w:r></w:p>')
CORE = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
        '</cp:coreProperties>')


def docx(body, method=zipfile.ZIP_DEFLATED, core=True):
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', method) as z:
        z.writestr('word/document.xml', f'<?xml version="1.0"?><w:document {W}><w:body>{body}'
                   '</w:body></w:document>')
        if core:
            z.writestr('docProps/core.xml', CORE)
    return out.getvalue()


seeds = {
    'enkisys-rag-docx-fuzz': {'full.docx': docx(BODY), 'stored.docx': docx(BODY, zipfile.ZIP_STORED),
                              'plain.docx': docx('<w:p><w:r><w:t>hi</w:t></w:r></w:p>', core=False)},
    'enkisys-rag-html-fuzz': {
        'page.html': b'<!DOCTYPE html><html><head><title>T</title><meta charset="iso-8859-1">'
                     b'<script>x</script></head><body><h1>H</h1><p>a &amp; b<ul><li>i</li></ul>'
                     b'<pre> x\n  y</pre><table><tr><td>1</td><th>2</th></tr></table></body></html>'},
    'enkisys-rag-markdown-fuzz': {
        'all.md': b'T\n=\n\n# H1\n\npara [link](u) `c`\n\n- a\n  1. b\n\n> q\n\n```\ncode\n```\n\n'
                  b'    ind\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div>h</div>\n'},
}
for folder, files in seeds.items():
    for name, data in files.items():
        path = pathlib.Path('corpus') / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
