"""Turn a failing feature row into what an inspector reads: severity, Chinese evidence, a stable key.

The sentences are the ``evidence_zh`` templates of ``dq_rules.csv``, one per flag (entry × rule ×
signal); their ``{placeholders}`` are columns of ``int_dq_entries`` (the earlier report a row
repeats, the units that claim it with their shares, the numbers that disagree) or rule constants
of ``rule_parameters.csv`` (the threshold the numbers crossed). Free text is PII-masked: a project name that carries a
phone number never reaches a flag, an e-mail or a workbook.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime
from decimal import Decimal

from zhaoshang.errors import mask_pii
from zhaoshang.quality.rules import Signal, rule_parameters

MISSING_VALUE = "未填"
# Decimals a sentence shows for these features (a ratio of 1234.5678 reads as 1234.6倍).
DISPLAY_DECIMALS = {"_ratio": 1, "_similarity": 2}


def flag_key(rule: str, signal: str, entry_id: str) -> str:
    """Stable across nights: rule, signal and the entry's business key (file sha + sheet + row,
    or unit + year + month), so a flag keeps its key while the same file stays in the inbox."""
    return hashlib.sha256(f"{rule}|{signal}|{entry_id}".encode()).hexdigest()[:32]


def rule_flag_key(rule: str, entry_id: str) -> str:
    """The key of a flag before flags were split by signal (one flag per entry × rule).

    Decisions filed under it (the store, flag_decisions.csv) still hold for every signal of that
    entry and rule: ``audit.dq_flags`` falls back to it when nobody decided on ``flag_key``."""
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
        for suffix, decimals in DISPLAY_DECIMALS.items():
            if name.endswith(suffix):
                number = round(number, decimals)
        grouping = "," if name.endswith("_wan") else ""
        if number.is_integer():
            return f"{int(number):{grouping}d}"
        return f"{number:{grouping}.4f}".rstrip("0").rstrip(".")
    return str(value) if verbatim else mask_pii(str(value))


class _Fields(dict):
    """The placeholders of a sentence, each formatted when the template asks for it: a row has
    ~75 features and a sentence reads a handful (a province raises 40,000 flags a night)."""

    def __init__(self, row: dict, constants: dict[str, str]):
        super().__init__()
        self._row = row
        self._constants = constants
        self._uscc_ok = row.get("uscc_check_ok") is True or str(row.get("uscc_check_ok")) == "True"

    def __missing__(self, key: str) -> str:
        if key in self._row:  # an entry's feature before a rule constant of the same name
            value = format_value(
                key, self._row[key], verbatim=self._uscc_ok and key == "investor_uscc"
            )
        else:
            value = self._constants.get(key, "？")
        self[key] = value
        return value


def rule_constants() -> dict[str, str]:
    """The rule constants of ``rule_parameters.csv`` as the sentences show them."""
    return {
        k: format_value(k, _number_or_text(v), verbatim=True) for k, v in rule_parameters().items()
    }


def row_fields(row: dict, constants: dict[str, str] | None = None) -> dict[str, str]:
    """The placeholders of a sentence: the entry's features, then the rule constants."""
    return _Fields(row, rule_constants() if constants is None else constants)


def _number_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def evidence_of(signal: Signal, row: dict, constants: dict[str, str] | None = None) -> str:
    """The Chinese evidence of one flag, from the signal's template (``constants``: the rule
    constants, read once by a caller that writes many flags).

    Every free-text field is masked in ``row_fields`` and the templates hold no personal data,
    so the text is not masked again (that would mangle a valid all-digit USCC).
    """
    return signal.evidence_zh.format_map(row_fields(row, constants))
