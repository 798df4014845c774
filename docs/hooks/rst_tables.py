"""griffe extension: turn the reStructuredText simple tables of numpydoc docstrings
(``====  ====`` borders) into Markdown tables, so the API pages show them as tables."""

from __future__ import annotations

import re
from typing import Any

import griffe

_BORDER = re.compile(r"^(\s*)=+(?: +=+)+\s*$")


def _spans(border: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    out = []
    for i, (start, _) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(line)
        out.append(line[start:end].strip().replace("|", "\\|"))
    return out


def convert(text: str) -> str:
    """Rewrite every simple table in ``text``; other text is left as it is."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _BORDER.match(lines[i])
        end = None
        if m:  # a table: border, header, border, rows..., border
            borders = [j for j in range(i, len(lines)) if _BORDER.match(lines[j])]
            if len(borders) >= 3 and borders[1] == i + 2:
                end = borders[2]
        if end is None:
            out.append(lines[i])
            i += 1
            continue
        indent, spans = m.group(1), _spans(lines[i])
        header = _cells(lines[i + 1], spans)
        rows: list[list[str]] = []
        for line in lines[i + 3:end]:
            if not line.strip():
                continue
            cells = _cells(line, spans)
            if rows and not cells[0]:  # a continuation line
                rows[-1] = [(a + " " + b).strip() for a, b in zip(rows[-1], cells)]
            else:
                rows.append(cells)
        out.append("")
        out.append(indent + "| " + " | ".join(header) + " |")
        out.append(indent + "|" + "---|" * len(header))
        out.extend(indent + "| " + " | ".join(r) + " |" for r in rows)
        out.append("")
        i = end + 1
    return "\n".join(out)


class RstTables(griffe.Extension):
    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None and "==" in obj.docstring.value:
            obj.docstring.value = convert(obj.docstring.value)
