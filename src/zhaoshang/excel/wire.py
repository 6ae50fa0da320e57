"""The compact form in which a ParsedSubmission crosses the sandbox boundary.

Pickling 20,000 ParsedRow objects one by one (a dict, Decimals and dates each) costs about
as much as parsing them. Rows travel column by column instead, as plain builtins: amounts as
decimal strings, dates as ordinals. The parent rebuilds the same objects, so
``decode(encode(s)) == s``. Only builtins and ``Problem`` are pickled, which keeps the parent's
allow-listed unpickler small.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from zhaoshang.excel.headers import header_index
from zhaoshang.excel.model import ParsedRow, ParsedSubmission

_DECIMAL_DTYPES = frozenset({"amount", "percent"})
_SCALARS = [
    f.name for f in fields(ParsedSubmission) if f.name not in ("rows", "total_row", "report_date")
]


def _dtype(name: str) -> str:
    spec = header_index().specs.get(name)
    return spec.dtype if spec else "text"


def _encode_column(dtype: str, values: list[Any]) -> list[Any]:
    if dtype in _DECIMAL_DTYPES:
        return [None if v is None else str(v) for v in values]
    if dtype == "date":
        return [None if v is None else v.toordinal() for v in values]
    return values


def _decode_column(dtype: str, values: list[Any]) -> list[Any]:
    if dtype in _DECIMAL_DTYPES:
        cache: dict[str, Decimal] = {}
        return [
            None if v is None else cache.get(v) or cache.setdefault(v, Decimal(v)) for v in values
        ]
    if dtype == "date":
        return [None if v is None else date.fromordinal(v) for v in values]
    return values


def encode(submission: ParsedSubmission) -> dict[str, Any]:
    rows = submission.rows
    names = list(rows[0].values) if rows else []
    uniform = all(list(r.values) == names for r in rows)
    out: dict[str, Any] = {name: getattr(submission, name) for name in _SCALARS}
    out["report_date"] = submission.report_date.toordinal() if submission.report_date else None
    out["total_row"] = _encode_row(submission.total_row) if submission.total_row else None
    if not uniform:  # never produced by the reader; kept correct anyway
        out["_rows"] = [_encode_row(r) for r in rows]
        return out
    out["_names"] = names
    out["_row_numbers"] = [r.row_number for r in rows]
    out["_columns"] = [_encode_column(_dtype(n), [r.values[n] for r in rows]) for n in names]
    out["_problems"] = {
        k: (r.problems, r.raw_values) for k, r in enumerate(rows) if r.problems or r.raw_values
    }
    return out


def decode(data: dict[str, Any]) -> ParsedSubmission:
    scalars = {name: data[name] for name in _SCALARS}
    report_date = date.fromordinal(data["report_date"]) if data["report_date"] is not None else None
    total = _decode_row(data["total_row"]) if data["total_row"] else None
    if "_rows" in data:
        rows = [_decode_row(r) for r in data["_rows"]]
    else:
        names = data["_names"]
        columns = [
            _decode_column(_dtype(n), c) for n, c in zip(names, data["_columns"], strict=False)
        ]
        rows = [
            ParsedRow(n, dict(zip(names, values, strict=False)))
            for n, values in zip(data["_row_numbers"], zip(*columns, strict=False), strict=False)
        ]
        if not names:
            rows = [ParsedRow(n, {}) for n in data["_row_numbers"]]
        for k, (problems, raw_values) in data["_problems"].items():
            rows[k].problems, rows[k].raw_values = problems, raw_values
    return ParsedSubmission(report_date=report_date, rows=rows, total_row=total, **scalars)


def _encode_row(row: ParsedRow) -> tuple[Any, ...]:
    values = {n: _encode_column(_dtype(n), [v])[0] for n, v in row.values.items()}
    return row.row_number, values, row.problems, row.raw_values


def _decode_row(data: tuple[Any, ...]) -> ParsedRow:
    row_number, values, problems, raw_values = data
    decoded = {n: _decode_column(_dtype(n), [v])[0] for n, v in values.items()}
    return ParsedRow(row_number, decoded, problems, raw_values)
