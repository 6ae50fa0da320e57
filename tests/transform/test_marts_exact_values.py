"""The marts of the fixture inbox (ledger_fixture.py), checked against numbers worked out by hand.

No flags and no optional office files here: the reported figures, the resubmission, the
withdrawn and duplicate files, 续建 and 金融贷款, the blank unit.
"""

from __future__ import annotations

from decimal import Decimal

from dbt_runner import query


def by_key(rows: list[dict], *key: str) -> dict:
    return {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r for r in rows}


def test_sector_summary_has_every_sector_every_month_with_new_funds_and_loans(plain_warehouse):
    rows = query(plain_warehouse, "select * from marts.sector_summary where year = 2021")
    got = {
        (r["month"], r["sector"]): (
            r["new_projects"],
            r["funds_wan"],
            r["share_pct"],
            r["continuing_funds_wan"],
        )
        for r in rows
    }
    assert got == {
        # January: the corrected file wins (高端纺织 120, not 100); 食用菌 is 续建 (first reported 2020).
        (1, "一产"): (0, 0, 0.0, 30),
        (1, "二产"): (2, 160, 76.1905, 0),
        (1, "三产"): (1, 50, 23.8095, 0),
        (1, "专项资金"): (0, 0, 0.0, 0),
        (1, "金融贷款"): (0, 0, 0.0, 0),
        # February, year to date: the withdrawn file's 9999 is not there; 高端纺织 counts 50 % of
        # its 80; 电商物流 中心 is the same project as 电商物流中心; 农村公路专项 is claimed by two
        # units (two projects as reported). Shares of 1430.
        (2, "一产"): (0, 0, 0.0, 40),
        (2, "二产"): (2, 260, 18.1818, 0),
        (2, "三产"): (1, 70, 4.8951, 0),
        (2, "专项资金"): (2, 600, 41.958, 0),
        (2, "金融贷款"): (0, 500, 34.965, 0),
    }


def test_the_spine_ends_at_the_latest_month_the_inbox_holds(plain_warehouse):
    months = query(
        plain_warehouse,
        "select year, max(month) as m from marts.sector_summary group by 1 order by 1",
    )
    assert [(r["year"], r["m"]) for r in months] == [(2020, 12), (2021, 2)]


def test_size_bands_count_new_projects_only(plain_warehouse):
    rows = query(
        plain_warehouse, "select * from marts.size_band_summary where year = 2021 and month = 2"
    )
    got = {r["size_band"]: (r["new_projects"], r["funds_wan"], r["major_projects"]) for r in rows}
    assert got == {
        "<300": (1, 70, 0),
        "300-499": (1, 100, 0),
        "500-999": (1, 160, 0),
        ">=1000": (2, 600, 2),
    }


def test_unit_performance_scores_ranks_and_schedule(plain_warehouse):
    rows = by_key(
        query(plain_warehouse, "select * from marts.unit_performance where year = 2021"),
        "month",
        "unit_name",
    )
    feb = {u: rows[(2, u)] for u in ("济阳镇", "骆集乡", "农行", "烟草局")}
    # 70 × funds / (target × 2/12) + 30 × new / (target_projects × 2/12)
    assert {
        u: (r["new_projects"], r["funds_wan"], r["continuing_funds_wan"], r["score"], r["rank"])
        for u, r in feb.items()
    } == {
        "济阳镇": (3, 530, 40, 230.5, 2),  # 70 × 530/200 + 30 × 3/2
        "骆集乡": (2, 400, 0, 340.0, 1),  # 70 × 400/100 + 30 × 2/1
        "农行": (0, 500, 0, 87.5, 3),  # 70 × 500/400; no project target
        "烟草局": (0, 0, 0, 0.0, 4),  # 空白
    }
    assert feb["济阳镇"]["completion_pct"] == 44.1667  # 530 / 1200
    assert feb["济阳镇"]["elapsed_pct"] == 16.6667
    assert feb["济阳镇"]["schedule_gap_pct"] == 27.5  # 44.1667 − 16.6667
    assert feb["济阳镇"]["schedule_status_zh"] == "超进度"
    assert feb["烟草局"]["schedule_gap_pct"] == -16.6667
    assert feb["烟草局"]["schedule_status_zh"] == "欠进度"
    assert [feb[u]["reported_this_month"] for u in ("济阳镇", "骆集乡", "农行", "烟草局")] == [
        True,
        True,
        True,
        False,
    ]
    assert [feb[u]["is_blank"] for u in ("济阳镇", "骆集乡", "农行", "烟草局")] == [
        False,
        False,
        False,
        True,
    ]
    # January: 农行 has not reported yet, so it is blank and ties with 烟草局.
    jan = {u: rows[(1, u)] for u in ("济阳镇", "骆集乡", "农行", "烟草局")}
    assert {u: (r["score"], r["rank"], r["is_blank"]) for u, r in jan.items()} == {
        "济阳镇": (179.0, 1, False),
        "骆集乡": (116.0, 2, False),
        "农行": (0.0, 3, True),
        "烟草局": (0.0, 3, True),
    }
    # Without flags or decisions the verified figures are the reported ones.
    for r in rows.values():
        assert (r["verified_funds_wan"], r["verified_new_projects"], r["verified_score"]) == (
            r["funds_wan"],
            r["new_projects"],
            r["score"],
        )
        assert (r["bonus_points"], r["penalty_points"], r["open_flags"]) == (0, 0, 0)


