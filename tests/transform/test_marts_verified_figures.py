"""Flags, the inspection team's decisions and the office's bonuses/penalties (flagged_warehouse).

Flags (conftest.GX_FLAGS): 以旧充新 on both rows of 电商物流中心 (January confirmed, February
open), 拼凑挂靠 on 农村公路专项 claimed by 济阳镇 and 骆集乡 in February, 以小充大 on 服装加工厂
(dismissed: the later decision wins), 以小充大 on a row of the superseded January file, an
invalid USCC on 农行's loan (confirmed; not blocking), 漏报 for 烟草局 in January and February.
Adjustments: 骆集乡 +2, 济阳镇 −5, 烟草局 +3 (blank: stays 0).
"""

from __future__ import annotations

from dbt_runner import query


def test_flag_status_comes_from_the_latest_decision(flagged_warehouse):
    rows = query(
        flagged_warehouse, "select flag_key, status, decided_by, is_blocking from audit.dq_flags"
    )
    got = {r["flag_key"]: (r["status"], r["decided_by"], r["is_blocking"]) for r in rows}
    assert got == {
        "k_old_b_jan": ("confirmed", "王督查", True),
        "k_old_b_feb": ("open", None, True),
        "k_dup_jy": ("open", None, True),
        "k_dup_lj": ("open", None, True),
        "k_inflated_e": ("dismissed", "李督查", True),
        "k_inflated_e_contract": ("dismissed", "李督查", True),  # via its rule_flag_key
        "k_superseded": ("open", None, True),
        "k_uscc_loan": ("confirmed", "李督查", False),
        "k_missing_jan": ("open", None, False),
        "k_missing_feb": ("open", None, False),
    }


def test_flags_carry_the_rule_and_signal_in_chinese(flagged_warehouse):
    rows = query(
        flagged_warehouse,
        "select rule_zh, signal, signal_zh from audit.dq_flags where flag_key = 'k_dup_lj'",
    )
    assert rows[0]["rule_zh"] == "拼凑挂靠"
    assert rows[0]["signal"] == "shares_over_100"
    assert rows[0]["signal_zh"].startswith("同一项目")


def test_every_flag_has_chinese_rule_and_signal_names_one_row_per_signal(flagged_warehouse):
    rows = query(flagged_warehouse, "select flag_key, rule_zh, signal_zh from audit.dq_flags")
    assert len(rows) == 10
    assert [r["flag_key"] for r in rows if not r["rule_zh"] or not r["signal_zh"]] == []
    names = {r["flag_key"]: (r["rule_zh"], r["signal_zh"]) for r in rows}
    assert names["k_inflated_e"] == ("以小充大", "累计到位资金超过计划总投资")
    assert names["k_inflated_e_contract"] == ("以小充大", "累计到位资金超过合同引资额")


def test_verified_exclusions_list_the_rows_left_out(flagged_warehouse):
    rows = query(
        flagged_warehouse,
        "select unit_name, month, project_name, rules, credited_funds_period_wan "
        "from audit.verified_exclusions order by month, unit_name",
    )
    assert [tuple(r.values()) for r in rows] == [
        ("济阳镇", 1, "电商物流中心", "OLD_AS_NEW", 50),
        ("济阳镇", 2, "电商物流 中心", "OLD_AS_NEW", 20),
        # counted once, for 济阳镇 (same month; 济阳镇 sorts first): 骆集乡's claim is left out
        ("骆集乡", 2, "农村公路专项", "DUPLICATE_CLAIM", 300),
    ]


def test_unit_performance_reported_and_verified_side_by_side(flagged_warehouse):
    rows = query(flagged_warehouse, "select * from marts.unit_performance where year = 2021")
    got = {(r["month"], r["unit_name"]): r for r in rows}
    columns = (
        "funds_wan",
        "new_projects",
        "base_score",
        "bonus_points",
        "penalty_points",
        "score",
        "rank",
        "verified_funds_wan",
        "verified_new_projects",
        "verified_score",
        "verified_rank",
        "open_flags",
        "confirmed_flags",
    )
    table = {k: tuple(r[c] for c in columns) for k, r in got.items()}
    # 济阳镇: 230.5 − 5; verified without both rows of 电商物流中心 (50 + 20):
    # 70 × 460/200 + 30 × 2/2 − 5 = 186.
    assert table[(2, "济阳镇")] == (530, 3, 230.5, 0, 5, 225.5, 2, 460, 2, 186.0, 1, 3, 1)
    # 骆集乡: 340 + 2; verified without its claim on 农村公路专项: 70 × 100/100 + 30 × 1/1 + 2 = 102.
    assert table[(2, "骆集乡")] == (400, 2, 340.0, 2, 0, 342.0, 1, 100, 1, 102.0, 2, 1, 0)
    assert table[(2, "农行")] == (500, 0, 87.5, 0, 0, 87.5, 3, 500, 0, 87.5, 3, 0, 1)
    assert table[(2, "烟草局")] == (0, 0, 0.0, 3, 0, 0.0, 4, 0, 0, 0.0, 4, 2, 0)
    # January: 济阳镇 179 − 5; verified without 电商物流中心's 50: 70 × 120/100 + 30 × 1/1 − 5 = 109.
    assert table[(1, "济阳镇")] == (170, 2, 179.0, 0, 5, 174.0, 1, 120, 1, 109.0, 2, 1, 1)
    assert table[(1, "骆集乡")] == (40, 1, 116.0, 2, 0, 118.0, 2, 40, 1, 118.0, 1, 0, 0)


def test_sector_figures_stay_as_reported(flagged_warehouse, plain_warehouse):
    sql = "select year, month, sector, new_projects, funds_wan, share_pct from marts.sector_summary order by all"
    assert query(flagged_warehouse, sql) == query(plain_warehouse, sql)


def test_optional_files_present_are_read(flagged_warehouse):
    adjustments = query(
        flagged_warehouse,
        "select unit_name, adjustment_kind, points "
        "from staging.stg_reference__score_adjustments order by adjustment_number",
    )
    assert [tuple(r.values()) for r in adjustments] == [
        ("骆集乡", "bonus", 2),
        ("济阳镇", "penalty", 5),
        ("烟草局", "bonus", 3),
    ]
