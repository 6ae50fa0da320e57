"""Read a drafted report back as plain text, as a reader would see it."""

from __future__ import annotations

import html
import re
from pathlib import Path


def docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def html_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "\n", path.read_text(encoding="utf-8")))