def test_a_unit_reporting_without_a_roster_row_still_counts(plain_warehouse):
    rows = query(
        plain_warehouse, "select * from marts.unit_performance where year = 2020 and month = 12"
    )
    assert [
        (r["unit_name"], r["is_on_roster"], r["new_projects"], r["funds_wan"], r["score"])
        for r in rows
    ] == [("济阳镇", False, 1, 200, 0.0)]


def test_project_register_one_row_per_reported_project_without_personal_data(plain_warehouse):
    rows = by_key(
        query(plain_warehouse, "select * from marts.project_register"), "unit_name", "project_name"
    )
    assert len(rows) == 7
    mushroom = rows[("济阳镇", "食用菌种植基地")]
    assert (mushroom["first_reported_year"], str(mushroom["first_reported_month"])) == (
        2020,
        "2020-12-01",
    )
    assert (mushroom["project_kind"], mushroom["funds_to_date_wan"], mushroom["size_band"]) == (
        "续建",
        240,
        ">=1000",
    )
    logistics = rows[("济阳镇", "电商物流 中心")]  # as last written
    assert (logistics["funds_to_date_wan"], logistics["size_band"], logistics["source_file"]) == (
        70,
        "<300",
        "submissions/济阳镇/2月.xlsx",
    )
    textile = rows[("济阳镇", "高端纺织项目")]
    assert (textile["funds_to_date_wan"], textile["credit_share_pct"]) == (
        160,
        50,
    )  # 120 + 50 % of 80
    loan = rows[("农行", "流动资金贷款")]
    assert (loan["size_band"], loan["is_major"]) == (None, False)  # a loan is not a project to band
    road = rows[("济阳镇", "农村公路专项")]
    assert (road["is_major"], road["funds_to_date_wan"]) == (True, 300)
    columns = query(
        plain_warehouse,
        "select column_name from information_schema.columns where table_schema in "
        "('staging', 'intermediate', 'marts', 'audit') and column_name = 'contact'",
    )
    assert columns == []


def test_load_log_gives_every_inbox_file_a_status(plain_warehouse):
    rows = query(
        plain_warehouse,
        "select source_file, status, superseded_by, rows_read, rows_loaded, "
        "rows_quarantined, rows_ignored_blank from audit.load_log",
    )
    got = {r["source_file"]: r["status"] for r in rows}
    assert got == {
        "submissions/2020/济阳镇2020年12月.xlsx": "loaded",
        "submissions/济阳镇/1月.xlsx": "superseded",
        "submissions/济阳镇/1月更正.xlsx": "loaded",
        "submissions/济阳镇/2月.xlsx": "loaded",
        "submissions/济阳镇/2月再次更正.xlsx": "withdrawn",
        "submissions/骆集乡/2021-01.xlsx": "loaded",
        "submissions/备份/骆集乡2021-01(1).xlsx": "duplicate",
        "submissions/骆集乡/2021-02.xlsx": "loaded",
        "submissions/农行/2月.xlsx": "loaded",
        "submissions/不明单位.xlsx": "rejected",
    }
    superseded = next(r for r in rows if r["status"] == "superseded")
    assert superseded["superseded_by"] == "submissions/济阳镇/1月更正.xlsx"
    feb = next(r for r in rows if r["source_file"] == "submissions/济阳镇/2月.xlsx")
    assert (
        feb["rows_read"],
        feb["rows_loaded"],
        feb["rows_quarantined"],
        feb["rows_ignored_blank"],
    ) == (6, 4, 1, 1)


def test_quarantine_keeps_address_and_reasons(plain_warehouse):
    rows = query(plain_warehouse, "select * from audit.quarantine order by decision")
    assert [
        (
            r["decision"],
            r["source_file"],
            r["sheet"],
            r["row_number"],
            r["column_name"],
            r["reason_code"],
        )
        for r in rows
    ] == [
        (
            "QUARANTINE-ROW",
            "submissions/济阳镇/2月.xlsx",
            "进度月报",
            9,
            "funds_period_wan",
            "E_CELL_ERROR",
        ),
        ("REJECT-FILE", "submissions/不明单位.xlsx", None, None, None, "E_UNKNOWN_UNIT"),
    ]
    assert all(r["reason_zh"] and r["reason_en"] for r in rows)


def test_absent_optional_office_files_mean_no_decisions_and_no_adjustments(plain_warehouse):
    assert query(plain_warehouse, "select * from staging.stg_reference__flag_decisions") == []
    assert query(plain_warehouse, "select * from staging.stg_reference__score_adjustments") == []
    assert query(plain_warehouse, "select * from audit.dq_flags") == []


def test_amounts_stay_exact_decimals(plain_warehouse):
    (row,) = query(
        plain_warehouse,
        "select funds_wan from marts.unit_performance "
        "where year = 2021 and month = 2 and unit_name = '济阳镇'",
    )
    assert row["funds_wan"] == Decimal(530)
