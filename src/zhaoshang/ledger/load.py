"""Load new submissions from the inbox into the ledger, losing nothing.

For each file the ledger ends with exactly one of: its rows (loaded or quarantined, with the
Excel row of each), or a rejection with its reason. A file is identified by its sha256, so a
rerun over the same inbox changes nothing, and a changed file is a new submission (the old one
stays in the audit trail). Writes are grouped in transactions of whole submissions: a crash
leaves no partial submission, and the rerun loads what was not committed.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from zhaoshang import guards, inbox
from zhaoshang.errors import Problem, SubmissionRejected
from zhaoshang.excel.model import ParsedRow, ParsedSubmission
from zhaoshang.faults import fail_point
from zhaoshang.ledger.schema import TOTAL_COLUMNS, create_schema, project_row_columns
from zhaoshang.reference import UnitResolver, column_map, load_units
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

Reader = Callable[
    [list[tuple[Path, str]]], Iterator[tuple[int, ParsedSubmission | SubmissionRejected]]
]

EARLIEST_YEAR = 2000


@dataclass
class LoadSummary:
    run_id: str
    files_seen: int = 0
    files_new: int = 0
    files_loaded: int = 0
    files_rejected: int = 0
    files_already_known: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_ignored_blank: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """The log line of a load, in the words of make run's summary (accepted, not loaded:
        which accepted report a later one supersedes is decided in the marts)."""
        return (
            f"{self.files_seen} files seen, {self.files_new} new: {self.files_loaded} accepted, "
            f"{self.files_rejected} rejected; rows read {self.rows_read} = loaded "
            f"{self.rows_loaded} + quarantined {self.rows_quarantined} + blank "
            f"{self.rows_ignored_blank}"
        )


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """Open the ledger (owner-only); a WAL that will not replay is set aside (RELIABILITY §3.8)."""
    from zhaoshang import recovery

    con = recovery.open_ledger(settings)
    create_schema(con)
    return con


def default_reader(batch: list[tuple[Path, str]]):
    """Parse files in sandboxed worker processes; yields (index, result) in input order."""
    from zhaoshang import excel

    for index, (_path, result) in enumerate(excel.read_submissions(batch)):
        yield index, result


def load_new_submissions(
    settings: Settings,
    run_id: str,
    *,
    logical_date: date | None = None,
    reader: Reader = default_reader,
    batch_size: int = 500,
) -> LoadSummary:
    """Take in every new or changed file under ``settings.submissions_dir``."""
    files = inbox.scan(
        settings.raw_dir,
        stable_seconds=settings.stable_seconds,
        hash_cache=inbox.hash_cache_for(settings.state_dir),
    )
    resolver = UnitResolver(load_units(settings.units_csv))  # fails clearly before any write
    summary = LoadSummary(run_id=run_id, files_seen=len(files))
    now = datetime.now()
    with connect(settings) as con:
        guards.check_inbox(settings, con, files, run_id)  # before the inbox is recorded
        record_inbox_presence(con, files, run_id)
        new_files = select_new_files(con, files, summary)
        columns = {table: table_columns(con, table) for table in TABLES}
        chunks = [new_files[i : i + batch_size] for i in range(0, len(new_files), batch_size)]
        # While the sandbox workers parse chunk k, one thread lands chunk k+1 (file creation is
        # kernel time, outside the GIL) and another commits chunk k-1.
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-writer") as writer,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing") as lander,
        ):
            pending = None
            landing = (
                lander.submit(inbox.land_all, chunks[0], settings.landing_dir) if chunks else None
            )
            for k, chunk in enumerate(chunks):
                assert landing is not None
                landed = landing.result()
                if k + 1 < len(chunks):
                    landing = lander.submit(inbox.land_all, chunks[k + 1], settings.landing_dir)
                records: list = [None] * len(chunk)
                for index, result in reader(landed):
                    records[index] = _to_records(
                        chunk[index], result, resolver, run_id, now, logical_date
                    )
                if pending is not None:
                    pending.result()
                pending = writer.submit(_write_and_count, con, columns, records, summary)
            if pending is not None:
                pending.result()
    log.info("load: %s", summary.describe())
    return summary


def select_new_files(con, files: list[inbox.InboxFile], summary: LoadSummary) -> list:
    """The files whose content the ledger has not seen, each content once; counts the rest."""
    known = {r[0] for r in con.execute("select submission_id from submissions").fetchall()}
    new_files: list[inbox.InboxFile] = []
    for f in files:
        if f.sha256 in known:
            summary.files_already_known += 1
        else:
            known.add(f.sha256)  # a second copy in this run is a duplicate, not new
            new_files.append(f)
    summary.files_new = len(new_files)
    return new_files


def record_inbox_presence(con, files: list[inbox.InboxFile], run_id: str) -> None:
    """Mark which (path, content) pairs are in the inbox now; set-based (one statement)."""
    import pandas as pd

    seen = pd.DataFrame(
        {
            "source_file": pd.Series([f.source_file for f in files], dtype="str"),
            "sha256": pd.Series([f.sha256 for f in files], dtype="str"),
            "file_mtime": pd.Series([f.mtime for f in files], dtype="datetime64[us]"),
        }
    )
    con.execute("begin")
    try:
        con.execute("update inbox_files set in_inbox = false where in_inbox")
        con.register("seen_files", seen)
        con.execute(
            """insert into inbox_files
               select source_file, sha256, file_mtime, ?, ?, true from seen_files
               on conflict (source_file, sha256) do update
               set in_inbox = true, last_seen_run = excluded.last_seen_run""",
            [run_id, run_id],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("seen_files")


@dataclass
class _Records:
    submission: dict
    rows: list[dict]
    totals: list[dict]
    quarantine: list[dict]
    warnings: list[dict]


def _to_records(f, result, resolver, run_id, now, logical_date) -> _Records:
    base = {
        "submission_id": f.sha256,
        "source_file": f.source_file,
        "file_name": Path(f.source_file).name,
        "size_bytes": f.size_bytes,
        "file_mtime": f.mtime,
        "received_at": now,
        "status": "loaded",
        "unit_name": None,
        "unit_written": None,
        "year": None,
        "month": None,
        "report_date": None,
        "sheet": None,
        "reject_code": None,
        "reason_zh": None,
        "reason_en": None,
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "rows_ignored_blank": 0,
        "load_run_id": run_id,
        "identity_source": None,
    }
    if isinstance(result, SubmissionRejected):
        _attribute(base, result.hint or {}, f.source_file, resolver, logical_date)
        return _rejected(base, result.problem, f.source_file)
    parsed: ParsedSubmission = result
    base.update(
        unit_written=parsed.unit_written,
        year=parsed.year,
        month=parsed.month,
        report_date=parsed.report_date,
        sheet=parsed.sheet,
    )
    if not parsed.unit_written and resolver is not None:
        parsed.unit_written = resolver.find_in(parsed.heading_text)
        base["unit_written"] = parsed.unit_written
    problem = _check_identity(parsed, resolver, f.source_file, logical_date)
    if problem is not None:
        hint: dict[str, object] = {
            "unit_written": parsed.unit_written,
            "heading_text": parsed.heading_text,
        }
        if problem.code != "E_PERIOD":
            hint |= {"year": parsed.year, "month": parsed.month}
        _attribute(base, hint, f.source_file, resolver, logical_date)
        return _rejected(base, problem, f.source_file)
    base["unit_name"] = resolver.resolve(parsed.unit_written)
    base["identity_source"] = "sheet"

    rows, quarantine = [], []
    for row in parsed.rows:
        if row.problems:
            quarantine.append(_quarantine_record(f, parsed.sheet, row))
        else:
            rows.append(_row_record(f.sha256, parsed.sheet, row, parsed.columns))
    totals = []
    if parsed.total_row is not None:
        totals.append(
            {
                "submission_id": f.sha256,
                "sheet": parsed.sheet,
                "row_number": parsed.total_row.row_number,
            }
            | {c: parsed.total_row.values.get(c) for c in TOTAL_COLUMNS}
        )
    warnings = [
        {
            "submission_id": f.sha256,
            "sheet": w.sheet or parsed.sheet,
            "row_number": w.row_number,
            "code": w.code,
            "message_zh": w.message_zh,
            "message_en": w.message_en,
        }
        for w in parsed.warnings
    ]
    base.update(
        rows_read=parsed.rows_read,
        rows_loaded=len(rows),
        rows_quarantined=len(quarantine),
        rows_ignored_blank=parsed.rows_ignored_blank,
    )
    return _Records(base, rows, totals, quarantine, warnings)


def _check_identity(parsed, resolver, source_file, logical_date) -> Problem | None:
    where = {"source_file": source_file, "sheet": parsed.sheet}
    if not parsed.unit_written:
        return Problem("E_NO_UNIT", **where)
    if resolver is None or resolver.resolve(parsed.unit_written) is None:
        return Problem("E_UNKNOWN_UNIT", detail=parsed.unit_written, **where)
    if parsed.year is None or parsed.month is None:
        return Problem("E_NO_PERIOD", **where)
    latest = logical_date or date.today()
    written_zh, written_en = f"{parsed.year}年{parsed.month}月", f"{parsed.year}-{parsed.month:02d}"
    if not 1 <= parsed.month <= 12:
        return Problem(
            "E_PERIOD",
            detail=(
                f"{written_zh}的月份不在1-12之间",
                f"{written_en}: the month is not between 1 and 12",
            ),
            **where,
        )
    if parsed.year < EARLIEST_YEAR:
        return Problem(
            "E_PERIOD",
            detail=(
                f"{written_zh}早于{EARLIEST_YEAR}年",
                f"{written_en} is before {EARLIEST_YEAR}",
            ),
            **where,
        )
    if (parsed.year, parsed.month) > (latest.year, latest.month):
        return Problem(
            "E_PERIOD",
            detail=(
                f"{written_zh}晚于本次处理的月份（{latest.year}年{latest.month}月），是将来的月份",
                f"{written_en} is in the future of the month processed ({latest:%Y-%m})",
            ),
            **where,
        )
    return None


_PATH_YEAR_MONTH = re.compile(r"(?<!\d)(20\d{2})\s*(?:年|[-_.])?\s*(\d{1,2})(?!\d)")
_PATH_YEAR = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_PATH_MONTH = re.compile(r"(?<!\d)(\d{1,2})\s*月")


def _attribute(base: dict, hint: dict, source_file: str, resolver, logical_date) -> None:
    """Whose is a rejected file: the unit and period its sheet names, else a guess from its path.

    ``identity_source`` says which: ``sheet``, or ``file_name`` when any part was guessed from
    the folder and file name (the only_rejected flag and the e-mail mark it as a guess).
    """
    unit = resolver.resolve(hint.get("unit_written")) if resolver else None
    if unit is None and resolver is not None:
        unit = resolver.find_in(hint.get("heading_text"))
    year, month = hint.get("year"), hint.get("month")
    period = (year, month) if _plausible(year, month, logical_date) else None
    source = "sheet"
    if unit is None or period is None:
        path = source_file.removeprefix("submissions/")
        if unit is None and resolver is not None:
            unit = resolver.find_in(path)
            source = "file_name" if unit else source
        if period is None:
            period = _period_in_path(path, logical_date)
            source = "file_name" if period else source
    if unit is None and period is None:
        return
    base.update(
        unit_name=unit,
        year=period[0] if period else None,
        month=period[1] if period else None,
        identity_source=source,
    )


def _plausible(year, month, logical_date) -> bool:
    latest = logical_date or date.today()
    return (
        isinstance(year, int)
        and isinstance(month, int)
        and year >= EARLIEST_YEAR
        and 1 <= month <= 12
        and (year, month) <= (latest.year, latest.month)
    )


def _period_in_path(path: str, logical_date) -> tuple[int, int] | None:
    """2021年02月/会亭镇.xlsx, 会亭镇/2021/2月报表.xlsx, 202102.xlsx -> (2021, 2); else None."""
    for m in _PATH_YEAR_MONTH.finditer(path):
        if _plausible(int(m.group(1)), int(m.group(2)), logical_date):
            return int(m.group(1)), int(m.group(2))
    years = {int(y) for y in _PATH_YEAR.findall(path)}
    months = {int(mo) for mo in _PATH_MONTH.findall(path)}
    if len(years) == 1 and len(months) == 1:
        year, month = years.pop(), months.pop()
        if _plausible(year, month, logical_date):
            return year, month
    return None


def _rejected(base: dict, problem: Problem, source_file: str) -> _Records:
    problem.source_file = problem.source_file or source_file
    base.update(
        status="rejected",
        reject_code=problem.code,
        reason_zh=f"{problem.where_zh()}：{problem.message_zh}",
        reason_en=f"{problem.where_en()}: {problem.message_en}",
        sheet=problem.sheet or base["sheet"],
    )
    quarantine = [
        {
            "submission_id": base["submission_id"],
            "source_file": source_file,
            "sheet": problem.sheet,
            "row_number": problem.row_number,
            "column_name": problem.column_name,
            "column_letter": problem.column_letter,
            "header": problem.header,
            "raw_value": problem.raw_value,
            "reason_code": problem.code,
            "reason_zh": base["reason_zh"],
            "reason_en": base["reason_en"],
            "decision": "REJECT-FILE",
        }
    ]
    log.warning("rejected: %s", problem.full_message())
    return _Records(base, [], [], quarantine, [])


def _joined(values: Iterable[object]) -> str | None:
    parts = [str(v) for v in values if v not in (None, "")]
    return "；".join(dict.fromkeys(parts)) if parts else None


def _quarantine_record(f, sheet: str, row: ParsedRow) -> dict:
    problems = row.problems
    for p in problems:
        p.source_file = p.source_file or f.source_file
    return {
        "submission_id": f.sha256,
        "source_file": f.source_file,
        "sheet": sheet,
        "row_number": row.row_number,
        "column_name": _joined(p.column_name for p in problems),
        "column_letter": _joined(p.column_letter for p in problems),
        "header": _joined(p.header for p in problems),
        "raw_value": _joined(p.raw_value for p in problems),
        "reason_code": _joined(p.code for p in problems),
        "reason_zh": _joined(f"{p.where_zh()}：{p.message_zh}" for p in problems),
        "reason_en": _joined(f"{p.where_en()}: {p.message_en}" for p in problems),
        "decision": "QUARANTINE-ROW",
    }


PII_CELL = "（个人信息，已隐去）"


@functools.cache
def _pii_columns() -> frozenset[str]:
    """Contact columns: a bare name is not caught by the masks, so their cells are never kept."""
    return frozenset(c.canonical_name for c in column_map() if c.is_pii)


def _row_record(
    submission_id: str, sheet: str, row: ParsedRow, headers: dict[str, str] | None = None
) -> dict:
    record = {"submission_id": submission_id, "sheet": sheet, "row_number": row.row_number}
    for name, _sql in project_row_columns():
        record[name] = row.values.get(name)
    headers = headers or {}
    pii = _pii_columns()
    record["raw_cells"] = (
        _raw_cells_json(
            [
                [headers.get(name, name), PII_CELL if name in pii else text]
                for name, text in row.raw_values.items()
            ]
        )
        if row.raw_values
        else None
    )
    return record


# json.dumps builds a new encoder for every call with a non-default option; this one is reused.
_raw_cells_json = json.JSONEncoder(ensure_ascii=False).encode


def _as_text(value: object) -> str | None:
    """Values cross into DuckDB as text and are cast there, so Decimals stay exact."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _insert(con, table: str, columns: list[tuple[str, str]], records: list[dict]) -> None:
    """Bulk insert through a text DataFrame cast in SQL (executemany manages ~700 rows/s here)."""
    if not records:
        return
    view = f"incoming_{table}"
    con.register(view, text_frame(columns, records))
    try:
        con.execute(f"insert into {table} select {cast_list(columns)} from {view}")
    finally:
        con.unregister(view)


