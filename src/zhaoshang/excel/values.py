"""Cell value normalisation: one raw cell (as calamine returns it) -> one typed value, or a CellError.

Amounts become exact ``Decimal`` 万元 (never float arithmetic), dates ``datetime.date``, enums their
canonical value from ``value_aliases.csv``, 是/否 ``bool``, text NFKC-normalised. Anything that
cannot be read exactly raises ``CellError`` with a catalogue code (E_NUMBER, E_CURRENCY, ...) and
the row is quarantined by the caller; nothing is guessed silently (RELIABILITY §4 D).

``converter_for`` builds one memoised converter per column: a county sheet repeats the same
sector, status and dates thousands of times, so each distinct raw value is converted once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from zhaoshang.reference import normalize_key, value_aliases

MAX_CELL_CHARS = 32767  # Excel's own limit; longer text was written by a tool, not a clerk
# project_rows stores amounts as decimal(18,4): 10^14 万元 cannot be stored at all.
MAX_AMOUNT = Decimal(10) ** 14

EXCEL_EPOCH_1900 = date(
    1899, 12, 30
)  # serial 61 = 1900-03-01 (serials < 61 are outside the window)
EXCEL_EPOCH_1904 = date(1904, 1, 1)
SERIAL_FLOOR = date(2000, 1, 1)  # a bare number in a date column is a date only in this window
SERIAL_CEILING_DAYS = 366  # ... up to today + 366 days
DATE_FLOOR = date(
    1950, 1, 1
)  # an Excel date before this is a formatting accident (0 -> 1899-12-31)


class CellError(Exception):
    """A cell that cannot be loaded: ``code`` is an errors.MESSAGES key, ``detail`` fills {detail}."""

    def __init__(self, code: str, detail: object = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# --------------------------------------------------------------------------------------------
# text


@lru_cache(maxsize=1)
def invisible_chars() -> re.Pattern[str]:
    """Control (Cc, except tab/CR/LF), format (Cf: zero-width, BOM, bidi) and surrogate chars."""
    ranges = []
    # Planes 0-1 and the tag block hold every Cc/Cf/Cs code point; scanning all 1.1M costs 0.3 s.
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        ch = chr(code)
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in "\t\n\r") or cat in ("Cf", "Cs"):
            ranges.append(code)
    # Collapse consecutive code points into ranges for a compact character class.
    parts, start, prev = [], ranges[0], ranges[0]
    for code in [*ranges[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        parts.append(
            re.escape(chr(start))
            if start == prev
            else f"{re.escape(chr(start))}-{re.escape(chr(prev))}"
        )
        start = prev = code
    return re.compile("[" + "".join(parts) + "]")


_WHITESPACE = re.compile(r"\s+")


def clean_text(text: str) -> tuple[str, bool]:
    """reference.normalize_text, plus control characters removed; returns (clean, removed_any).

    Same result as ``normalize_text`` for ordinary text (format chars out, NFKC, whitespace
    collapsed, trimmed), but with fast paths: most cells need no NFKC and have nothing invisible.
    """
    # isprintable() is False for every Cc/Cf/Cs char and for whitespace other than ' '.
    plain = text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "
    if plain and unicodedata.is_normalized("NFKC", text):
        return text, False
    invisible = invisible_chars()
    removed = invisible.search(text) is not None
    if removed:
        text = invisible.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub(" ", text).strip(), removed


# Marks clerks use for "nothing here"; compared after normalize_key (NFKC, no spaces, upper).
NULL_MARKERS = frozenset(
    {
        "",
        "-",
        "--",
        "---",
        "—",
        "——",
        "–",
        "/",
        "//",
        "\\",
        "无",
        "空",
        "暂无",
        "N/A",
        "NA",
        "NULL",
        "NONE",
    }
)


_LONGEST_NULL_MARKER = 8  # "N / A" with spaces; real markers are at most 4 characters


def is_null_marker(text: str) -> bool:
    return normalize_key(text) in NULL_MARKERS


def number_as_text(value: float) -> str:
    """A numeric cell shown as text: 123.0 -> '123', 0.1 -> '0.1' (shortest round-trip repr)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def raw_text(raw: object) -> str:
    """Any raw cell value as the text a clerk would recognise (for messages and quarantine)."""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, (int, float)):
        return number_as_text(raw)
    if isinstance(raw, (date, datetime, time)):
        return raw.isoformat()
    return str(raw)


