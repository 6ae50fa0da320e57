"""Turn a failing feature row into what an inspector reads: severity, Chinese evidence, a stable key.

The sentences are the ``evidence_zh`` templates of ``dq_rules.csv``; their ``{placeholders}`` are
columns of ``int_dq_entries`` (the earlier report a row repeats, the units that claim it with
their shares, the numbers that disagree). Free text is PII-masked: a project name that carries a
phone number never reaches a flag, an e-mail or a workbook.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime
from decimal import Decimal

from zhaoshang.errors import mask_pii
from zhaoshang.quality.rules import SEVERITY_RANK, Rule

MISSING_VALUE = "未填"


def flag_key(rule: str, entry_id: str) -> str:
    """Stable across nights: the rule plus the entry's business key (file sha + sheet + row, or
    unit + year + month), so a flag keeps its key while the same file stays in the inbox."""
    return hashlib.sha256(f"{rule}|{entry_id}".encode()).hexdigest()[:32]


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:  # pandas NA / NaT
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def format_value(name: str, value: object, *, verbatim: bool = False) -> str:
    """A feature value as a Chinese sentence wants it: 1,200.5 (万元), 2021, 2021-03-05, 未填.

    Text is PII-masked unless ``verbatim`` (a USCC that passed its check digit: an 18-digit USCC
    looks like an ID number to the masker, and the inspector needs it whole).
    """
    if is_missing(value):
        return MISSING_VALUE
    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(sep=" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        grouping = "," if name.endswith("_wan") else ""
        if number.is_integer():
            return f"{int(number):{grouping}d}"
        return f"{number:{grouping}.4f}".rstrip("0").rstrip(".")
    return str(value) if verbatim else mask_pii(str(value))


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "？"


def row_fields(row: dict) -> dict[str, str]:
    uscc_ok = row.get("uscc_check_ok") is True or str(row.get("uscc_check_ok")) == "True"
    return _Fields(
        {k: format_value(k, v, verbatim=uscc_ok and k == "investor_uscc") for k, v in row.items()}
    )


def signals_of(rule: Rule, row: dict) -> list[str]:
    raw = row.get(rule.feature_column)
    if is_missing(raw):
        return []
    return [s.strip() for s in str(raw).split(",") if s.strip()]


def severity_of(rule: Rule, signals: list[str]) -> str:
    """The highest severity among the row's signals (an unknown signal counts at the rule's own)."""
    levels = [
        known.severity if (known := rule.signal(s)) is not None else rule.severity for s in signals
    ]
    return max(levels or [rule.severity], key=SEVERITY_RANK.__getitem__)


def evidence_of(rule: Rule, signals: list[str], row: dict) -> str:
    """The Chinese evidence: one sentence per signal, from the seed's templates.

    Every free-text field was masked in ``row_fields`` and the templates hold no personal data,
    so the assembled text is not masked again (that would mangle a valid all-digit USCC).
    """
    fields = row_fields(row)
    parts = []
    for name in signals:
        signal = rule.signal(name)
        if signal is None:  # the model emits a signal the seed does not describe yet
            parts.append(f"{rule.rule_zh}：{name}。")
        else:
            parts.append(signal.evidence_zh.format_map(fields))
    return "".join(parts)
