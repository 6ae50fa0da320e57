"""What each unit is told: its files, its quarantined rows, refusals, missing months, own findings.

Everything is read from the published warehouse (read-only), the night's agreed result: the
files of ``audit.load_log``, the rows of ``audit.quarantine``, and the flags of
``audit.dq_flags`` whose signals ``dq_rules.csv`` marks ``share_with_unit``. A unit only ever
gets rows whose ``unit_name`` is its own; a refused file has no unit from its sheet, so it is
attributed by the inbox folder it was put in (``submissions/<unit>/...``) when that folder names
a roster unit, and otherwise to nobody (the inspection team hears of it in its alert).

Every problem carries a stable ``key`` that does not depend on the file's hash, so that a
corrected resubmission of the same month that no longer has the problem resolves it:
a quarantined row is (unit, month, row, column), a finding (unit, month, rule, signal, row), a
refusal the refused file itself, a missing month (unit, month).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

import duckdb

from zhaoshang.errors import how_to_fix, mask_pii
from zhaoshang.quality.rules import load_rules
from zhaoshang.reference import UnitResolver

STATUS_ZH = {
    "loaded": "已入库",
    "superseded": "已入库，后被同月更晚的报表替代",
    "rejected": "拒收",
    "duplicate": "重复（与已收到的文件内容相同）",
    "withdrawn": "已从收件箱撤回",
}
_WHERE_PREFIX = re.compile(r"^文件“[^”]*”(?:工作表“[^”]*”)?(?:第\d+行)?(?:[A-Z]*列(?:（.*?）)?)?：")


@dataclass(frozen=True)
class Problem:
    """One thing the unit should correct (or that it corrected since the last receipt)."""

    key: str
    kind: str  # row | refused | missing | finding
    year: int | None
    month: int | None
    source_file: str | None
    sheet: str | None
    row_number: int | None
    column: str | None  # e.g. "L列（本期到位资金）"
    value: str | None  # as typed, masked
    reason: str
    fix: str

    @property
    def period(self) -> str:
        return f"{self.year}年{self.month}月" if self.year and self.month else ""

    def summary(self) -> str:
        """One line that still says what it was after the problem is gone (kept in memory)."""
        where = "，".join(
            p
            for p in (
                self.period,
                f"文件“{self.source_file}”" if self.source_file else "",
                f"第{self.row_number}行" if self.row_number else "",
                self.column or "",
            )
            if p
        )
        return f"{where}：{self.reason}" if where else self.reason


@dataclass
class FileReceived:
    key: str  # sha256|source_file
    source_file: str
    received_at: datetime | None
    year: int | None
    month: int | None
    status: str
    status_zh: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    superseded_by: str | None
    reason: str | None

    @property
    def period(self) -> str:
        return f"{self.year}年{self.month}月" if self.year and self.month else ""


@dataclass
class UnitFindings:
    unit_name: str
    files: list[FileReceived] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def by_kind(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }


def folder_unit(source_file: str, resolver: UnitResolver) -> str | None:
    """The roster unit named by a folder of the file's inbox path, if exactly one is."""
    parts = PurePosixPath(source_file).parts
    found = {u for part in parts[1:-1] if (u := resolver.resolve(part))}
    return found.pop() if len(found) == 1 else None


def _int(value: object) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _column_text(letter: str | None, header: str | None) -> str | None:
    if not letter and not header:
        return None
    letters = (letter or "").split("；")
    headers = (header or "").split("；")
    parts = []
    for i, col in enumerate(letters):
        head = headers[i] if i < len(headers) else ""
        parts.append(f"{col}列（{head}）" if head else f"{col}列")
    return "；".join(parts)


def _reason_without_place(reason_zh: str | None) -> str:
    """The ledger's reason starts with where it is (file, sheet, row, column): the receipt shows
    the place in its own columns."""
    parts = [_WHERE_PREFIX.sub("", p) for p in (reason_zh or "").split("；") if p]
    return "；".join(parts)


