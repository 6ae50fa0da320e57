"""values.py directly: exact Decimal amounts, dates, text normalisation (no workbook needed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from zhaoshang.excel.values import (
    WAN_CNY,
    CellError,
    ColumnContext,
    ColumnConverter,
    Flagged,
    clean_text,
    parse_amount,
    parse_date,
    parse_unit,
)
from zhaoshang.reference import normalize_text

TODAY = date(2021, 6, 1)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0.12亿", "1200"),
        ("1.2亿", "12000"),
        ("500万元", "500"),
        ("３０００万", "3000"),
        ("1,234.5", "1234.5"),
        ("1，234.5", "1234.5"),
        ("1 234.5", "1234.5"),
        ("￥1200", "1200"),
        ("RMB1200", "1200"),
        ("人民币1200万元", "1200"),
        ("5000000元", "500"),
        ("1.2E+08元", "12000"),
        ("1.2e3", "1200"),
        ("'1200", "1200"),
        ("0.1", "0.1"),
        (0.1, "0.1"),
        (1200.0, "1200"),
        (3, "3"),
        ("3千万", "3000"),
        ("2百万元", "200"),
        ("800千元", "80"),
    ],
)
def test_amounts_are_exact(raw, expected):
    value = parse_amount(raw, WAN_CNY)
    assert isinstance(value, Decimal) and value == Decimal(expected)


@pytest.mark.parametrize(
    "raw, code",
    [
        ("500-800万", "E_AMOUNT_NOT_EXACT"),
        ("500～800", "E_AMOUNT_NOT_EXACT"),
        ("约500万", "E_AMOUNT_NOT_EXACT"),
        ("500万左右", "E_AMOUNT_NOT_EXACT"),
        ("500万以上", "E_AMOUNT_NOT_EXACT"),
        ("500多万", "E_AMOUNT_NOT_EXACT"),
        ("待定", "E_AMOUNT_NOT_EXACT"),
        (">500", "E_AMOUNT_NOT_EXACT"),
        ("100美元", "E_CURRENCY"),
        ("USD 100", "E_CURRENCY"),
        ("$100", "E_CURRENCY"),
        ("港币100", "E_CURRENCY"),
        ("100欧元", "E_CURRENCY"),
        ("-5", "E_NEGATIVE"),
        (-0.5, "E_NEGATIVE"),
        ("五百万", "E_NUMBER"),
        ("1,2", "E_NUMBER"),
        ("12,34,567", "E_NUMBER"),
        ("NaN", "E_NUMBER"),
        ("Infinity", "E_NUMBER"),
        (True, "E_NUMBER"),
        (date(2021, 1, 1), "E_NUMBER"),
        ("1e20", "E_NUMBER"),
    ],
)
def test_amount_problems(raw, code):
    with pytest.raises(CellError) as caught:
        parse_amount(raw, WAN_CNY)
    assert caught.value.code == code


def test_usd_column():
    usd = parse_unit("万美元")
    assert parse_amount("30万美元", usd) == Decimal(30)
    assert parse_amount("300000美元", usd) == Decimal(30)
    assert parse_amount(30, usd) == Decimal(30)
    with pytest.raises(CellError):
        parse_amount("30万元", usd)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2021-03-05", date(2021, 3, 5)),
        ("2021年3月5日", date(2021, 3, 5)),
        ("2021.3.5", date(2021, 3, 5)),
        ("2021/3/5", date(2021, 3, 5)),
        ("20210305", date(2021, 3, 5)),
        ("２０２１年３月５日", date(2021, 3, 5)),
        ("2021-03-05 00:00:00", date(2021, 3, 5)),
        ("2021年3月5号", date(2021, 3, 5)),
        (44260.0, date(2021, 3, 5)),
        (44260.75, date(2021, 3, 5)),
        (20210305, date(2021, 3, 5)),
        (date(2021, 3, 5), date(2021, 3, 5)),
    ],
)
def test_dates(raw, expected):
    assert parse_date(raw, date1904=False, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw, code",
    [
        ("21.3.5", "E_DATE_AMBIGUOUS"),
        ("3月5日", "E_DATE_AMBIGUOUS"),
        ("2021年3月", "E_DATE_AMBIGUOUS"),
        ("2021-03", "E_DATE_AMBIGUOUS"),
        ("2021年", "E_DATE_AMBIGUOUS"),
        ("2021年上半年", "E_DATE_AMBIGUOUS"),
        ("2021年3月中旬", "E_DATE_AMBIGUOUS"),
        (2021.3, "E_DATE_AMBIGUOUS"),
        ("2021年2月30日", "E_DATE_INVALID"),
        ("2021.13.1", "E_DATE_INVALID"),
        ("尽快", "E_DATE_INVALID"),
        (60, "E_DATE_RANGE"),
        (36525, "E_DATE_RANGE"),
        (44260 + 500, "E_DATE_RANGE"),
        (date(1900, 1, 5), "E_DATE_RANGE"),
        (-1, "E_DATE_RANGE"),
        (True, "E_DATE_INVALID"),
    ],
)
def test_date_problems(raw, code):
    with pytest.raises(CellError) as caught:
        parse_date(raw, date1904=False, today=TODAY)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "text",
    [
        "济阳镇",
        " 济阳镇 ",
        "济阳\u200b镇",
        "\ufeff财政局",
        "ＡＢＣ（一期）",
        "a\u3000 b\n c",
        "年产10万吨",
        "x\u00a0y",
        "①号",
    ],
)
def test_clean_text_matches_reference_normalize_text(text):
    assert clean_text(text)[0] == normalize_text(text)


def test_clean_text_reports_invisible_characters():
    assert clean_text("乙\x07项目") == ("乙项目", True)
    assert clean_text("乙\u200b项目") == ("乙项目", True)
    assert clean_text("乙项目") == ("乙项目", False)


def test_column_converter_memoises_and_flags():
    converter = ColumnConverter(ColumnContext(dtype="text"))
    out, has_special, has_none = converter.convert_all(["甲", "", "—", "=SUM(A1)", "甲"])
    assert out[0] == "甲" and out[1] is None and out[2] is None and out[4] == "甲"
    assert out[3] == Flagged("=SUM(A1)", "W_FORMULA_LIKE_TEXT")
    assert has_special and has_none
    yes_no = ColumnConverter(ColumnContext(dtype="yes_no"))
    out, _, _ = yes_no.convert_all([True, 1.0, "是", "否"])
    assert out[0] is True and out[2] is True and out[3] is False
    assert isinstance(out[1], CellError)  # 1.0 is not 是/否 (and must not hit True's cache slot)


def test_column_converter_cache_is_bounded(monkeypatch):
    from zhaoshang.excel import values

    monkeypatch.setattr(values, "_CACHE_LIMIT", 10)
    converter = ColumnConverter(ColumnContext(dtype="amount"))
    first, _, _ = converter.convert_all([float(k) for k in range(8)] + ["约5"])
    second, has_special, _ = converter.convert_all([1.0, 2.0] + [float(k) for k in range(100, 108)])
    assert second[:2] == [Decimal(1), Decimal(2)] and second[-1] == Decimal(107)
    assert not has_special  # the reset dropped 约5's CellError with the rest
    assert len(converter._cache) <= 11
    assert isinstance(first[-1], CellError)