def text_frame(columns: list[tuple[str, str]], records: list[dict]):
    """Records as a DataFrame of text columns, one per ledger column (cast back by ``cast_list``)."""
    import pandas as pd

    return pd.DataFrame(
        {name: _text_column([r.get(name) for r in records]) for name, _sql in columns},
        dtype="str",
    )


_ALREADY_TEXT = frozenset({str, type(None)})


def _text_column(values: list[object]) -> list[object]:
    """``_as_text`` of each value; a column of text and NULLs (most of them) is kept as it is."""
    if _ALREADY_TEXT.issuperset(map(type, values)):
        return values
    return list(map(_as_text, values))


def cast_list(columns: list[tuple[str, str]]) -> str:
    return ", ".join(f"cast({name} as {sql})" for name, sql in columns)


def table_columns(con, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe {table}").fetchall()]


TABLES = ("submissions", "project_rows", "sheet_totals", "quarantine", "file_warnings")


def _write_and_count(con, columns, records: list[_Records], summary: LoadSummary) -> None:
    _write(con, columns, records)
    fail_point("load:after_commit")
    for rec in records:
        count_into(summary, rec)


def _write(con, columns: dict[str, list[tuple[str, str]]], records: list[_Records]) -> None:
    """One transaction for a chunk of whole submissions: all of each, or none.

    Only submissions whose sha256 is not in the ledger reach here, and a submission is only
    ever committed whole, so there is nothing of theirs to delete first.
    """
    con.execute("begin")
    try:
        for table, attr in zip(
            TABLES, ("submission", "rows", "totals", "quarantine", "warnings"), strict=False
        ):
            batch: list[dict[str, Any]] = []
            for r in records:
                value = getattr(r, attr)
                batch.extend([value] if isinstance(value, dict) else value)
            _insert(con, table, columns[table], batch)
        fail_point("load:before_commit")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def insert_parquet_batch(
    con, columns: dict[str, list[tuple[str, str]]], parquet: dict[str, str]
) -> None:
    """The distributed load's batch (``zhaoshang.batches``): each table from its Parquet file of
    text columns (``text_frame``), cast as the embedded load casts, in one transaction."""
    con.execute("begin")
    try:
        for table in TABLES:
            con.execute(
                f"insert into {table} select {cast_list(columns[table])} "
                f"from read_parquet({parquet[table]})"
            )
        fail_point("load:before_commit")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def count_into(summary: LoadSummary, rec: _Records) -> None:
    s = rec.submission
    if s["status"] == "rejected":
        summary.files_rejected += 1
        summary.rejected.append(
            {"source_file": s["source_file"], "code": s["reject_code"], "reason_zh": s["reason_zh"]}
        )
    else:
        summary.files_loaded += 1
    summary.rows_read += s["rows_read"]
    summary.rows_loaded += s["rows_loaded"]
    summary.rows_quarantined += s["rows_quarantined"]
    summary.rows_ignored_blank += s["rows_ignored_blank"]


def conservation_gaps(con) -> list[tuple[str, int]]:
    """Submissions whose rows_read != loaded + quarantined + blank (must be empty)."""
    return con.execute(
        """select s.source_file,
                  s.rows_read - s.rows_loaded - s.rows_quarantined - s.rows_ignored_blank as gap
           from submissions s where s.status = 'loaded' and
                s.rows_read <> s.rows_loaded + s.rows_quarantined + s.rows_ignored_blank
              or s.rows_loaded <> (select count(*) from project_rows p
                                   where p.submission_id = s.submission_id)"""
    ).fetchall()


def summary_json(summary: LoadSummary) -> str:
    return json.dumps(summary.as_dict(), ensure_ascii=False, default=str)
