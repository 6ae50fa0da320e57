"""Reference rules the project owns (dbt seeds) and the office's unit roster, read by Python.

The seeds in ``dbt_project/seeds/`` are the one place for the column map, the value aliases
(sectors, capital origins, ...), the size bands and the score weights: dbt reads them with
``ref()``, Python reads the same files here. Nothing is re-typed as a Python dict elsewhere.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from zhaoshang.settings import REFERENCE_RULES_DIR


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


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
    """``normalize_text`` and whether invisible characters were removed (a cell's warning).

    Fast paths: most cells need no NFKC and hold nothing invisible.
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


def normalize_text(value: str) -> str:
    """The project's one text normalisation (Excel cells, office CSVs, project identity in dbt).

    Control characters (except tab/CR/LF), format characters (zero-width, BOM, bidi) and
    surrogates go; NFKC (full-width -> ASCII); inner runs of whitespace collapse to one space;
    trimmed. This is the "as reported" normalisation project identity builds on (contract §4,
    ``project_name_key``), so it stays conservative. dbt calls this very function
    (macros/normalize_text.sql, through the UDF that zhaoshang.dbt_plugin registers).
    """
    return clean_text(value)[0]


def project_name_key(value: str) -> str:
    """The name part of project identity: ``normalize_text``, then every space dropped.

    "电商物流 中心", "电商物流　中心" and "电商物流中心" are one project. The one rule: dbt's
    ``int_project_rows_latest`` calls this very function (``normalize_text(..., drop_spaces=true)``
    -> UDF ``zs_project_name_key``), and the generator's truth and the test oracles call it too
    (tests/agreement/project_identity_cases.csv holds both sides to it). Case is kept.
    """
    return normalize_text(value).replace(" ", "")


def normalize_key(value: str) -> str:
    """A lookup key: normalize_text and drop every space (for headers, unit names, aliases)."""
    return normalize_text(value).replace(" ", "").upper()


@dataclass(frozen=True)
class ColumnSpec:
    canonical_name: str
    label_zh: str
    header_variants: tuple[str, ...]
    dtype: str
    required: bool
    is_pii: bool
    is_optional_column: bool
    description_zh: str = ""


@lru_cache(maxsize=4)
def column_map(rules_dir: Path = REFERENCE_RULES_DIR) -> tuple[ColumnSpec, ...]:
    return tuple(
        ColumnSpec(
            canonical_name=r["canonical_name"],
            label_zh=r["label_zh"],
            header_variants=tuple(v for v in r["header_variants"].split(";") if v),
            dtype=r["dtype"],
            required=r["required"] == "true",
            is_pii=r["is_pii"] == "true",
            is_optional_column=r["is_optional_column"] == "true",
            description_zh=r.get("description_zh") or "",
        )
        for r in _read_csv(rules_dir / "column_map.csv")
    )


@lru_cache(maxsize=4)
def value_aliases(rules_dir: Path = REFERENCE_RULES_DIR) -> dict[str, dict[str, str]]:
    """domain -> {normalised alias -> canonical value} (e.g. 'sector' -> {'第一产业': '一产'})."""
    out: dict[str, dict[str, str]] = {}
    for r in _read_csv(rules_dir / "value_aliases.csv"):
        out.setdefault(r["domain"], {})[normalize_key(r["alias"])] = r["value"]
    return out


@lru_cache(maxsize=4)
def sectors(rules_dir: Path = REFERENCE_RULES_DIR) -> tuple[dict[str, str], ...]:
    return tuple(_read_csv(rules_dir / "sectors.csv"))


@lru_cache(maxsize=4)
def size_bands(rules_dir: Path = REFERENCE_RULES_DIR) -> tuple[dict[str, str], ...]:
    return tuple(_read_csv(rules_dir / "size_bands.csv"))


def size_band_of(
    total_investment_wan: float | None, rules_dir: Path = REFERENCE_RULES_DIR
) -> str | None:
    if total_investment_wan is None:
        return None
    for band in size_bands(rules_dir):
        lower = float(band["lower_wan"])
        upper = float(band["upper_wan"]) if band["upper_wan"] else float("inf")
        if lower <= total_investment_wan < upper:
            return band["size_band"]
    return None


@lru_cache(maxsize=8)
def export_columns(
    rules_dir: Path = REFERENCE_RULES_DIR, workbook: str = "analysts"
) -> tuple[dict[str, str], ...]:
    """Sheets and Chinese headings of a workbook the pipeline writes, in sheet and column order.

    ``export_columns.csv`` owns every output heading: ``analysts`` (the monthly export) and
    ``alerts`` (the e-mail's sheets). An empty ``label_zh`` is the column's heading in
    ``column_map.csv`` (the form's own words), so a project column is named once.
    """
    labels = {c.canonical_name: c.label_zh for c in column_map(rules_dir)}
    rows = [
        r | {"label_zh": r["label_zh"] or labels[r["column_name"]]}
        for r in _read_csv(rules_dir / "export_columns.csv")
        if r["workbook"] == workbook
    ]
    return tuple(sorted(rows, key=lambda r: int(r["sort_order"])))


def sheet_name(table_name: str, workbook: str = "alerts") -> str:
    """The Chinese name of the sheet ``table_name`` fills (``export_columns.csv``)."""
    return next(
        r["sheet_zh"] for r in export_columns(workbook=workbook) if r["table_name"] == table_name
    )


def headings(table_name: str, workbook: str = "alerts") -> tuple[tuple[str, str], ...]:
    """(column, Chinese heading) of one sheet of ``export_columns.csv``, in column order."""
    return tuple(
        (r["column_name"], r["label_zh"])
        for r in export_columns(workbook=workbook)
        if r["table_name"] == table_name
    )


@lru_cache(maxsize=4)
def rule_words(rules_dir: Path = REFERENCE_RULES_DIR) -> dict[str, str]:
    """Each flag rule in the office's words (OLD_AS_NEW -> 以旧充新), from dq_rules.csv."""
    return {r["rule"]: r["rule_zh"] for r in _read_csv(rules_dir / "dq_rules.csv")}


@lru_cache(maxsize=4)
def rule_parameters(rules_dir: Path = REFERENCE_RULES_DIR) -> dict[str, str]:
    return {r["parameter"]: r["value"] for r in _read_csv(rules_dir / "rule_parameters.csv")}


# The office's CSVs in raw/reference/: read by this one reader, and handed to dbt as the
# normalised copies it writes (write_reference_copies), so dbt reads exactly what Python reads.
OFFICE_CSVS = ("units.csv", "flag_decisions.csv", "score_adjustments.csv")
_LINE_END = re.compile(r"\r*\n|\r")


def read_reference_csv(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Rows of an office CSV as Excel, WPS or a hand edit leaves it.

    UTF-8 with or without BOM; CRLF, LF, CR or a mix (CR CR LF, one LF line appended to a CRLF
    file); blank lines anywhere, also lines of bare commas. Anything else is one bilingual
    ReferenceDataError naming the file (and the line or columns).
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise ReferenceDataError(
            f"{path.name} 第{line}行不是 UTF-8 编码，请在 Excel 中另存为“CSV UTF-8” / "
            f"{path.name} line {line} is not UTF-8; save it from Excel as 'CSV UTF-8'"
        ) from None
    text = _LINE_END.sub("\n", text.removeprefix("\ufeff"))
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        rows = [
            {k: (v if isinstance(v, str) else "") for k, v in row.items() if k is not None}
            for row in reader
            if any((v or "").strip() for v in row.values() if isinstance(v, str))
        ]
    except csv.Error as error:
        raise ReferenceDataError(
            f"{path.name} 不是有效的CSV：{error} / {path.name} is not a valid CSV: {error}"
        ) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ReferenceDataError(
            f"{path.name} 缺少列：{', '.join(missing)} / {path.name} lacks columns: "
            f"{', '.join(missing)}"
        )
    return rows


def write_reference_copies(reference_dir: Path, out_dir: Path) -> Path:
    """The office CSVs present in ``reference_dir`` as read_reference_csv reads them, written to
    ``out_dir`` as plain UTF-8 with LF line ends and every field quoted (what dbt reads)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OFFICE_CSVS:
        source, target = reference_dir / name, out_dir / name
        if not source.is_file():
            target.unlink(missing_ok=True)
            continue
        rows = read_reference_csv(source)
        header = list(rows[0]) if rows else _header_only(source)
        tmp = target.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
            writer.writerow(header)
            writer.writerows([[row.get(c, "") for c in header] for row in rows])
        tmp.replace(target)
    return out_dir


def _header_only(path: Path) -> list[str]:
    text = _LINE_END.sub("\n", path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    first = next(csv.reader(io.StringIO(text)), [])
    return [h.strip() for h in first]


@dataclass(frozen=True)
class Unit:
    unit_name: str
    unit_type: str
    aliases: tuple[str, ...]
    year: int
    target_funds_wan: float
    target_projects: int
    # Optional columns: where the unit's receipt (回执) is e-mailed, and whether it is at all.
    contact_email: str | None = None
    feedback: bool = True


UNITS_COLUMNS = ("unit_name", "unit_type", "aliases", "year", "target_funds_wan", "target_projects")
OPTIONAL_UNITS_COLUMNS = ("contact_email", "feedback")
_EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+")


def _feedback_switch(text: str) -> bool | None:
    """units.csv ``feedback``: empty means on; on/off or any yes_no alias (是/否/Y/N...)."""
    key = normalize_key(text)
    if not key:
        return True
    if key in ("ON", "OFF"):
        return key == "ON"
    value = value_aliases().get("yes_no", {}).get(key)
    return None if value is None else value == "是"


class ReferenceDataError(ValueError):
    """The office's reference file cannot be used; the message names the file, row and column."""


def load_units(units_csv: Path) -> list[Unit]:
    """The office's roster (raw/reference/units.csv), one row per unit and year."""
    if not units_csv.is_file():
        raise ReferenceDataError(
            f"找不到单位名册 {units_csv} / the unit roster {units_csv} is missing"
        )
    rows = read_reference_csv(units_csv, UNITS_COLUMNS)
    if not rows:
        raise ReferenceDataError(f"{units_csv.name} 没有任何单位 / {units_csv.name} lists no unit")
    units = []
    for line, r in enumerate(rows, start=2):
        contact = _feedback_columns(r, units_csv.name, line)
        try:
            units.append(
                Unit(
                    unit_name=normalize_text(r["unit_name"]),
                    unit_type=normalize_text(r.get("unit_type") or ""),
                    aliases=tuple(a for a in (r.get("aliases") or "").split(";") if a.strip()),
                    year=int(r["year"]),
                    target_funds_wan=float(r.get("target_funds_wan") or 0),
                    target_projects=int(float(r.get("target_projects") or 0)),
                    **contact,
                )
            )
        except ValueError:
            raise ReferenceDataError(
                f"{units_csv.name} 第{line}行的年份或目标不是数字 / {units_csv.name} row {line}: "
                "year or target is not a number"
            ) from None
    return units


def _feedback_columns(row: dict[str, str], file_name: str, line: int) -> dict:
    email = normalize_text(row.get("contact_email") or "")
    if email and not _EMAIL.fullmatch(email):
        raise ReferenceDataError(
            f"{file_name} 第{line}行 contact_email 列不是有效的电子邮件地址 / {file_name} row "
            f"{line}, column contact_email: not an e-mail address"
        )
    feedback = _feedback_switch(row.get("feedback") or "")
    if feedback is None:
        raise ReferenceDataError(
            f"{file_name} 第{line}行 feedback 列应为 on/off（或 是/否） / {file_name} row {line}, "
            "column feedback: use on/off (or 是/否)"
        )
    return {"contact_email": email or None, "feedback": feedback}


class UnitResolver:
    """Maps a unit name as written in a sheet (any alias, spacing, width) to its official name."""

    def __init__(self, units: list[Unit]):
        self._by_key: dict[str, str] = {}
        for u in units:
            for name in (u.unit_name, *u.aliases):
                self._by_key.setdefault(normalize_key(name), u.unit_name)

    def find_in(self, text: str | None) -> str | None:
        """The unit named inside a title (济阳镇招商引资项目进展情况表), longest name first.

        Only used when a sheet has no 填报单位; two different units named means none is chosen.
        """
        if not text:
            return None
        key = normalize_key(text)
        found = set()
        for name in sorted(self._by_key, key=len, reverse=True):
            if len(name) >= 2 and name in key:
                found.add(self._by_key[name])
                key = key.replace(name, "")
        return found.pop() if len(found) == 1 else None

    def resolve(self, written: str | None) -> str | None:
        if not written:
            return None
        key = normalize_key(written)
        if key in self._by_key:
            return self._by_key[key]
        # Clerks often write the full government name: 济阳镇人民政府, 财政局（盖章）.
        for suffix in ("人民政府", "政府", "(盖章)", "盖章"):
            if key.endswith(suffix.upper()) and key[: -len(suffix)] in self._by_key:
                return self._by_key[key[: -len(suffix)]]
        return None
