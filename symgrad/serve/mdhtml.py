"""The Markdown that symgrad's printers write, as HTML for the page, TeX left for KaTeX.

Only the constructs printing/markdown.py and the handout's renderer emit: headings, paragraphs,
$$ display blocks, $inline$ math, `code`, **bold**, pipe tables, "- " lists and fenced code.
Every character of the text is escaped; math goes into <span class="math"> elements whose text
KaTeX renders in the browser (no HTML from the document is ever passed through).
"""

from __future__ import annotations

import html
import re

_INLINE = re.compile(r"(`[^`]+`)|(\$[^$\n]+\$)|(\*\*)")


def to_html(markdown: str) -> str:
    lines = markdown.splitlines()
    out: list[str] = []
    k = 0
    while k < len(lines):
        line = lines[k]
        stripped = line.strip()
        if stripped.startswith("```"):
            end = _find(lines, k + 1, lambda s: s.strip().startswith("```"))
            code = "\n".join(lines[k + 1:end])
            out.append(f"<pre><code>{html.escape(code)}</code></pre>")
            k = end + 1
        elif stripped == "$$":
            end = _find(lines, k + 1, lambda s: s.strip() == "$$")
            tex = "\n".join(lines[k + 1:end])
            out.append(f'<div class="math display">{html.escape(tex)}</div>')
            k = end + 1
        elif stripped.startswith("$$") and stripped.endswith("$$") and len(stripped) > 4:
            out.append(f'<div class="math display">{html.escape(stripped[2:-2])}</div>')
            k += 1
        elif re.match(r"#{1,6} ", stripped):
            level = len(stripped) - len(stripped.lstrip("#"))
            out.append(f"<h{level}>{_inline(stripped[level:].strip())}</h{level}>")
            k += 1
        elif stripped.startswith("|"):
            end = _find(lines, k, lambda s: not s.strip().startswith("|"))
            out.append(_table(lines[k:end]))
            k = end
        elif re.match(r"[-*] ", stripped):
            end = _find(lines, k, lambda s: not re.match(r"[-*] ", s.strip()))
            items = "".join(f"<li>{_inline(s.strip()[2:])}</li>" for s in lines[k:end])
            out.append(f"<ul>{items}</ul>")
            k = end
        elif not stripped or stripped == "---":
            k += 1
        else:
            end = _find(lines, k, lambda s: not s.strip() or s.strip() == "$$" or s.strip().startswith(("#", "|", "```")))
            out.append(f"<p>{_inline(' '.join(s.strip() for s in lines[k:end]))}</p>")
            k = max(end, k + 1)
    return "\n".join(out) + "\n"


def _find(lines, start, stop) -> int:
    for k in range(start, len(lines)):
        if stop(lines[k]):
            return k
    return len(lines)


def _table(rows: list[str]) -> str:
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    if len(cells) > 1 and all(re.fullmatch(r":?-+:?", c) for c in cells[1]):
        head, body = cells[0], cells[2:]
    else:
        head, body = None, cells
    parts = ["<table>"]
    if head is not None:
        parts.append("<thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr></thead>")
    parts.append("<tbody>" + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                                     for row in body) + "</tbody></table>")
    return "".join(parts)


def _inline(text: str) -> str:
    """Code spans, inline math and bold; everything else escaped (a lone ** stays as written)."""
    parts, bold, last = [], False, 0
    for match in _INLINE.finditer(text):
        parts.append(html.escape(text[last:match.start()]))
        code, math, star = match.groups()
        if code:
            parts.append(f"<code>{html.escape(code[1:-1])}</code>")
        elif math:
            parts.append(f'<span class="math">{html.escape(math[1:-1])}</span>')
        elif star:
            parts.append("</strong>" if bold else "<strong>")
            bold = not bold
        last = match.end()
    parts.append(html.escape(text[last:]))
    if bold:
        parts.append("</strong>")
    return "".join(parts)
