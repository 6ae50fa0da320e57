"""Header matching: which sheet column is which canonical column of ``column_map.csv``.

The column map is the one place for header variants: this module only knows how clerks decorate
a header (units in full- or half-width brackets, stray spaces and line breaks, a leading ``*``) and
how a two-row header reads (``到位资金`` merged over ``本期`` / ``累计`` is the variant
``到位资金>本期``). ``find_header`` locates the header row(s) within the first rows of a sheet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from zhaoshang.reference import ColumnSpec, column_map, normalize_key

MIN_HEADER_SCORE = 3
MAX_HEADER_CHARS = 40  # distinct canonical columns a row needs to count as the template header

_BRACKETED = re.compile(r"\(([^()]*)\)|\[([^\]]*)\]|【([^】]*)】")
_TRAILING_UNIT = re.compile(r"(.+?)/?(万美元|亿美元|美元|千万元|百万元|亿元|万元|千元|元)$")


@lru_cache(maxsize=8192)  # every county file repeats the same headers
def header_key(text: str) -> str:
    """Lookup key of a header cell: NFKC, no spaces/line breaks, no required-marker, no colon."""
    return normalize_key(text).lstrip("*★※").rstrip(":")


def split_unit(key: str) -> tuple[str, str | None]:
    """'计划总投资(万元)' -> ('计划总投资', '万元'): brackets removed, the last one kept as the unit."""
    unit = None
    for m in _BRACKETED.finditer(key):
        unit = (
            next(g for g in m.groups() if g is not None).removeprefix("单位:").removeprefix("单位")
        )
    return _BRACKETED.sub("", key), unit


@dataclass(frozen=True, eq=False)  # hashed by identity: it is a cache key (one per process)
class HeaderIndex:
    single: dict[str, str]  # header key -> canonical name
    nested: dict[tuple[str, str], str]  # (parent key, child key) -> canonical name
    parents: frozenset[str]
    specs: dict[str, ColumnSpec]


@lru_cache(maxsize=1)
def header_index() -> HeaderIndex:
    single: dict[str, str] = {}
    nested: dict[tuple[str, str], str] = {}
    specs = {spec.canonical_name: spec for spec in column_map()}
    for spec in specs.values():
        for variant in (*spec.header_variants, spec.label_zh):
            if ">" in variant:
                parent, child = (split_unit(header_key(part))[0] for part in variant.split(">", 1))
                nested[(parent, child)] = spec.canonical_name
                continue
            key = header_key(variant)
            single.setdefault(key, spec.canonical_name)
            single.setdefault(split_unit(key)[0], spec.canonical_name)
    return HeaderIndex(single, nested, frozenset(p for p, _ in nested), specs)


@dataclass(frozen=True)
class ColumnHeader:
    column_index: int  # 1-based
    written: str  # header as written ('到位资金>本期' for a two-row header), whitespace-normalised
    canonical: str | None  # None: not a known column (W_EXTRA_COLUMN)
    unit_word: str | None  # unit given in the header, e.g. 万元 / 元 / 万美元


@dataclass(frozen=True)
class HeaderLayout:
    first_row: int  # 1-based
    last_row: int  # 1-based; data starts below it
    columns: tuple[ColumnHeader, ...]

    @property
    def score(self) -> int:
        return len({c.canonical for c in self.columns if c.canonical})


def _text(cell: object) -> str:
    return " ".join(cell.split()) if isinstance(cell, str) else ""


def match_single(text: str, index: HeaderIndex) -> tuple[str | None, str | None]:
    """(canonical, unit word) for one header cell."""
    if len(text) > MAX_HEADER_CHARS:  # project names and notes in the search window
        return None, None
    return _match_single(text, index)


@lru_cache(maxsize=8192)
def _match_single(text: str, index: HeaderIndex) -> tuple[str | None, str | None]:
    key = header_key(text)
    if key in index.single:
        return index.single[key], None
    bare, unit = split_unit(key)
    if bare in index.single:
        return index.single[bare], unit
    m = _TRAILING_UNIT.fullmatch(bare)  # 计划总投资万元, 总投资/万元
    if m and m.group(1) in index.single:
        return index.single[m.group(1)], m.group(2)
    return None, unit


def match_nested(parent: str, child: str, index: HeaderIndex) -> tuple[str | None, str | None]:
    parent_key, parent_unit = split_unit(header_key(parent))
    child_key, child_unit = split_unit(header_key(child))
    return index.nested.get((parent_key, child_key)), child_unit or parent_unit


MAX_MERGED_CELLS = 200_000  # a form merges a title, a few headers, a note: far fewer cells


class TooManyMergedCells(Exception):
    pass


@dataclass(frozen=True)
class Merges:
    """Merged ranges (0-based, inclusive) as lookups: covered cell -> its range's top-left cell."""

    anchor: dict[tuple[int, int], tuple[int, int]]

    @classmethod
    def from_ranges(
        cls, ranges: list[tuple[tuple[int, int], tuple[int, int]]], max_row: int, max_col: int
    ) -> Merges:
        """Ranges clipped to the first ``max_row`` rows and ``max_col`` columns.

        Raises TooManyMergedCells beyond MAX_MERGED_CELLS: a merge over A1:XFD1048576 must not
        turn into billions of lookups.
        """
        anchor: dict[tuple[int, int], tuple[int, int]] = {}
        for (r0, c0), (r1, c1) in ranges:
            if r0 >= max_row or c0 >= max_col:
                continue
            r1, c1 = min(r1, max_row - 1), min(c1, max_col - 1)
            if len(anchor) + (r1 - r0 + 1) * (c1 - c0 + 1) > MAX_MERGED_CELLS:
                raise TooManyMergedCells
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    if (r, c) != (r0, c0):
                        anchor[(r, c)] = (r0, c0)
        return cls(anchor)


