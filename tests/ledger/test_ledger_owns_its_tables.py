"""The ledger package owns the ledger: every statement that creates, alters or writes a ledger
table is in ``zhaoshang.ledger``, and the ledger file is opened through ``zhaoshang.recovery``.

The tables come from ``zhaoshang.ledger.schema`` itself, so a table added there is guarded at once.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb

from zhaoshang.ledger import runs, schema

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "zhaoshang"
LEDGER_PACKAGE = PACKAGE / "ledger"

_NAME = r"(?:main\.)?\"?(\w+)\"?"
_WRITES = (
    re.compile(r"\bcreate\s+(?:or\s+replace\s+)?table\s+(?:if\s+not\s+exists\s+)?" + _NAME),
    re.compile(r"\balter\s+table\s+(?:if\s+exists\s+)?" + _NAME),
    re.compile(r"\bdrop\s+table\s+(?:if\s+exists\s+)?" + _NAME),
    re.compile(r"\binsert\s+(?:or\s+(?:replace|ignore)\s+)?into\s+" + _NAME),
    re.compile(r"\bupdate\s+" + _NAME + r"\s+set\b"),
    re.compile(r"\bdelete\s+from\s+" + _NAME),
    re.compile(r"\bcopy\s+" + _NAME + r"\s+from\b"),
)
# A bare open of the ledger file: it skips the WAL recovery and the wait for another process.
_BARE_OPEN = re.compile(r"duckdb\.connect\([^)]*ledger_path")


def ledger_writes(text: str, tables: set[str]) -> list[tuple[str, str]]:
    """(ledger table, statement start) for each statement in ``text`` that writes a ledger table."""
    found = []
    for pattern in _WRITES:
        for match in pattern.finditer(text.lower()):
            if match.group(1) in tables:
                found.append((match.group(1), " ".join(match.group(0).split())))
    return found


def _sources() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *(ROOT / "dags").rglob("*.py")])


def test_no_module_outside_the_ledger_package_writes_a_ledger_table():
    tables = set(schema.table_names())
    offenders = []
    for path in _sources():
        if LEDGER_PACKAGE in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [(str(path.relative_to(ROOT)), hit) for hit in ledger_writes(text, tables)]
        if path.name != "recovery.py" and _BARE_OPEN.search(text):
            offenders.append((str(path.relative_to(ROOT)), ("ledger", "duckdb.connect(ledger)")))
    assert offenders == []


def test_the_scan_sees_what_it_guards():
    """The scan finds the statements it forbids (the old positional runs insert among them) and
    every ledger table is created in schema.py and written by a module of the package."""
    tables = set(schema.table_names())
    assert {"submissions", "project_rows", "runs", "metrics", "alert_outbox", "alerted_flags"} <= (
        tables
    )
    assert {"receipt_files", "receipt_problems", "inbox_files", "quarantine"} <= tables
    old = """con.execute(
            "insert or replace into runs values (?, ?, ?, null, 'running', ?)","""
    assert ledger_writes(old, tables) == [("runs", "insert or replace into runs")]
    assert ledger_writes('con.execute("UPDATE alert_outbox SET sent_at = ?")', tables)
    assert not ledger_writes("insert into dq.gx_flags select 1; create table audit.metrics", tables)
    assert _BARE_OPEN.search("duckdb.connect(str(settings.ledger_path), read_only=True)")

    created = {t for t, _ in ledger_writes((LEDGER_PACKAGE / "schema.py").read_text(), tables)}
    assert created == tables
    written: set[str] = set()
    for path in LEDGER_PACKAGE.glob("*.py"):
        if path.name != "schema.py":
            written |= {t for t, s in ledger_writes(path.read_text(), tables)}
    # The loader writes its five tables through one f-string per table (insert into {table}).
    loader = {"submissions", "project_rows", "sheet_totals", "quarantine", "file_warnings"}
    assert tables - loader - written == set()


def test_a_run_row_is_started_then_published_by_name_not_position():
    with duckdb.connect(":memory:") as con:
        schema.create_schema(con)
        runs.record_loaded(con, "r1", date(2026, 3, 1), '{"files_seen": 1}')
        runs.record_published(con, "r1")
        runs.record_loaded(con, "r1", date(2026, 3, 1), '{"files_seen": 2}')  # a retried load
        row = con.execute(
            "select run_id, logical_date, status, finished_at is null, summary_json from runs"
        ).fetchall()
        assert row == [("r1", date(2026, 3, 1), "running", True, '{"files_seen": 2}')]
        runs.record_published(con, "r1")
        assert con.execute("select status, finished_at is not null from runs").fetchall() == [
            ("published", True)
        ]