def collect(warehouse: Path, resolver: UnitResolver) -> dict[str, UnitFindings]:
    """unit name -> what that unit is told tonight (files not yet filtered to the new ones)."""
    out: dict[str, UnitFindings] = {}

    def unit(name: str) -> UnitFindings:
        return out.setdefault(name, UnitFindings(name))

    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = _rows(
            con,
            """select source_file, sha256, status, unit_name, year, month, reason_zh,
                      reject_code, rows_read, rows_loaded, rows_quarantined, superseded_by,
                      received_at
               from audit.load_log order by received_at, source_file""",
        )
        quarantine = _rows(
            con,
            """select q.source_file, q.sheet, q.row_number, q.column_name, q.column_letter,
                      q.header, q.raw_value, q.reason_code, q.reason_zh, q.unit_name, q.year,
                      q.month
               from audit.quarantine q
               join audit.load_log l on l.source_file = q.source_file and l.sha256 = q.sha256
               where q.decision = 'QUARANTINE-ROW' and l.status = 'loaded'
               order by q.source_file, q.row_number""",
        )
        flag_columns = _columns(con, "audit", "dq_flags")
        signal = "signal" if "signal" in flag_columns else "null as signal"
        flags = _rows(
            con,
            f"""select flag_key, rule, {signal}, status, unit_name, year, month, project_name,
                       evidence, source_file, sheet, row_number
                from audit.dq_flags
                where coalesce(status, 'open') <> 'dismissed'
                order by year, month, source_file, row_number""",
        )
    for f in files:
        name = f["unit_name"] or folder_unit(f["source_file"], resolver)
        if not name or f["status"] == "withdrawn":
            continue
        unit(name).files.append(
            FileReceived(
                key=f"{f['sha256']}|{f['source_file']}",
                source_file=mask_pii(f["source_file"]),
                received_at=f["received_at"],
                year=_int(f["year"]),
                month=_int(f["month"]),
                status=f["status"],
                status_zh=STATUS_ZH.get(f["status"], f["status"]),
                rows_read=int(f["rows_read"] or 0),
                rows_loaded=int(f["rows_loaded"] or 0),
                rows_quarantined=int(f["rows_quarantined"] or 0),
                superseded_by=mask_pii(f["superseded_by"]) if f["superseded_by"] else None,
                reason=_reason_without_place(f["reason_zh"]) if f["status"] == "rejected" else None,
            )
        )
        if f["status"] == "rejected" and not _later_accepted(f, name, files):
            unit(name).problems.append(
                Problem(
                    key=f"refused|{f['sha256']}",
                    kind="refused",
                    year=_int(f["year"]),
                    month=_int(f["month"]),
                    source_file=mask_pii(f["source_file"]),
                    sheet=None,
                    row_number=None,
                    column=None,
                    value=None,
                    reason=_reason_without_place(f["reason_zh"]),
                    fix=how_to_fix(f["reject_code"]),
                )
            )
    for q in quarantine:
        if not q["unit_name"]:
            continue
        unit(q["unit_name"]).problems.append(
            Problem(
                key=f"row|{q['year']}-{q['month']}|{q['row_number']}|{q['column_name'] or ''}",
                kind="row",
                year=_int(q["year"]),
                month=_int(q["month"]),
                source_file=mask_pii(q["source_file"]),
                sheet=q["sheet"],
                row_number=_int(q["row_number"]),
                column=_column_text(q["column_letter"], q["header"]),
                value=q["raw_value"],  # masked and truncated by the loader
                reason=_reason_without_place(q["reason_zh"]),
                fix=how_to_fix(q["reason_code"]),
            )
        )
    signals = {s.signal: s for r in load_rules() for s in r.signals}
    for f in flags:
        if not f["unit_name"]:
            continue
        problem = _finding(f, signals)
        if problem is not None:
            unit(f["unit_name"]).problems.append(problem)
    return out


def _later_accepted(refused: dict, unit_name: str, files: list[dict]) -> bool:
    """A refusal is settled once the unit sent a file received later that loaded (for the same
    month, when the refused file's month is known)."""
    for f in files:
        if f["status"] not in ("loaded", "superseded") or f["unit_name"] != unit_name:
            continue
        if (
            refused["received_at"]
            and f["received_at"]
            and f["received_at"] <= refused["received_at"]
        ):
            continue
        if refused["year"] and (f["year"], f["month"]) != (refused["year"], refused["month"]):
            continue
        return True
    return False


def _finding(flag: dict, signals: dict) -> Problem | None:
    """A flag as the unit sees it, or None when it is the inspection team's alone.

    A flag may carry several signals (comma-separated). Its evidence is shown only when every
    signal is the unit's to correct; when only some are, the unit reads those signals'
    descriptions instead, so nothing of a suspicion reaches it.
    """
    names = [s.strip() for s in str(flag.get("signal") or "").split(",") if s.strip()]
    known = [signals[n] for n in names if n in signals]
    shared = [s for s in known if s.share_with_unit]
    if not shared:
        return None
    year, month = _int(flag["year"]), _int(flag["month"])
    if flag["rule"] == "MISSING_REPORT":
        return Problem(
            key=f"missing|{year}-{month}",
            kind="missing",
            year=year,
            month=month,
            source_file=None,
            sheet=None,
            row_number=None,
            column=None,
            value=None,
            reason=str(flag.get("evidence") or shared[0].signal_zh),
            fix="".join(dict.fromkeys(s.fix_zh for s in shared)),
        )
    reason = (
        str(flag.get("evidence") or "")
        if len(shared) == len(names)
        else "；".join(s.signal_zh for s in shared)
    )
    return Problem(
        key="finding|{}-{}|{}|{}|{}".format(
            year, month, flag["rule"], ",".join(s.signal for s in shared), flag["row_number"]
        ),
        kind="finding",
        year=year,
        month=month,
        source_file=mask_pii(flag["source_file"]) if flag["source_file"] else None,
        sheet=flag["sheet"],
        row_number=_int(flag["row_number"]),
        # where the finding is: the project's row (a 合计 finding has no project)
        column=f"项目“{mask_pii(str(flag['project_name']))}”" if flag.get("project_name") else None,
        value=None,
        reason=reason or shared[0].signal_zh,
        fix="".join(dict.fromkeys(s.fix_zh for s in shared)),
    )
