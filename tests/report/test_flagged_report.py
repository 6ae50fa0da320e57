"""Where the flags change the figures: the anomalies scenario (every rule planted, with 2020
history) through one real nightly run. The report states the reported figures and the verified
ones beside them, drafts 存在问题 from the flags in the office's words with the units concerned,
and the workbook shows both; the marts start at the first month with data."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.report.readback import docx_text, html_text
from zhaoshang import reference
from zhaoshang.report.draft import wan


def _one(warehouse: Path, sql: str):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_marts_start_at_the_first_month_with_data(flagged_night):
    warehouse = flagged_night["settings"].warehouse
    first = min((p.year, p.month) for p in flagged_night["truth"].periods)
    assert first == (2020, 10)
    for table in ("sector_summary", "size_band_summary", "unit_performance"):
        got = _one(warehouse, f"select min(year * 100 + month) from marts.{table}")[0][0]
        assert got == 202010, table
    months_2021 = _one(
        warehouse, "select distinct month from marts.sector_summary where year = 2021 order by 1"
    )
    assert [m for (m,) in months_2021] == [1, 2, 3]  # later years still start in January


def test_verified_beside_reported_in_sector_and_size_band_marts(flagged_night):
    warehouse = flagged_night["settings"].warehouse
    rows = _one(
        warehouse,
        """select sum(new_projects), sum(verified_new_projects), sum(funds_wan),
                  sum(verified_funds_wan), sum(continuing_funds_wan),
                  sum(verified_continuing_funds_wan)
           from marts.sector_summary where year = 2021 and month = 3""",
    )[0]
    projects, v_projects, funds, v_funds, continuing, v_continuing = rows
    assert v_projects < projects and v_funds < funds  # planted 以旧充新 / 拼凑挂靠 / 以小充大
    assert v_continuing < continuing  # the 元-typed-as-万元 row sits in 续建 funds
    units = _one(
        warehouse,
        """select sum(verified_new_projects), sum(verified_funds_wan)
           from marts.unit_performance where year = 2021 and month = 3""",
    )[0]
    assert units == (v_projects, v_funds)
    bands = _one(
        warehouse,
        """select sum(new_projects), sum(verified_new_projects) from marts.size_band_summary
           where year = 2021 and month = 3""",
    )[0]
    assert bands[1] < bands[0]


@pytest.fixture(scope="module")
def report_texts(flagged_night):
    written = flagged_night["summary"]["report"]
    assert (written["year"], written["month"]) == (2021, 3)
    return docx_text(Path(written["docx"])), html_text(Path(written["html"]))


def test_the_report_states_verified_figures_where_they_differ(flagged_night, report_texts):
    warehouse = flagged_night["settings"].warehouse
    projects, v_projects, funds, v_funds, continuing, v_continuing = _one(
        warehouse,
        """select sum(new_projects), sum(verified_new_projects), sum(funds_wan),
                  sum(verified_funds_wan), sum(continuing_funds_wan),
                  sum(verified_continuing_funds_wan)
           from marts.sector_summary where year = 2021 and month = 3""",
    )[0]
    for text in report_texts:
        assert f"全县共引进项目{projects}个，实际到位资金{wan(funds)}万元" in text
        assert (
            f"核实数为：引进项目{v_projects}个（报送数{projects}个），"
            f"实际到位资金{wan(v_funds)}万元（报送数{wan(funds)}万元）" in text
        )
        assert (
            f"续建项目本年到位资金{wan(continuing)}万元，其中"
            f"{wan(Decimal(continuing) - Decimal(v_continuing))}万元在未排除的疑点行中，"
            f"核实数为{wan(v_continuing)}万元" in text
        )
        assert "核实数与报送数一致" not in text


def test_problems_are_drafted_from_the_flags_by_rule_with_their_units(flagged_night, report_texts):
    warehouse = flagged_night["settings"].warehouse
    flags = _one(
        warehouse,
        """select rule, count(*), list(distinct unit_name order by unit_name)
           from audit.dq_flags
           where year = 2021 and coalesce(month, 1) <= 3 and status <> 'dismissed'
           group by 1""",
    )
    words = reference.rule_words()
    flags = [(words[rule], count, units) for rule, count, units in flags]
    words = {rule_zh for rule_zh, _n, _u in flags}
    assert {"以旧充新", "以小充大", "拼凑挂靠"} <= words
    for text in report_texts:
        problems = text[text.index("三、存在问题") : text.index("四、工作措施")]
        for rule_zh, count, units in flags:
            match = re.search(re.escape(f"{rule_zh}{count}条") + r"（涉及([^）]+)）", problems)
            assert match, rule_zh
            named = set(match.group(1).rstrip("等").split("、"))
            assert named <= set(units) and (len(units) > 8 or named == set(units)), rule_zh
        total = sum(n for _r, n, _u in flags)
        assert f"质量检查发现未排除的疑点{total}条" in problems


def test_the_workbook_shows_verified_beside_reported_and_the_flags(flagged_night):
    import openpyxl

    warehouse = flagged_night["settings"].warehouse
    book = openpyxl.load_workbook(flagged_night["summary"]["export"]["path"])
    sheet = book["按产业"]
    headings = [c.value for c in sheet[3]]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    marts = {
        sector: (funds, v_funds)
        for sector, funds, v_funds in _one(
            warehouse,
            """select sector, funds_wan, verified_funds_wan from marts.sector_summary
               where year = 2021 and month = 3""",
        )
    }
    reported, verified = (
        headings.index("实际到位资金（万元）"),
        headings.index("核实到位资金（万元）"),
    )
    differing = [s for s, (f, v) in marts.items() if f != v]
    assert differing
    for sector, (funds, v_funds) in marts.items():
        assert rows[sector][reported] == pytest.approx(float(funds))
        assert rows[sector][verified] == pytest.approx(float(v_funds))
    flags = _one(
        warehouse,
        "select count(*) from audit.dq_flags where year = 2021 and coalesce(month, 1) <= 3",
    )[0][0]
    flag_rows = [r for r in book["疑点"].iter_rows(min_row=4, values_only=True) if any(r)]
    assert len(flag_rows) == flags
    # the 2021 register holds no project first reported in 2020 among the year's new projects
    new_sheet = book["本年新引进"]
    first_col = [c.value for c in new_sheet[3]].index("首次报送月份")
    firsts = [
        r[first_col] for r in new_sheet.iter_rows(min_row=4, values_only=True) if r[0] != "合计"
    ]
    assert firsts and all(f.year == 2021 for f in firsts if f is not None)
