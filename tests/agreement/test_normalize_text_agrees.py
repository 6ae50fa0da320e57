"""Text normalisation has one implementation; Python and dbt's SQL give the same answers.

`zhaoshang.reference.normalize_text` is what the Excel reader (`excel.values.clean_text`), the
office CSV readers and dbt (`macros/normalize_text.sql` -> UDF `zs_normalize_text`, registered
by the dbt-duckdb plugin `zhaoshang.dbt_plugin`) all apply. The cases run through a real
`dbt show` of the macro, so a macro that stops calling the Python rule (or a profile without the
plugin) fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from zhaoshang.excel.values import clean_text
from zhaoshang.reference import normalize_key, normalize_text

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

# (as typed, normalised) — shared by both sides
CASES = [
    ("XX 项目", "XX 项目"),
    ("  前后空格  ", "前后空格"),
    ("电商物流\u3000中心", "电商物流 中心"),  # ideographic space
    ("电商\u200b物流", "电商物流"),  # zero-width space
    ("\ufeff济阳镇", "济阳镇"),  # BOM
    ("a\u200eb", "ab"),  # left-to-right mark
    ("软\u00adhyphen", "软hyphen"),  # soft hyphen
    ("ＡＢＣ１２３", "ABC123"),  # full-width ASCII (NFKC)
    ("（一期）", "(一期)"),  # full-width parentheses
    ("①号厂房", "1号厂房"),  # circled digit
    ("Ⅱ期", "II期"),  # Roman numeral sign
    ("100㎡厂房", "100m2厂房"),  # squared unit
    ("ｱｲｳ", "アイウ"),  # half-width katakana
    ("a\u00a0b", "a b"),  # no-break space
    ("a\t\t b\r\n", "a b"),
    ("a\x07b", "ab"),  # control character
    ("", ""),
]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def sql_results(tmp_path_factory) -> dict[int, tuple[str, str]]:
    """case index -> (normalize_text, normalize_text drop_spaces) as dbt's SQL computes them."""
    work = tmp_path_factory.mktemp("agreement")
    ledger = work / "ledger.duckdb"
    duckdb.connect(str(ledger)).close()
    values = ", ".join(f"({i}, {_literal(raw)})" for i, (raw, _) in enumerate(CASES))
    inline = (
        "select i, {{ normalize_text('t') }} as kept, "
        "{{ normalize_text('t', drop_spaces=true) }} as dropped "
        f"from (values {values}) as cases (i, t) order by i"
    )
    env = os.environ | {
        "ZHAOSHANG_BUILD_DB": str(work / "build.duckdb"),
        "ZHAOSHANG_LEDGER": str(ledger),
        "ZHAOSHANG_RAW_DIR": str(work / "raw"),
        "ZHAOSHANG_COUNTY_CODE": "411426",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "--quiet",
            "show",
            "--inline",
            inline,
            "--output",
            "json",
            "--limit",
            "-1",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        cwd=DBT_PROJECT_DIR,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    payload = json.loads(proc.stdout[proc.stdout.index("{") :])
    return {int(row["i"]): (row["kept"], row["dropped"]) for row in payload["show"]}


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_python_sides_agree(raw, expected):
    assert normalize_text(raw) == expected
    assert clean_text(raw)[0] == expected
    assert normalize_key(raw) == expected.replace(" ", "").upper()


def test_sql_calls_the_same_rule(sql_results):
    assert len(sql_results) == len(CASES)
    mismatches = {
        raw: (sql_results[i], expected)
        for i, (raw, expected) in enumerate(CASES)
        if sql_results[i] != (expected, expected.replace(" ", ""))
    }
    assert not mismatches, f"SQL (kept, dropped) != Python: {mismatches}"
