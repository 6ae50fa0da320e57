"""``<output>/index.html``: one page, opened from a file on an intranet, linking what was made.

Links the latest reports, workbooks, the dbt docs (a single static file), and a data-quality
page of our own (``data_quality.html``: flags by rule, unit and status, from the warehouse), since
GX's Data Docs fetch their CSS and JavaScript from the internet and render unstyled offline.
"""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from zhaoshang import publish, reference
from zhaoshang.queries import one_row
from zhaoshang.settings import Settings

_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:60em;
margin:2em auto;padding:0 1em;color:#222;line-height:1.6}h1{font-size:1.5em}
h2{font-size:1.15em;margin-top:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #aaa;padding:.2em .6em}th{background:#ddebf7}td.n{text-align:right}
.note{color:#595959;font-size:.9em}"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _table(headers: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{v}</td>'
            if isinstance(v, int | float)
            else f"<td>{html.escape('' if v is None else str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_data_quality_page(settings: Settings) -> Path:
    # Counts only, but quarantine lives in the inspection team's file (it holds raw values).
    with publish.open_inspection(settings) as con:
        by_rule = con.execute(
            """select rule, rule, count(*) filter (where status = 'open'),
                      count(*) filter (where status = 'confirmed'),
                      count(*) filter (where status = 'dismissed'), count(*)
               from audit.dq_flags group by 1, 2 order by 6 desc"""
        ).fetchall()
        by_unit = con.execute(
            """select year, unit_name, rule, count(*) from audit.dq_flags
               where status <> 'dismissed' group by all order by 1 desc, 4 desc, 2, 3"""
        ).fetchall()
        files = con.execute(
            "select status, count(*) from audit.load_log group by 1 order by 2 desc"
        ).fetchall()
        quarantined = con.execute(
            "select reason_zh, count(*) from audit.quarantine group by 1 order by 2 desc"
        ).fetchall()
        run = one_row(con.execute("select run_id, built_at from audit.manifest"))
    words = reference.rule_words()  # the office's words, one place (dq_rules.csv)
    by_rule = [(words.get(r[0], r[0]), *r[1:]) for r in by_rule]
    by_unit = [(y, u, words.get(r, r), n) for y, u, r, n in by_unit]
    body = (
        f'<p class="note">运行编号 {html.escape(str(run[0]))}，生成于 {run[1]:%Y-%m-%d %H:%M}。'
        "疑点的证据和处理见数据仓库 audit.dq_flags（python -m zhaoshang sql）。</p>"
        "<h2>疑点（按规则）</h2>"
        + _table(["规则", "代码", "待核", "已确认", "已排除", "合计"], by_rule)
        + "<h2>未排除的疑点（按单位）</h2>"
        + _table(["年份", "单位", "规则", "条数"], by_unit)
        + "<h2>文件</h2>"
        + _table(["状态", "文件数"], files)
        + "<h2>隔离的行（按原因）</h2>"
        + _table(["原因", "行数"], quarantined)
    )
    path = settings.output_dir / "data_quality.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, _page("数据质量", body))
    return path


def _links(folder: Path, pattern: str, root: Path) -> list[tuple[str, str]]:
    if not folder.exists():
        return []
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
    return [(p.name, quote(p.relative_to(root).as_posix())) for p in found]


def write_index(settings: Settings) -> Path:
    out = settings.output_dir
    write_data_quality_page(settings)
    sections = [
        ("工作总结（可在 Word/WPS 中修改）", _links(out / "reports", "*.docx", out)),
        ("工作总结（网页版）", _links(out / "reports", "*.html", out)),
        ("分析用工作簿（Excel，可打印）", _links(out / "exports", "*.xlsx", out)),
        (
            "数据说明与质量",
            [("数据质量（疑点、文件、隔离行）", "data_quality.html")]
            + (
                [("数据字典（dbt docs：表、列及其来历）", "dbt_docs/index.html")]
                if (out / "dbt_docs" / "index.html").exists()
                else []
            )
            + (
                [("Great Expectations 校验结果（Data Docs，样式需联网）", "data_docs/index.html")]
                if (out / "data_docs" / "index.html").exists()
                else []
            ),
        ),
    ]
    body = f'<p class="note">更新于 {datetime.now():%Y-%m-%d %H:%M}，数据仓库 {html.escape(str(settings.warehouse))}。</p>'
    for title, links in sections:
        items = "".join(
            f'<li><a href="{href}">{html.escape(label)}</a></li>' for label, href in links
        )
        body += f"<h2>{html.escape(title)}</h2><ul>{items or '<li>（暂无）</li>'}</ul>"
    path = out / "index.html"
    _write(path, _page("招商引资数据仓库 · 输出", body))
    return path