# --------------------------------------------------------------------------------------------
# amounts


@dataclass(frozen=True)
class AmountUnit:
    """A unit an amount may be written in, as a currency and a factor to 万 of that currency."""

    currency: str  # "CNY" or "USD"
    per_wan: Decimal  # value in this unit x per_wan = value in 万 (of the currency)


# Longest first so that 万美元 wins over 美元 and 千万元 over 万元.
UNIT_WORDS: dict[str, AmountUnit] = {
    "亿美元": AmountUnit("USD", Decimal(10000)),
    "万美元": AmountUnit("USD", Decimal(1)),
    "美元": AmountUnit("USD", Decimal("0.0001")),
    "千万元": AmountUnit("CNY", Decimal(1000)),
    "千万": AmountUnit("CNY", Decimal(1000)),
    "百万元": AmountUnit("CNY", Decimal(100)),
    "百万": AmountUnit("CNY", Decimal(100)),
    "亿元": AmountUnit("CNY", Decimal(10000)),
    "亿": AmountUnit("CNY", Decimal(10000)),
    "万元": AmountUnit("CNY", Decimal(1)),
    "万": AmountUnit("CNY", Decimal(1)),
    "千元": AmountUnit("CNY", Decimal("0.1")),
    "元": AmountUnit("CNY", Decimal("0.0001")),
}
WAN_CNY = UNIT_WORDS["万元"]
_UNIT_SUFFIX = re.compile("(" + "|".join(sorted(UNIT_WORDS, key=len, reverse=True)) + ")$")


@lru_cache(maxsize=1024)  # header and 单位 words repeat in every file
def parse_unit(text: str) -> AmountUnit | None:
    """A unit label such as 万元 / 元 / 万美元 (from a header bracket or 单位：…), else None."""
    key = normalize_key(text).removeprefix("单位:").removeprefix("单位")
    return UNIT_WORDS.get(key)