def _single_row(
    row: Sequence[object], r: int, merges: Merges, index: HeaderIndex
) -> list[ColumnHeader]:
    out = []
    for c, cell in enumerate(row):
        text = _text(cell)
        if not text or (r, c) in merges.anchor:  # a merged header counts once, at its top-left
            continue
        canonical, unit = match_single(text, index)
        out.append(ColumnHeader(c + 1, text, canonical, unit))
    return out


def _parent_text(top: Sequence[object], r: int, c: int, merges: Merges, index: HeaderIndex) -> str:
    """The parent header above column c: the merged range's top-left text, else a known parent to the left.

    The fallback covers WPS/clerk forms where 到位资金 sits above 本期 without the merge.
    """
    ar, ac = merges.anchor.get((r, c), (r, c))
    if ar == r:
        text = _text(top[ac])
        if text:
            return text
    for left in range(c - 1, -1, -1):
        text = _text(top[left])
        if text:
            return text if split_unit(header_key(text))[0] in index.parents else ""
    return ""


def _two_rows(
    top: Sequence[object], sub: Sequence[object], r: int, merges: Merges, index: HeaderIndex
) -> list[ColumnHeader]:
    out = []
    for c in range(max(len(top), len(sub))):
        covered_below = merges.anchor.get((r + 1, c), (r + 1, c))[0] == r  # vertical merge r..r+1
        child = "" if covered_below or c >= len(sub) else _text(sub[c])
        parent = _parent_text(top, r, c, merges, index) if c < len(top) and child else ""
        if child and parent:
            canonical, unit = match_nested(parent, child, index)
            if canonical:
                out.append(ColumnHeader(c + 1, f"{parent}>{child}", canonical, unit))
                continue
        if child:
            canonical, unit = match_single(child, index)
            written = child if canonical or not parent else f"{parent}>{child}"
            out.append(ColumnHeader(c + 1, written, canonical, unit))
            continue
        text = _text(top[c]) if c < len(top) else ""
        if text and (r, c) not in merges.anchor:
            canonical, unit = match_single(text, index)
            out.append(ColumnHeader(c + 1, text, canonical, unit))
    return out


def _has_parent(row: Sequence[object], index: HeaderIndex) -> bool:
    """Only a row holding a known parent header (到位资金 ...) can be the top of a two-row header."""
    return any(
        type(cell) is str
        and 0 < len(cell) <= MAX_HEADER_CHARS
        and split_unit(header_key(cell))[0] in index.parents
        for cell in row
    )


def find_header(
    rows: Sequence[Sequence[object]], merges: Merges, search_rows: int
) -> HeaderLayout | None:
    """The best-matching one- or two-row header starting within the first ``search_rows`` rows.

    Stops at the first row that matches nothing once a header has been found: that is data.
    """
    index = header_index()
    count = min(search_rows + 1, len(rows))
    singles: dict[int, HeaderLayout] = {}

    def single(r: int) -> HeaderLayout:
        if r not in singles:
            singles[r] = HeaderLayout(r + 1, r + 1, tuple(_single_row(rows[r], r, merges, index)))
        return singles[r]

    best: HeaderLayout | None = None
    for r in range(min(search_rows, len(rows))):
        candidate = single(r)
        if (
            best is not None
            and best.score >= MIN_HEADER_SCORE
            and r >= best.last_row
            and candidate.score == 0
        ):
            break
        if r + 1 < count and _has_parent(rows[r], index):
            double = HeaderLayout(
                r + 1, r + 2, tuple(_two_rows(rows[r], rows[r + 1], r, merges, index))
            )
            # Two rows only if both are needed: a title or 填报单位 line above a one-row header
            # must not pass for the parent row of a two-row header.
            if double.score > max(candidate.score, single(r + 1).score):
                candidate = double
        if best is None or candidate.score > best.score:
            best = candidate
    return best if best is not None and best.score >= MIN_HEADER_SCORE else None


@dataclass(frozen=True)
class ColumnCheck:
    mapped: dict[str, ColumnHeader]  # canonical -> its column
    extra: list[ColumnHeader]  # unknown headers (W_EXTRA_COLUMN)
    duplicates: dict[str, list[ColumnHeader]]  # canonical -> 2+ columns (E_DUP_HEADER)
    missing_required: list[str]  # label_zh of required columns not found (E_TEMPLATE)


def check_columns(layout: HeaderLayout) -> ColumnCheck:
    index = header_index()
    by_name: dict[str, list[ColumnHeader]] = {}
    extra = []
    for column in layout.columns:
        if column.canonical:
            by_name.setdefault(column.canonical, []).append(column)
        else:
            extra.append(column)
    missing = [
        s.label_zh for s in index.specs.values() if s.required and s.canonical_name not in by_name
    ]
    return ColumnCheck(
        mapped={name: cols[0] for name, cols in by_name.items()},
        extra=extra,
        duplicates={name: cols for name, cols in by_name.items() if len(cols) > 1},
        missing_required=missing,
    )
