"""Two warehouses built once per session from the hand-checkable fixture ledger:

- ``plain_warehouse``: no flags, no optional office files (flag_decisions.csv and
  score_adjustments.csv absent);
- ``flagged_warehouse``: quality flags, the inspection team's decisions and the office's
  bonuses and penalties present.

Both are built concurrently (each dbt call is a subprocess) to keep the suite short.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import dbt_runner
import ledger_fixture

FLAG_DECISIONS_CSV = """flag_key,decision,decided_by,decided_at,note
k_old_b_jan,confirmed,王督查,2021-03-10,已核实：往年项目
k_inflated_e,confirmed,王督查,2021-03-10 09:00,
k_inflated_e,dismissed,李督查,2021-03-12 15:30,银行进账单齐全
k_uscc_loan,Confirmed ,李督查,2021-03-11,
k_not_a_flag,dismissed,李督查,2021-03-11,没有这条疑点
"""

SCORE_ADJUSTMENTS_CSV = """year,unit_name,kind,points,reason
2021,骆集乡,bonus,2,引进重大项目
2021,济阳镇,penalty,5,弄虚作假
2021,烟草局,加分,3,空白单位也不得分
"""


SIGNALS = {
    "OLD_AS_NEW": "earlier_year_same_project",
    "DUPLICATE_CLAIM": "shares_over_100",
    "INFLATED_AMOUNT": "above_total_investment",
    "INVALID_USCC": "check_digit_mismatch",
    "MISSING_REPORT": "no_report",
}


def _flag(
    key, rule, unit, year, month, project, sha, row, severity="high", signal=None, rule_key=None
) -> dict:
    """A dq.gx_flags row as zhaoshang.quality.validation writes it."""
    return {
        "flag_key": key,
        "rule_flag_key": rule_key or f"rule_{key}",
        "rule": rule,
        "severity": severity,
        "signal": signal or SIGNALS[rule],
        "unit_name": unit,
        "year": year,
        "month": month,
        "project_name": project,
        "submission_id": sha,
        "source_file": next(iter(ledger_fixture.SUBMISSIONS[sha][6])) if sha else None,
        "sheet": "进度月报" if row else None,
        "row_number": row,
        "evidence": f"测试证据 {key}",
        "entry_id": f"entry_{key}",
        "detected_run_id": "run_test",
    }


# fmt: off
GX_FLAGS = [
    _flag("k_old_b_jan", "OLD_AS_NEW", "济阳镇", 2021, 1, "电商物流中心", "sha_jy_2021_01_fix", 6),
    _flag("k_old_b_feb", "OLD_AS_NEW", "济阳镇", 2021, 2, "电商物流 中心", "sha_jy_2021_02", 6),
    _flag("k_dup_jy", "DUPLICATE_CLAIM", "济阳镇", 2021, 2, "农村公路专项", "sha_jy_2021_02", 8),
    _flag("k_dup_lj", "DUPLICATE_CLAIM", "骆集乡", 2021, 2, "农村公路专项", "sha_lj_2021_02", 6),
    _flag("k_inflated_e", "INFLATED_AMOUNT", "骆集乡", 2021, 2, "服装加工厂", "sha_lj_2021_02", 5, signal="above_total_investment"),
    # the same row's second signal; decisions filed under its pre-split key (k_inflated_e) hold
    _flag("k_inflated_e_contract", "INFLATED_AMOUNT", "骆集乡", 2021, 2, "服装加工厂", "sha_lj_2021_02", 5, "medium", signal="above_contract", rule_key="k_inflated_e"),
    _flag("k_superseded", "INFLATED_AMOUNT", "济阳镇", 2021, 1, "高端纺织项目", "sha_jy_2021_01_orig", 5),
    _flag("k_uscc_loan", "INVALID_USCC", "农行", 2021, 2, "流动资金贷款", "sha_nh_2021_02", 5, "medium"),
    _flag("k_missing_jan", "MISSING_REPORT", "烟草局", 2021, 1, None, None, None, "medium"),
    _flag("k_missing_feb", "MISSING_REPORT", "烟草局", 2021, 2, None, None, None, "medium"),
]
# fmt: on


def _scenario(root: Path, *, flagged: bool) -> dbt_runner.Build:
    raw = root / "raw"
    ledger_fixture.write_units(raw)
    ledger = root / "ledger.duckdb"
    ledger_fixture.write_ledger(ledger)
    if flagged:
        (raw / "reference" / "flag_decisions.csv").write_text(FLAG_DECISIONS_CSV, encoding="utf-8")
        (raw / "reference" / "score_adjustments.csv").write_text(
            SCORE_ADJUSTMENTS_CSV, encoding="utf-8"
        )
    return dbt_runner.build_two_passes(
        ledger=ledger, raw_dir=raw, work_dir=root / "build", gx_flags=GX_FLAGS if flagged else ()
    )


@pytest.fixture(scope="session")
def _warehouses(tmp_path_factory) -> dict[str, dbt_runner.Build]:
    roots = {name: tmp_path_factory.mktemp(name) for name in ("plain", "flagged")}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(_scenario, root, flagged=(name == "flagged"))
            for name, root in roots.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="session")
def plain_warehouse(_warehouses) -> dbt_runner.Build:
    return _warehouses["plain"]


@pytest.fixture(scope="session")
def flagged_warehouse(_warehouses) -> dbt_runner.Build:
    return _warehouses["flagged"]
