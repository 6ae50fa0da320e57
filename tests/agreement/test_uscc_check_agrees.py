"""The USCC check (GB 32100-2015): the flag rules' SQL (macros/uscc.sql, used by
int_dq_uscc_checks) and the generator's Python (zhaoshang.generate.uscc) agree on shared cases,
so a generated "valid" investor is valid to the rules and a corrupted one is caught."""

from __future__ import annotations

import random

import pytest
from dbt_show import dbt_show, literal

from zhaoshang.generate.uscc import corrupt_check_char, is_valid_uscc, make_uscc, uscc_check_char

_RNG = random.Random(20211)
GENERATED = [make_uscc("411426", _RNG) for _ in range(6)] + [
    make_uscc("320500", _RNG, prefix="93") for _ in range(2)
]
CASES = [
    *GENERATED,
    *(corrupt_check_char(code) for code in GENERATED[:3]),
    "91320500MA1PAK016R",  # check character should be Q
    "91320500MA1PAK016Q",
    "91411426MA44AB",  # too short
    "91411426MA44FRM14WX",  # too long
    "9141142AMA44FRM14W",  # a letter among the region digits
    "91411426MA44FRMI4W",  # I is not a USCC character
    "91411426MA44FRM0OW",  # nor O
    "91411426MA44FRMS4W",  # nor S
]


@pytest.fixture(scope="module")
def sql_checks(tmp_path_factory) -> dict[str, tuple[bool, str | None]]:
    values = ", ".join(f"({literal(code)})" for code in CASES)
    rows = dbt_show(
        "select code, {{ uscc_format_ok('code') }} as format_ok, "
        "case when {{ uscc_format_ok('code') }} "
        "then {{ uscc_expected_check_char('code') }} end as expected_check "
        f"from (values {values}) as cases (code)",
        tmp_path_factory.mktemp("uscc"),
    )
    return {row["code"]: (bool(row["format_ok"]), row["expected_check"]) for row in rows}


def test_cases_include_both_answers():
    assert {is_valid_uscc(code) for code in CASES} == {True, False}


@pytest.mark.parametrize("code", CASES)
def test_sql_and_python_agree(sql_checks, code):
    format_ok, expected_check = sql_checks[code]
    sql_valid = format_ok and expected_check == code[17]
    assert sql_valid == is_valid_uscc(code)
    if format_ok:
        assert expected_check == uscc_check_char(code[:17])