# Currencies other than the column's own; CNY markers are simply removed.
_FOREIGN_CURRENCY = re.compile(
    r"美元|美金|USD|US\$|\$|港币|港元|HKD|HK\$|欧元|EUR|€|日元|JPY|英镑|GBP|£|澳元|AUD|台币|TWD|韩元|KRW"
)
_CNY_MARKERS = re.compile(r"人民币|RMB|CNY|¥|￥")
_NOT_EXACT = re.compile(
    r"约|大约|左右|以上|以下|之间|上下|多|余|近|超过|不低于|不少于|不超过|不足|待定|未定|待核|待确定|未知|若干|[~<>≤≥≈]|\d\s*[-—–－至到]\s*\d|\+$"
)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:E[+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def _decimal_from_float(value: float) -> Decimal:
    # repr() is the shortest text that round-trips the double Excel stored, i.e. what the clerk typed.
    if value.is_integer() and abs(value) < 1e21:
        return Decimal(int(value))
    return Decimal(repr(value))


def parse_amount(raw: object, column_unit: AmountUnit | None) -> Decimal:
    """One amount cell -> Decimal in 万 of the column's currency (万元, or 万美元 for foreign_usd_wan).

    ``column_unit`` is the unit a bare number is in (from the header bracket, the sheet's
    单位：… line, or the column's canonical label); ``None`` means the header names a currency
    this column cannot hold, so every value is E_CURRENCY.
    """
    if isinstance(raw, (bool, date, time, timedelta)):
        raise CellError("E_NUMBER", raw_text(raw))
    if column_unit is None:
        raise CellError("E_CURRENCY", raw_text(raw))
    if isinstance(raw, (int, float)):
        value = _decimal_from_float(float(raw)) if isinstance(raw, float) else Decimal(raw)
        return _checked_amount(
            value if column_unit is WAN_CNY else value * column_unit.per_wan, raw
        )
    return _parse_amount_text(str(raw), column_unit)


def _parse_amount_text(raw: str, column_unit: AmountUnit) -> Decimal:
    text = unicodedata.normalize("NFKC", raw).strip().lstrip("'").strip().upper()
    text = _WHITESPACE.sub("", text)
    if column_unit.currency == "CNY" and _FOREIGN_CURRENCY.search(text):
        raise CellError("E_CURRENCY", raw)
    if column_unit.currency == "USD" and (
        _CNY_MARKERS.search(text) or re.search(r"(?<!美)元", text)
    ):
        raise CellError("E_CURRENCY", raw)
    if _NOT_EXACT.search(text):
        raise CellError("E_AMOUNT_NOT_EXACT", raw)
    text = _CNY_MARKERS.sub("", text).replace("US$", "").replace("USD", "").replace("$", "")
    unit = column_unit
    suffix = _UNIT_SUFFIX.search(text)
    if suffix:
        unit = UNIT_WORDS[suffix.group(1)]
        if unit.currency != column_unit.currency:
            raise CellError("E_CURRENCY", raw)
        text = text[: suffix.start()]
    if "," in text:
        # Only real thousands grouping (1,234,567.5); "1,2" could be a European decimal comma.
        if not _GROUPED.fullmatch(text):
            raise CellError("E_NUMBER", raw)
        text = text.replace(",", "")
    if not _DECIMAL.fullmatch(text):
        raise CellError("E_NUMBER", raw)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above only lets valid text through
        raise CellError("E_NUMBER", raw) from None
    return _checked_amount(value * unit.per_wan, raw)


def _checked_amount(value: Decimal, raw: object) -> Decimal:
    if value < 0:
        raise CellError("E_NEGATIVE", raw_text(raw))
    if value >= MAX_AMOUNT:
        raise CellError("E_NUMBER", raw_text(raw))
    return value + 0  # -0 -> 0


def parse_percent(raw: object) -> Decimal:
    """credit_share_pct: percentage points (50, '50%' or a %-formatted cell holding 0.5 -> 50).

    A number strictly between 0 and 1 can only be a %-formatted cell (calamine gives the stored
    fraction, not the display): no unit declares a share below one percent of a project.
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise CellError("E_NUMBER", raw_text(raw))
    if isinstance(raw, (int, float)):
        value = _decimal_from_float(float(raw))
        if 0 < value < 1:
            value = value * 100
    else:
        text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw)).lstrip("'").removesuffix("%")
        if not _DECIMAL.fullmatch(text.upper()):
            raise CellError("E_NUMBER", raw)
        value = Decimal(text)
    if value < 0:
        raise CellError("E_NEGATIVE", raw_text(raw))
    return value + 0


def parse_int(raw: object) -> int:
    """序号: an integer, written as a number or as text."""
    if isinstance(raw, bool):
        raise CellError("E_NUMBER", raw_text(raw))
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw)).lstrip("'")
        if re.fullmatch(r"\d{1,9}", text):
            return int(text)
    raise CellError("E_NUMBER", raw_text(raw))


# --------------------------------------------------------------------------------------------
# dates

_FULL_DATES = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"),
    re.compile(r"(\d{4})(年)(\d{1,2})月(\d{1,2})[日号]?"),
    re.compile(r"(\d{4})()(\d{2})(\d{2})"),
)
_TIME_SUFFIX = re.compile(r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_PARTIAL_DATES = (
    re.compile(r"\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}[日号]?"),  # 21.3.5: which century?
    re.compile(r"\d{1,2}[-/.月]\d{1,2}[日号]?"),  # 3月5日: which year?
    re.compile(r"\d{4}[-/.年]\d{1,2}(?:月份?)?"),  # 2021年3月: which day?
    re.compile(r"\d{4}年?(?:度)?"),
    re.compile(r".*(?:上半年|下半年|季度|月初|月中|月底|月末|年初|年底|年末|上旬|中旬|下旬).*"),
)


def parse_text_date(raw: str) -> date:
    """A date written as text: 2021-03-05, 2021年3月5日, 2021.3.5, 2021/3/5, 20210305 (any width)."""
    text = unicodedata.normalize("NFKC", raw).strip().lstrip("'")
    text = _TIME_SUFFIX.sub("", text)
    text = _WHITESPACE.sub("", text)
    for pattern in _FULL_DATES:
        m = pattern.fullmatch(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
            except ValueError:
                raise CellError("E_DATE_INVALID", raw) from None
    if any(p.fullmatch(text) for p in _PARTIAL_DATES):
        raise CellError("E_DATE_AMBIGUOUS", raw)
    raise CellError("E_DATE_INVALID", raw)


def serial_to_date(serial: float, date1904: bool) -> date:
    epoch = EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH_1900
    return epoch + timedelta(days=int(serial))


def parse_date(raw: object, *, date1904: bool, today: date) -> date:
    """Real Excel dates, General-format serials within the window, yyyymmdd numbers, text dates."""
    if isinstance(raw, datetime):
        value = raw.date()
    elif isinstance(raw, date):
        value = raw
    elif isinstance(raw, (bool, time, timedelta)):
        raise CellError("E_DATE_INVALID", raw_text(raw))
    elif isinstance(raw, (int, float)):
        return _date_from_number(float(raw), date1904=date1904, today=today)
    else:
        value = parse_text_date(str(raw))
    if value < DATE_FLOOR:
        raise CellError("E_DATE_RANGE", value.isoformat())
    return value


def _date_from_number(number: float, *, date1904: bool, today: date) -> date:
    shown = number_as_text(number)
    if number.is_integer() and 19_000_101 <= number <= 29_991_231:
        return parse_text_date(shown)  # 20210305 typed into a General cell
    if not number.is_integer() and 1990 <= number < 2100:
        raise CellError("E_DATE_AMBIGUOUS", shown)  # 2021.3 typed into a General cell
    if not 0 < number < 2_958_466:  # beyond 9999-12-31
        raise CellError("E_DATE_RANGE", shown)
    value = serial_to_date(number, date1904)
    if not SERIAL_FLOOR <= value <= today + timedelta(days=SERIAL_CEILING_DAYS):
        raise CellError("E_DATE_RANGE", shown)
    return value


# --------------------------------------------------------------------------------------------
# enums, USCC, text


def parse_enum(raw: object, aliases: dict[str, str]) -> str:
    text = raw_text(raw)
    value = aliases.get(normalize_key(text))
    if value is None:
        raise CellError("E_ENUM", text)
    return value


def parse_uscc(raw: object) -> str:
    """Normalised uppercase text; the GB 32100 check digit is a data-quality rule, judged later."""
    if isinstance(raw, bool):
        raise CellError("E_ENUM", raw_text(raw))
    return normalize_key(raw_text(raw))


# --------------------------------------------------------------------------------------------
# per-column converters


@dataclass(frozen=True)
class Flagged:
    """A converted value that loads, with a warning to report (W_CONTROL_CHARS, ...)."""

    value: object
    warning: str


SPECIAL_RESULTS = (Flagged, CellError)


@dataclass(frozen=True)
class ColumnContext:
    """What a column's values need besides the raw cell."""

    dtype: str  # column_map.csv dtype
    amount_unit: AmountUnit | None = WAN_CNY  # for dtype 'amount' only
    free_text: bool = False  # text kept as written (punctuation, line breaks), only cleaned
    date1904: bool = False
    today: date = date(2000, 1, 1)


def _typed(ctx: ColumnContext) -> Callable[[object], object]:
    dtype = ctx.dtype
    if dtype == "amount":
        return lambda raw: parse_amount(raw, ctx.amount_unit)
    if dtype == "percent":
        return parse_percent
    if dtype == "int":
        return parse_int
    if dtype == "date":
        return lambda raw: parse_date(raw, date1904=ctx.date1904, today=ctx.today)
    if dtype == "uscc":
        return parse_uscc
    if dtype == "yes_no":
        aliases = value_aliases()["yes_no"]
        return lambda raw: raw if isinstance(raw, bool) else parse_enum(raw, aliases) == "是"
    if dtype in value_aliases():
        aliases = value_aliases()[dtype]
        return lambda raw: parse_enum(raw, aliases)
    raise ValueError(f"column_map.csv dtype {dtype!r} has no converter")


_MISS = object()
_CACHE_LIMIT = 20_000


class ColumnConverter:
    """Converts a whole column of raw cells at once, memoising each distinct raw value.

    A result is the typed value (``None`` for empty cells and null markers), a ``Flagged``
    value or a ``CellError``; the caller turns the last two into warnings and problems and
    decides whether the column is required (E_REQUIRED). Working column by column keeps the
    per-cell cost to one dict lookup: a county sheet repeats sectors, statuses and dates.
    """

    def __init__(self, ctx: ColumnContext):
        self._typed = None if ctx.dtype == "text" else _typed(ctx)
        self._free_text = ctx.free_text
        # Keys are the raw values, except bools, keyed (bool, value) (see convert_all).
        self._reset()

    def _reset(self) -> None:
        self._cache: dict[object, object] = {"": None}
        self._special_keys: set[object] = set()
        self._none_keys: set[object] = {""}

    def convert_all(self, cells: Sequence[object]) -> tuple[list[object], bool, bool]:
        """(results, any Flagged/CellError among them, any None among them)."""
        cache = self._cache
        if bool in set(map(type, cells)):
            # True == 1 == 1.0: key such columns by (class, value) so they cannot share a slot.
            keys: Sequence[object] = [v if v.__class__ is str else (v.__class__, v) for v in cells]
        else:
            keys = cells  # 1 and 1.0 may share a slot: every converter treats them alike
        fresh = {
            key: _convert_uncached(_raw_of(key), self._typed, self._free_text)
            for key in dict.fromkeys(keys)
            if key not in cache
        }
        if len(cache) + len(fresh) > _CACHE_LIMIT:
            # Bounded memory in a long-lived worker: start afresh with this column's values only.
            fresh = {key: cache[key] if key in cache else fresh[key] for key in dict.fromkeys(keys)}
            self._reset()
            cache = self._cache
        cache.update(fresh)
        self._special_keys.update(k for k, v in fresh.items() if v.__class__ in SPECIAL_RESULTS)
        self._none_keys.update(k for k, v in fresh.items() if v is None)
        has_special = not self._special_keys.isdisjoint(keys)
        has_none = not self._none_keys.isdisjoint(keys)
        return list(map(cache.__getitem__, keys)), has_special, has_none

    def convert(self, raw: object) -> object:
        key = (raw.__class__, raw) if raw.__class__ is bool else raw
        hit = self._cache.get(key, _MISS)
        if hit is _MISS:
            hit = _convert_uncached(raw, self._typed, self._free_text)
        return hit


def _raw_of(key: object) -> object:
    return key[1] if key.__class__ is tuple else key


# OOXML's escape of a carriage return that a writer left unescaped-back (a CR LF typed in a
# cell, saved by some tools, reads as 名称_x000D_\n项目).
_ESCAPED_CR = re.compile(r"_x000[dD]_")


def _convert_uncached(
    raw: object, typed: Callable[[object], object] | None, free_text: bool = False
) -> object:
    warning = None
    if isinstance(raw, str):
        if len(raw) > MAX_CELL_CHARS:
            return CellError("E_VALUE_TOO_LONG")
        line_break = False
        if "_x000" in raw or "\n" in raw or "\r" in raw:
            raw = _ESCAPED_CR.sub("\r", raw)
            line_break = not free_text and ("\n" in raw.strip() or "\r" in raw.strip())
            if free_text:
                raw = raw.replace("\r\n", "\n").replace("\r", "\n")
        text, removed = clean_text(raw)
        warning = "W_CONTROL_CHARS" if removed else ("W_LINE_BREAK" if line_break else None)
        # After clean_text, normalize_key only drops spaces and upper-cases.
        if len(text) <= _LONGEST_NULL_MARKER and text.upper().replace(" ", "") in NULL_MARKERS:
            return Flagged(None, warning) if warning else None
        if free_text:  # 备注: keep the clerk's punctuation and line breaks, drop only the invisible
            text = invisible_chars().sub("", raw).strip()
        if typed is None:
            if text[:1] in ("=", "+", "-", "@"):
                warning = warning or "W_FORMULA_LIKE_TEXT"
            return Flagged(text, warning) if warning else text
        raw = text
    elif typed is None:
        return raw_text(raw)
    try:
        value = typed(raw)
    except CellError as error:
        return error
    return Flagged(value, warning) if warning else value
