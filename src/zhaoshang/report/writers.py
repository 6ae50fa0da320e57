"""Render the drafted blocks as Word (.docx, county offices edit it in Word or WPS) and HTML."""

from __future__ import annotations

import base64
import html
import io

from zhaoshang.report.draft import Block

BODY_FONT = "宋体"
MAX_PICTURE_CM = 21.0
CHART_WIDTH_CM = 14.5
HEADING_FONT = "黑体"


def _east_asian(run, font: str) -> None:
    """Word picks the font of Chinese text from w:eastAsia, not from run.font.name."""
    from docx.oxml.ns import qn

    run.font.name = font
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def docx_bytes(blocks: list[Block], charts: dict[str, bytes]) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.6))
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.3)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(12)
    for block in blocks:
        if block.kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(block.text)
            run.bold = True
            run.font.size = Pt(20)
            _east_asian(run, HEADING_FONT)
        elif block.kind == "meta":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(block.text)
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
            _east_asian(run, BODY_FONT)
        elif block.kind == "heading":
            p = doc.add_paragraph()
            p.paragraph_format.space_before = Pt(10)
            run = p.add_run(block.text)
            run.bold = True
            run.font.size = Pt(14)
            _east_asian(run, HEADING_FONT)
        elif block.kind in {"paragraph", "placeholder"}:
            p = doc.add_paragraph()
            p.paragraph_format.first_line_indent = Pt(24)
            p.paragraph_format.line_spacing = 1.4
            run = p.add_run(block.text)
            _east_asian(run, BODY_FONT)
            if block.kind == "placeholder":
                run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
                run.font.highlight_color = 7  # yellow: the clerk sees what is left to write
        elif block.kind == "code":
            p = doc.add_paragraph()
            run = p.add_run(block.text)
            run.font.name = "Courier New"
            run.font.size = Pt(8)
        elif block.kind == "table":
            table = doc.add_table(rows=len(block.rows), cols=len(block.rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(block.rows):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = ""
                    run = cell.paragraphs[0].add_run(value)
                    run.font.size = Pt(10.5)
                    run.bold = r == 0 or row[0] == "合计"
                    _east_asian(run, BODY_FONT)
                    if c > 0:
                        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif block.kind == "chart":
            width, height = _png_size(charts[block.chart])
            if height / width * CHART_WIDTH_CM > MAX_PICTURE_CM:  # a tall chart keeps its caption
                doc.add_picture(io.BytesIO(charts[block.chart]), height=Cm(MAX_PICTURE_CM))
            else:
                doc.add_picture(io.BytesIO(charts[block.chart]), width=Cm(CHART_WIDTH_CM))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(block.text)
            run.font.size = Pt(10)
            _east_asian(run, BODY_FONT)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


_CSS = """
body { font-family: "Noto Serif CJK SC", "SimSun", "宋体", serif; max-width: 46em;
       margin: 2em auto; padding: 0 1em; line-height: 1.8; color: #222; }
h1 { text-align: center; font-family: "Noto Sans CJK SC", "SimHei", "黑体", sans-serif; }
h2 { font-family: "Noto Sans CJK SC", "SimHei", "黑体", sans-serif; font-size: 1.2em;
     margin-top: 1.6em; }
p { text-indent: 2em; margin: 0.5em 0; }
p.meta { text-indent: 0; text-align: center; color: #595959; font-size: 0.85em; }
p.placeholder { color: #c00000; background: #fff2cc; }
figure { text-align: center; margin: 1em 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.9em; }
table { border-collapse: collapse; margin: 1em auto; }
td, th { border: 1px solid #999; padding: 0.2em 0.6em; white-space: nowrap; }
td.n { text-align: right; }
tr.total td { font-weight: bold; }
pre { font-size: 0.8em; background: #f5f5f5; padding: 0.5em; white-space: pre-wrap; }
"""


def html_text(blocks: list[Block], charts: dict[str, bytes]) -> str:
    """One self-contained page (charts embedded as data: URIs), readable offline."""
    esc = html.escape
    title = next((b.text for b in blocks if b.kind == "title"), "招商引资工作总结")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for block in blocks:
        if block.kind == "title":
            parts.append(f"<h1>{esc(block.text)}</h1>")
        elif block.kind == "meta":
            parts.append(f'<p class="meta">{esc(block.text)}</p>')
        elif block.kind == "heading":
            parts.append(f"<h2>{esc(block.text)}</h2>")
        elif block.kind == "paragraph":
            parts.append(f"<p>{esc(block.text)}</p>")
        elif block.kind == "placeholder":
            parts.append(f'<p class="placeholder">{esc(block.text)}</p>')
        elif block.kind == "code":
            parts.append(f"<pre>{esc(block.text)}</pre>")
        elif block.kind == "table":
            rows = []
            for r, row in enumerate(block.rows):
                tag = "th" if r == 0 else "td"
                css = ' class="total"' if row[0] == "合计" else ""
                cells = "".join(
                    f"<{tag}{' class=n' if c and r else ''}>{esc(v)}</{tag}>"
                    for c, v in enumerate(row)
                )
                rows.append(f"<tr{css}>{cells}</tr>")
            parts.append("<table>" + "".join(rows) + "</table>")
        elif block.kind == "chart":
            data = base64.b64encode(charts[block.chart]).decode("ascii")
            parts.append(
                f'<figure><img alt="{esc(block.text)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{esc(block.text)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)
