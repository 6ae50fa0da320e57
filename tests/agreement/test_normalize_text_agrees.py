"""Text normalisation has one implementation; Python and dbt's SQL give the same answers.

`zhaoshang.reference.normalize_text` is what the Excel reader (`excel.values.clean_text`), the
office CSV readers and dbt (`macros/normalize_text.sql` -> UDF `zs_normalize_text`, registered
by the dbt-duckdb plugin `zhaoshang.dbt_plugin`) all apply. The cases run through a real
`dbt show` of the macro, so a macro that stops calling the Python rule (or a profile without the
plugin) fails here.
"""

from __future__ import annotations

import pytest
from dbt_show import dbt_show, literal

from zhaoshang.excel.values import clean_text
from zhaoshang.reference import normalize_key, normalize_text

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


@pytest.fixture(scope="module")
def sql_results(tmp_path_factory) -> dict[int, tuple[str, str]]:
    """case index -> (normalize_text, normalize_text drop_spaces) as dbt's SQL computes them."""
    values = ", ".join(f"({i}, {literal(raw)})" for i, (raw, _) in enumerate(CASES))
    rows = dbt_show(
        "select i, {{ normalize_text('t') }} as kept, "
        "{{ normalize_text('t', drop_spaces=true) }} as dropped "
        f"from (values {values}) as cases (i, t) order by i",
        tmp_path_factory.mktemp("agreement"),
    )
    return {int(row["i"]): (row["kept"], row["dropped"]) for row in rows}


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
